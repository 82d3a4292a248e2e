"""The ``learnlds`` command line: thin argument parsing over the library.

Library errors (``ValueError``) are printed as one line ``learnlds: error: ...`` and
the process exits with status 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .region import ProjectionError


def _cols(spec: str | None):
    """``"0,2"`` -> ``[0, 2]``; names stay strings; ``None`` stays ``None``."""
    if spec is None:
        return None
    out: list[int | str] = []
    for part in spec.split(","):
        part = part.strip()
        out.append(int(part) if part.lstrip("-").isdigit() else part)
    return out


def _load(path: str, input_col: str | None, output_col: str | None):
    from .datasets import IOData

    return IOData.from_file(path, input_cols=_cols(input_col), output_cols=_cols(output_col))


def _write_series(path: Path, columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    data = np.column_stack([np.asarray(columns[k], dtype=float) for k in names])
    if path.suffix == ".npz":
        np.savez(path, **columns)
    else:
        np.savetxt(path, data, delimiter=",", header=",".join(names), comments="", fmt="%.10g")


# --------------------------------------------------------------------------- commands
def cmd_simulate(args: argparse.Namespace) -> int:
    from .datasets import prbs
    from .systems import CanonicalSystem, load

    rng = np.random.default_rng(args.seed)
    if args.model:
        system = load(args.model)
    else:
        system = CanonicalSystem.random_stable(args.order, args.radius, rng, d=args.d)
    if args.input_file:
        data = _load(args.input_file, args.input_col, None)
        u = data.u1
    elif args.input == "prbs":
        u = prbs(args.length, rng=rng)
    else:
        u = rng.normal(size=args.length)
    y = system.simulate(u, noise_std=args.noise, rng=rng)
    out = Path(args.out)
    _write_series(out, {"u": u, "y": y})
    if args.save_model:
        system.save(args.save_model)
    print(f"simulated {system!r} for {u.size} samples -> {out}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from .estimator import LDSRegressor

    data = _load(args.data, args.input_col, args.output_col)
    if args.validation_fraction > 0:
        est_data, val_data = data.split(1.0 - args.validation_fraction)
    else:
        est_data, val_data = data, None
    model = LDSRegressor(
        order=args.order,
        method=args.method,
        overparam=args.overparam,
        region=None if args.region == "none" else args.region,
        burn_in=args.burn_in,
        steps=args.steps,
        lr=args.lr,
        clip=args.clip,
        init=args.init,
        progress=not args.quiet,
        random_state=args.seed,
    )
    t0 = time.perf_counter()
    u_e = est_data.u1 if est_data.n_inputs == 1 else est_data.u
    y_e = est_data.y1 if est_data.n_outputs == 1 else est_data.y
    model.fit(u_e, y_e)
    elapsed = time.perf_counter() - t0
    print(f"fitted order {args.order} ({args.method}) in {elapsed:.3f} s: {model.system_!r}")
    print(f"estimation fit: {model.score(u_e, y_e):.2f} %")
    if val_data is not None:
        # the validation part is centred on its own means, as the estimation part was
        from .validate import fit_percent

        vd = val_data.detrend()
        u_v = vd.u1 if vd.n_inputs == 1 else vd.u
        y_v = vd.y1 if vd.n_outputs == 1 else vd.y
        yhat = model.system_.simulate(u_v)
        print(
            f"validation fit (last {args.validation_fraction:.0%}, means removed): "
            f"{fit_percent(y_v, yhat):.2f} %"
        )
    out = Path(args.out)
    model.system_.save(
        out,
        input_offset=model.input_offset_.tolist(),
        output_offset=model.output_offset_.tolist(),
        dt=data.dt,
        source=str(args.data),
    )
    print(f"model written to {out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import json

    from .systems import load

    system = load(args.model)
    meta = json.loads(Path(args.model).read_text()).get("metadata", {})
    data = _load(args.data, args.input_col, args.output_col)
    u = data.u1 if system.is_siso else data.u
    u_off = np.asarray(meta.get("input_offset", [0.0]))
    y_off = np.asarray(meta.get("output_offset", [0.0]))
    yhat = system.simulate(u - (u_off[0] if system.is_siso else u_off))
    yhat = yhat + (y_off[0] if system.is_siso else y_off)
    cols = {"u": u, "yhat": yhat} if system.is_siso else {"yhat": yhat}
    if data.n_outputs == 1 and system.is_siso:
        from .validate import fit_percent

        print(f"fit against measured output: {fit_percent(data.y1, yhat):.2f} %")
    if args.out:
        _write_series(Path(args.out), cols)
        print(f"predictions written to {args.out}")
    else:
        np.savetxt(sys.stdout, np.atleast_2d(yhat).T if yhat.ndim == 1 else yhat, fmt="%.10g")
    return 0


def _say(msg: str) -> None:
    """Print a line without breaking a running tqdm progress bar."""
    from tqdm import tqdm

    tqdm.write(msg)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(
        args.out,
        steps=args.steps,
        data_path=args.data,
        progress=not args.quiet,
        lr=args.lr,
        region=None if args.region == "none" else args.region,
        seed=args.seed,
        log=_say,
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from .report import Scaling, model_fits, write_report
    from .systems import load

    system = load(args.model)
    if not system.is_siso:
        raise ValueError(f"{args.model}: the report draws single-input single-output models")
    meta = json.loads(Path(args.model).read_text()).get("metadata", {})
    data = _load(args.data, args.input_col, args.output_col)
    if not data.is_siso:
        raise ValueError(f"{args.data}: pick one input and one output (--input-col, --output-col)")
    split = 1.0 - args.validation_fraction
    if "input_offset" in meta and "output_offset" in meta:
        scaling = Scaling(float(meta["input_offset"][0]), 1.0, float(meta["output_offset"][0]), 1.0)
    else:
        est, _ = data.split(split)
        scaling = Scaling(float(est.u1.mean()), 1.0, float(est.y1.mean()), 1.0)
    fit_est, fit_val = model_fits(system, data, scaling, split)
    page = write_report(
        args.out,
        data=data,
        model=system,
        scaling=scaling,
        split=split,
        title=f"learnlds report: {Path(args.model).name} on {Path(args.data).name}",
        notes=[f"Model {args.model} on data {args.data}."],
    )
    print(f"estimation fit {fit_est:.2f} %, validation fit {fit_val:.2f} %")
    print(f"report written to {page}")
    return 0


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnlds",
        description="Learn linear dynamical systems by projected gradient descent.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="simulate a given or random system and write CSV")
    p.add_argument("--model", help="model JSON (default: a random stable system)")
    p.add_argument("--order", type=int, default=3)
    p.add_argument("--radius", type=float, default=0.9, help="pole radius of the random system")
    p.add_argument("--d", type=float, default=0.0, help="feed-through of the random system")
    p.add_argument("--length", type=int, default=1000)
    p.add_argument("--input", choices=("gaussian", "prbs"), default="gaussian")
    p.add_argument("--input-file", help="read the input from a data file instead")
    p.add_argument("--input-col", help="input column (name or 0-based index)")
    p.add_argument("--noise", type=float, default=0.0, help="output noise standard deviation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="simulated.csv")
    p.add_argument("--save-model", help="also write the simulated system as JSON")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("fit", help="learn a model from a data file (CSV, .dat, .npz)")
    p.add_argument("data")
    p.add_argument("--order", type=int, default=3)
    p.add_argument("--input-col", help="input column(s), names or 0-based indices, comma separated")
    p.add_argument("--output-col", help="output column(s)")
    p.add_argument("--method", choices=("gn", "psgd"), default="gn")
    p.add_argument("--overparam", type=int, help="learn at this order, then reduce")
    p.add_argument(
        "--region",
        choices=("auto", "pacman", "none"),
        default="auto",
        help="auto: Pac-Man region for psgd, stability only for gn",
    )
    p.add_argument("--burn-in", type=int, default=0)
    p.add_argument("--steps", type=int, default=400, help="psgd steps")
    p.add_argument("--lr", type=float, default=0.05, help="psgd learning rate")
    p.add_argument("--clip", type=float, help="psgd gradient-norm clip")
    p.add_argument("--init", choices=("zero", "identity"), default="zero")
    p.add_argument("--validation-fraction", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", default="model.json")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="simulate a saved model on a data file's input")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--input-col")
    p.add_argument("--output-col")
    p.add_argument("--out", help="CSV/.npz to write (default: print to stdout)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("demo", help="the post's demo on the hair dryer, with an HTML report")
    p.add_argument("--out", default="learnlds-demo", help="report folder")
    p.add_argument("--steps", type=int, default=400, help="SGD steps")
    p.add_argument("--data", help="dryer.dat (or a folder holding it, or a data file)")
    p.add_argument("--lr", type=float, default=0.01, help="fixed learning rate")
    p.add_argument("--region", choices=("none", "pacman"), default="none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="HTML report of a saved model on a data file")
    p.add_argument("model", help="model JSON written by learnlds fit")
    p.add_argument("data")
    p.add_argument("--input-col")
    p.add_argument("--output-col")
    p.add_argument("--validation-fraction", type=float, default=0.5)
    p.add_argument("--out", default="learnlds-report", help="report folder")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, ProjectionError) as exc:
        print(f"learnlds: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
