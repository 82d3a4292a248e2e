"""The ``learnlds`` command line: thin argument parsing over the library.

Data go to stdout, messages to stderr. Library errors are printed as one line
``learnlds: error: ...`` and the process exits with status 2; Ctrl-C ends with one
line and status 130; a closed pipe ends quietly. Output files are checked before
any work starts and written atomically (written first, reported after).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_open, check_output_folder, check_output_path
from .errors import DataError, LearnLDSError, ParameterError

__all__ = ["build_parser", "main"]


def _say(msg: str) -> None:
    """A message line on stderr, without breaking a running tqdm progress bar."""
    from tqdm import tqdm

    tqdm.write(msg, file=sys.stderr)


Columns = str | list[str] | None
"""A column option: ``--input-col`` text (names or indices, comma separated), or the
names a model was fitted on (a list, from its file's metadata)."""


def _cols(spec: Columns) -> list[int | str] | None:
    """``"0,2"`` -> ``[0, 2]``; names stay strings; ``None`` stays ``None``; a list (of
    saved column names, never indices) is taken as it is."""
    if spec is None or isinstance(spec, list):
        return spec  # type: ignore[return-value]
    out: list[int | str] = []
    for part in spec.split(","):
        part = part.strip()
        out.append(int(part) if part.lstrip("-").isdigit() else part)
    return out


def _read(path: str, input_col: Columns, output_col: Columns) -> Any:
    """A data file, or (no such file) a DaISy set by name (``learnlds datasets``), as
    ``IOData`` with the chosen columns."""
    from .datasets import IOData
    from .datasets.daisy import DAISY, load_daisy

    if not Path(path).exists():
        names = {k.lower(): k for k in DAISY}
        if path.lower() in names:
            data = load_daisy(names[path.lower()])
            if input_col is None and output_col is None:
                return data
            return data.select(_cols(input_col), _cols(output_col))
        if not Path(path).suffix:
            raise FileNotFoundError(f"{path}: no such file, nor a DaISy set ({', '.join(DAISY)})")
    return IOData.from_file(path, input_cols=_cols(input_col), output_cols=_cols(output_col))


def _load(path: str, input_col: Columns, output_col: Columns, dt: float | None = None) -> Any:
    """Read a data file or DaISy set, say on stderr which columns were used, apply ``--dt``."""
    import dataclasses

    data = _read(path, input_col, output_col)
    if dt is not None:
        data = dataclasses.replace(data, dt=dt)
    _say(
        f"{Path(path).name}: {len(data)} samples; inputs {', '.join(data.input_names)}; "
        f"outputs {', '.join(data.output_names)}" + (f"; dt {data.dt:g}" if data.dt else "")
    )
    if data.column_note:  # it names the file already
        _say(data.column_note)
    return data


_SERIES_SUFFIXES = (".csv", ".npz")


def _series_path(text: str, what: str = "--out") -> Path:
    """An output path for :func:`_write_series`: writable, and a suffix it writes (never
    a CSV silently written under another name)."""
    path = check_output_path(text, what)
    if path.suffix.lower() not in _SERIES_SUFFIXES:
        got = f"a {path.suffix} file" if path.suffix else f"{path.name!r} (no suffix)"
        raise ParameterError(
            f"{what}: cannot write {got}; use one of {', '.join(_SERIES_SUFFIXES)}"
        )
    return path


def _write_series(path: Path, columns: dict[str, np.ndarray]) -> None:
    """CSV (header row) or ``.npz`` of equal-length columns, written atomically."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    if path.suffix.lower() == ".npz":
        with atomic_open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return
    flat: dict[str, np.ndarray] = {}
    for k, v in arrays.items():
        if v.ndim == 1:
            flat[k] = v
        else:
            for j in range(v.shape[1]):
                flat[f"{k}{j + 1}"] = v[:, j]
    with atomic_open(path, "w", newline="") as fh:
        np.savetxt(
            fh,
            np.column_stack(list(flat.values())),
            delimiter=",",
            header=",".join(flat),
            comments="",
            fmt="%.10g",
        )


def _offset(meta: dict[str, Any], key: str, count: int, path: str) -> np.ndarray:
    from ._boundary import as_float_array
    from .errors import FileFormatError

    raw = meta.get(key, [0.0] * count)
    arr = as_float_array(raw, f"{path}: {key}", ndim=(0, 1)).reshape(-1)
    if arr.size != count:
        raise FileFormatError(f"{path}: {key} has {arr.size} values, the model has {count}")
    return arr


# --------------------------------------------------------------------------- commands
def cmd_simulate(args: argparse.Namespace) -> int:
    """``learnlds simulate``: a given or random stable system driven by a chosen input."""
    from ._boundary import check_random_state
    from .datasets import prbs
    from .modelfile import load_with_metadata
    from .systems import CanonicalSystem

    out = _series_path(args.out)
    save = check_output_path(args.save_model, "--save-model") if args.save_model else None
    rng = check_random_state(args.random_state)
    meta: dict[str, Any] = {}
    if args.model:
        system, meta = load_with_metadata(args.model)
    else:
        system = CanonicalSystem.random_stable(args.order, args.radius, rng, d=args.d)
    if not system.is_stable() and not args.allow_unstable:
        raise LearnLDSError(
            f"the system is unstable (spectral radius {system.spectral_radius():.3g}): its "
            "output grows without bound; pass --allow-unstable to simulate it anyway"
        )
    m = system.n_inputs
    if args.input_file:
        u = _model_inputs(system, args.input_file, args.input_col, None, meta)[0]
    elif args.input == "prbs":
        u = np.column_stack([prbs(args.length, random_state=rng) for _ in range(m)])
    else:
        u = rng.normal(size=(args.length, m))
    u = u[:, 0] if system.is_siso and u.ndim == 2 else u
    if isinstance(system, CanonicalSystem):
        y = system.simulate(u, noise_std=args.noise, random_state=rng)
    else:  # a state-space model: its noise-free output plus white noise
        y = system.simulate(u)
        y = y + args.noise * rng.normal(size=y.shape)
    _write_series(out, {"u": u, "y": y})
    if save is not None:
        system.save(save)
    _say(f"simulated {system!r} for {len(u)} samples -> {out}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    """``learnlds fit``: learn a model, report estimation/validation fits, write the JSON."""
    from .records import streaming_io
    from .validate import _streamed_fits, holdout_fits, input_coverage

    out = check_output_path(args.out, "--out")
    if args.resume and not args.checkpoint:
        raise ParameterError("--resume: needs --checkpoint FILE, the training state to continue")
    if args.checkpoint:
        check_output_path(args.checkpoint, "--checkpoint")
    u, y, dt, input_names, columns = _fit_data(args)
    frac = args.validation_fraction
    cut = _estimation_samples(u.shape[0], frac)
    model = _estimator(args)
    t0 = time.perf_counter()
    model.fit(_head(u, cut), _head(y, cut), dt=dt)
    elapsed = time.perf_counter() - t0
    model.system_.save(
        out,
        input_offset=model.input_offset_.tolist(),
        output_offset=model.output_offset_.tolist(),
        dt=dt,
        source=str(args.data),
        **columns,
    )
    chosen = f"order {model.order_}" + (" (chosen)" if args.order == "auto" else "")
    how = args.method if args.criterion == "simulation" else f"{args.method}, prediction error"
    _say(f"fitted {chosen}, {model.structure_} ({how}) in {elapsed:.3f} s: {model.system_!r}")
    if args.input_delay == "auto":
        delays = ", ".join(map(str, model.input_delay_))
        _say(f"input delay (estimated, in samples): {delays}; system_ carries it as states")
    if model.order_scores_:
        scores = ", ".join(f"{k}: {v:.1f}" for k, v in model.order_scores_.items())
        what = (
            "information criterion, lower is better"
            if args.order_selection == "bic"
            else "inner hold-out fit %, initial state and offsets fitted"
        )
        _say(f"order scores ({what}): {scores}")
    if frac > 0:  # the protocol; a record on disk is read a block at a time, never whole
        est, val = holdout_fits(model.system_, u, y, split=cut / u.shape[0])
        _say(f"estimation fit: {np.mean(est):.2f} % (first {cut} samples, means removed)")
        _say(f"validation fit: {np.mean(val):.2f} % (last {frac:.0%}, means removed)")
        if input_names is not None:  # in memory: is the validation an extrapolation?
            _say_extrapolation(input_coverage(u[:cut], u[cut:]), input_names)
    else:
        whole = _streamed_fits(model.system_, streaming_io(u, y), 0, u.shape[0])
        _say(f"estimation fit: {np.mean(whole):.2f} % (means removed)")
    _say(f"model written to {out}")
    return 0


def _head(arr: Any, cut: int) -> Any:
    """The first ``cut`` samples: a view of an array, an unread window of a zarr store."""
    from .records import StoreWindow, is_chunked_store

    return StoreWindow(arr, 0, cut) if is_chunked_store(arr) else arr[:cut]


def _data_options(p: argparse.ArgumentParser, saved: bool = False) -> None:
    """The options ``fit``, ``report`` and ``compare`` share: channels, validation part,
    sample time (``saved``: a saved model's columns are the default)."""
    by_name = " (default: the columns the model was fitted on, found by name)"
    p.add_argument(
        "--input-col",
        help="input column(s), names or 0-based indices, comma separated" + by_name * saved,
    )
    p.add_argument("--output-col", help="output column(s)")
    p.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=0.5,
        help="last part of the record held out for validation",
    )
    p.add_argument("--dt", type=_positive, help="sample time (default: from the file, if any)")


def _fit_data(
    args: argparse.Namespace,
) -> tuple[Any, Any, float | None, list[str] | None, dict[str, list[str]]]:
    """``(u, y, dt, input names, header columns)``: a data file read whole, or an
    ``.npy`` record memory-mapped (names ``None``, no header columns: on disk).

    ``.npy`` records (or a folder of ``u.npy``/``y.npy``) are fitted where they lie
    and streamed by the solvers, never loaded whole.
    """
    p = Path(args.data)
    if p.suffix == ".zarr":
        return _zarr_data(args)
    if p.suffix == ".npy" or (p.is_dir() and (p / "u.npy").exists()):
        from .datasets.readers import open_npy

        u, y = open_npy(args.data, _cols(args.input_col), _cols(args.output_col))
        _say(
            f"{args.data}: {len(u)} samples on disk; {u.shape[1]} input(s), {y.shape[1]} output(s)"
        )
        return (
            (u[:, 0] if u.shape[1] == 1 else u),
            (y[:, 0] if y.shape[1] == 1 else y),
            args.dt,
            None,
            {},
        )
    data = _load(args.data, args.input_col, args.output_col, args.dt)
    u = data.u1 if data.n_inputs == 1 else data.u
    y = data.y1 if data.n_outputs == 1 else data.y
    return u, y, data.dt, list(data.input_names), _header_columns(data, args.data)


def _header_columns(data: Any, path: str) -> dict[str, list[str]]:
    """The names of the columns fitted (saved with the model so that ``predict``,
    ``report`` and ``compare`` find them by name): a text file's header names, an
    ``.npz`` archive's channel names; none for a text file without a header."""
    used = data.columns_used
    if used is None and Path(path).suffix.lower() == ".npz":
        used = (data.input_names, data.output_names)  # IOData.select finds them by name
    if used is None or (tuple(used[0]), tuple(used[1])) != (data.input_names, data.output_names):
        return {}
    return {"input_columns": list(used[0]), "output_columns": list(used[1])}


def _zarr_data(args: argparse.Namespace) -> tuple[Any, Any, float | None, None, dict[str, Any]]:
    """A zarr group with arrays ``u`` and ``y``: streamed by the solvers, never loaded."""
    from .datasets.readers import open_zarr

    if args.input_col is not None or args.output_col is not None:
        raise ParameterError(
            "--input-col/--output-col: a .zarr record is its arrays u and y; choose "
            "channels when writing it"
        )
    u, y = open_zarr(args.data)
    m, p = (u.shape[1] if len(u.shape) == 2 else 1), (y.shape[1] if len(y.shape) == 2 else 1)
    _say(f"{args.data}: {u.shape[0]} samples on disk; {m} input(s), {p} output(s)")
    return u, y, args.dt, None, {}


def _estimator(args: argparse.Namespace) -> Any:
    from .estimator import LDSRegressor

    return LDSRegressor(
        order=args.order,
        structure=args.structure,
        method=args.method,
        overparam=args.overparam,
        region=None if args.region == "none" else args.region,
        burn_in=args.burn_in,
        steps=args.steps,
        lr=args.lr,
        clip=args.clip,
        init=args.init,
        progress=False if args.quiet else ("lines" if args.progress else True),
        random_state=args.random_state,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        force=args.force,
        input_delay=args.input_delay,
        order_selection=args.order_selection,
        criterion=args.criterion,
    )


def _column_choices(
    meta: dict[str, Any], input_col: str | None, output_col: str | None
) -> list[tuple[Columns, Columns]]:
    """Columns to try, in order: the options given; without options, the header names
    the model was fitted on (with its outputs, then inputs alone), then the file's
    default columns. Read by position, a file with the same columns in another order
    would feed the model the wrong inputs."""
    ins, outs = meta.get("input_columns"), meta.get("output_columns")
    if input_col is not None or output_col is not None or not _names(ins):
        return [(input_col, output_col)]
    first = [(ins, outs)] if _names(outs) else []  # lists: names, even ones like "10"
    return [*first, (ins, None), (None, None)]


def _names(value: Any) -> bool:
    """Whether a saved metadata value is a non-empty list of column names."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _load_saved_columns(
    meta: dict[str, Any], path: str, input_col: str | None, output_col: str | None, **kw: Any
) -> tuple[Any, Columns]:
    """:func:`_load` with the first of :func:`_column_choices` that the file has;
    ``(data, input columns used)``. A table without an output column raises the reader's
    :class:`NoOutputColumnError` carrying the input columns tried (``exc.input_col``)."""
    from .datasets.columns import UnknownColumnError
    from .datasets.readers import NoOutputColumnError

    choices = _column_choices(meta, input_col, output_col)
    for k, (icol, ocol) in enumerate(choices):
        try:
            return _load(path, icol, ocol, **kw), icol
        except UnknownColumnError as exc:
            if k == len(choices) - 1:
                raise
            if exc.role == "input":  # not there by name: the file's own columns, said
                _say(
                    f"{Path(path).name}: no columns {','.join(icol or [])} (the model's inputs "
                    "when it was fitted); columns chosen by position"
                )
                return _load(path, None, None, **kw), None
        except NoOutputColumnError as exc:
            exc.input_col = icol  # type: ignore[attr-defined]
            raise
    raise AssertionError("unreachable: the last choice returns or raises")  # pragma: no cover


def _inputs_only(
    path: str,
    input_col: Columns | list[int],
    n_inputs: int,
    parsed: Any,
    why: str = "no output column",
) -> np.ndarray:
    """A text table's input columns only, from the table the reader already parsed
    (``parsed``; ``None``: read the file), said on stderr."""
    from .datasets.readers import _inputs_of_parsed, read_inputs

    cols = _cols(input_col) if isinstance(input_col, str | None) else input_col
    if parsed is None:
        u, names = read_inputs(path, n_inputs, cols)
    else:
        u, names = _inputs_of_parsed(parsed, path, n_inputs, cols)
    _say(f"{Path(path).name}: {len(u)} samples of input(s) {', '.join(names)}; {why}")
    return u


def _model_inputs(
    system: Any, path: str, input_col: str | None, output_col: str | None, meta: dict[str, Any]
) -> tuple[np.ndarray, Any, bool]:
    """A saved model's inputs from a data file: ``(u, data, measured)``.

    The chosen input columns; without options, the columns the model was fitted on
    when the file has them by name; else every column when the file holds exactly the
    model's inputs (``measured`` is then False: no output column). A column count that
    differs from the model's is an error, never a broadcast.
    """
    from .datasets.readers import NonFiniteOutputError, NoOutputColumnError

    try:
        data, input_col = _load_saved_columns(meta, path, input_col, output_col)
    except NoOutputColumnError as exc:  # a table of inputs only: simulate, nothing to compare
        input_col = getattr(exc, "input_col", input_col)
        u = _inputs_only(path, input_col, system.n_inputs, exc.parsed)
        return (u[:, 0] if system.is_siso else u), None, False
    except NonFiniteOutputError as exc:  # only the inputs are used: a bad output is no matter
        _say(f"{str(exc).rsplit('; ', 1)[0]}: an output, so nothing is compared with it")
        u = _inputs_only(path, exc.input_cols, system.n_inputs, exc.parsed, "output not used")
        return (u[:, 0] if system.is_siso else u), None, False
    u, measured = data.u, True
    columns = data.n_inputs + data.n_outputs
    if data.n_inputs != system.n_inputs and input_col is None and output_col is None:
        if columns == system.n_inputs:  # a file of the model's inputs only
            _refuse_output_names(data.output_names, path, columns)
            u, measured = np.column_stack((data.u, data.y)), False
            _say(f"{Path(path).name}: all {columns} columns are the model's inputs")
    if u.shape[1] != system.n_inputs:  # numpy would broadcast one column over several
        raise DataError(
            f"{path}: {data.n_inputs} input column(s) ({', '.join(data.input_names)}) "
            f"but the model takes {system.n_inputs}; choose them with --input-col"
        )
    return (u[:, 0] if system.is_siso else u), data, measured


_OUTPUT_NAME = re.compile(r"^(y|yhat|y_?hat|out|outputs?|response|measured)[ _.-]?\d*$")
"""Header names of an output (``y``, ``y2``, ``output_1``, ...), units stripped."""


def _refuse_output_names(names: Sequence[str], path: str, columns: int) -> None:
    """Refuse to take, unasked, a column named like an output as one of the model's inputs:
    a ``u,y`` file for a two-input model would otherwise be simulated on its output."""
    like = [n for n in names if _OUTPUT_NAME.match(re.sub(r"\s*[\(\[\{].*$", "", n).lower())]
    if like:
        raise DataError(
            f"{path}: the model takes {columns} inputs and the file has {columns} columns, but "
            f"{', '.join(repr(n) for n in like)} looks like an output; name the input columns "
            "with --input-col (e.g. --input-col 0,1) to use them anyway"
        )


def cmd_predict(args: argparse.Namespace) -> int:
    """``learnlds predict``: simulate a saved model on a data file's input."""
    from .modelfile import load_with_metadata
    from .validate import fit_percent

    out = _series_path(args.out) if args.out else None
    system, meta = load_with_metadata(args.model)
    u, data, measured = _model_inputs(system, args.data, args.input_col, args.output_col, meta)
    u_off = _offset(meta, "input_offset", system.n_inputs, args.model)
    y_off = _offset(meta, "output_offset", system.n_outputs, args.model)
    yhat = system.simulate(u - (u_off[0] if system.is_siso else u_off))
    yhat = yhat + (y_off[0] if system.is_siso else y_off)
    if out is not None:
        _write_series(out, {"u": u, "yhat": yhat} if system.is_siso else {"yhat": yhat})
        _say(f"predictions written to {out}")
    else:
        buf = io.StringIO()
        np.savetxt(buf, np.atleast_2d(yhat).T if yhat.ndim == 1 else yhat, fmt="%.10g")
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()
    if measured and data.n_outputs == system.n_outputs:
        y = data.y1 if system.n_outputs == 1 else data.y
        _say(f"fit against measured output: {fit_percent(y, yhat):.2f} %")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``learnlds compare``: saved models side by side on one data file (MATLAB's ``compare``).

    Scores the part ``fit`` validates on (the last ``--validation-fraction``; 0: the whole
    record), centred on its own means, each model simulated from zero state (or from the
    initial state that best explains the part, ``--x0 estimate``). A table on stdout.
    """
    from .modelfile import load_with_metadata
    from .validate import compare, fit_percent, input_coverage

    plot = _plot_path(args.plot) if args.plot else None
    read = {path: load_with_metadata(path) for path in args.models}
    loaded = {path: system for path, (system, _) in read.items()}
    metas = [meta for _, meta in read.values()]
    same = all(
        _column_choices(m, None, None) == _column_choices(metas[0], None, None) for m in metas
    )
    meta = metas[0] if same else {}  # models fitted on other columns: the file's defaults
    if not same and args.input_col is None and args.output_col is None:
        _say(
            "the models were fitted on differently named columns; the file's default "
            "columns are used for all of them (choose with --input-col/--output-col)"
        )
    data = _load_saved_columns(meta, args.data, args.input_col, args.output_col, dt=args.dt)[0]
    for path, model in loaded.items():
        _check_columns(model, data, args.data, path)
    models = _named_models(loaded)
    frac = args.validation_fraction
    start = _estimation_samples(len(data), frac) if frac > 0 else 0
    u, y = (
        data.u[start:] - data.u[start:].mean(axis=0),
        data.y[start:] - data.y[start:].mean(axis=0),
    )
    if data.n_inputs == data.n_outputs == 1:
        u, y = u[:, 0], y[:, 0]
    results = compare(models, u, y, x0=args.x0)
    where = f"samples {start} to {len(data) - 1}" if start else "the whole record"
    _say(f"{Path(args.data).name}: {where}, centred; x0 {args.x0}")
    if start:  # as fit and report: is the part scored an extrapolation from the fitted one?
        _say_extrapolation(input_coverage(data.u[:start], data.u[start:]), data.input_names)
    names = ", ".join(data.output_names)
    rows = ["model\tfit %\t" + "\t".join(f"fit % {n}" for n in data.output_names)]
    for name, (yhat, fit) in results.items():
        per = np.atleast_1d(fit_percent(y, yhat, multioutput="raw_values"))
        rows.append(f"{name}\t{fit:.2f}\t" + "\t".join(f"{v:.2f}" for v in per))
    sys.stdout.write("\n".join(rows) + "\n")
    sys.stdout.flush()
    if plot is not None:
        from . import plots

        fig = plots.compare_plot(models, u, y, dt=data.dt, title=f"{data.name}: {names}")
        with atomic_open(plot, "wb") as fh:
            fig.savefig(fh, format=plot.suffix.lstrip(".").lower() or "png", dpi=120)
        _say(f"figure written to {plot}")
    return 0


def _plot_path(text: str) -> Path:
    """``--plot``: a writable path whose suffix matplotlib can write (none: PNG)."""
    from matplotlib.backend_bases import FigureCanvasBase

    path = check_output_path(text, "--plot")
    kinds = FigureCanvasBase.get_supported_filetypes()
    if path.suffix and path.suffix.lstrip(".").lower() not in kinds:
        raise ParameterError(
            f"--plot: cannot draw into a {path.suffix} file; use one of "
            + ", ".join(sorted(f".{k}" for k in kinds))
        )
    return path


def _named_models(loaded: dict[str, Any]) -> dict[str, Any]:
    """``{file stem: model}`` from ``{path: model}``; the whole path where two stems are
    the same."""
    stems = [Path(p).stem for p in loaded]
    return {(Path(p).stem if stems.count(Path(p).stem) == 1 else p): m for p, m in loaded.items()}


def cmd_demo(args: argparse.Namespace) -> int:
    """``learnlds demo``: the post's hair-dryer demo with its HTML report."""
    from .demo import run_demo

    _check_report_folder(args.out)
    run_demo(
        args.out,
        steps=args.steps,
        data_path=args.data,
        progress=not args.quiet,
        **({} if args.lr is None else {"lr": args.lr}),
        region=None if args.region == "none" else args.region,
        random_state=args.random_state,
        log=_say,
    )
    return 0


def _check_report_folder(text: str) -> None:
    """``--out`` of a report: a folder, or a new one in an existing writable folder."""
    folder = check_output_folder(text, "--out")
    if not folder.is_dir():
        check_output_path(folder, "--out")  # the folder that will hold it must exist


def cmd_report(args: argparse.Namespace) -> int:
    """``learnlds report``: the HTML report of a saved model on a data file.

    A SISO model on one input and one output gets the post's report
    (:func:`learnlds.report.write_report`); any other model gets the report of
    :func:`learnlds.model_report.write_model_report` (one figure per output, fits per output).
    """
    from .model_report import _FIGURE_FORMATS, _write_model_report
    from .modelfile import load_with_metadata
    from .report import Scaling, write_report
    from .statespace import StateSpaceSystem
    from .validate import extrapolation_note, holdout

    _check_report_folder(args.out)
    if args.validation_fraction == 0:
        raise ParameterError("--validation-fraction: the report needs a validation part, got 0")
    system, meta = load_with_metadata(args.model)
    data = _load_saved_columns(meta, args.data, args.input_col, args.output_col, dt=args.dt)[0]
    _check_columns(system, data, args.data, args.model)
    cut = _estimation_samples(len(data), args.validation_fraction)  # where fit cut
    split = cut / len(data)
    title = f"learnlds report: {Path(args.model).name} on {Path(args.data).name}"
    notes = [f"Model {args.model} on data {args.data}."]
    if not system.is_siso:
        offsets = (
            _saved_offset(meta, "input_offset", system.n_inputs, args.model),
            _saved_offset(meta, "output_offset", system.n_outputs, args.model),
        )
        page, fits = _write_model_report(
            args.out, data, system, split, offsets, (title, notes), (True, _FIGURE_FORMATS), None
        )
        return _reported(
            fits, page, data, extrapolation_note(fits.input_coverage, data.input_names)
        )
    if isinstance(system, StateSpaceSystem):
        system = system.to_canonical()  # the post's report draws the canonical form
    res = holdout(system, data.u1, data.y1, split=split)
    note = extrapolation_note(res.input_coverage, data.input_names)
    notes += [f"Note: {note}."] if note else []
    u_off = (
        _offset(meta, "input_offset", 1, args.model)[0]
        if meta
        else _estimation_mean(data.u1, split)
    )
    y_off = (
        _offset(meta, "output_offset", 1, args.model)[0]
        if meta
        else _estimation_mean(data.y1, split)
    )
    page = write_report(
        args.out,
        data=data,
        model=system,
        scaling=Scaling(float(u_off), 1.0, float(y_off), 1.0),
        split=split,
        title=title,
        notes=notes,
    )
    return _reported(res, page, data, note)


def _check_columns(system: Any, data: Any, data_path: str, model_path: str) -> None:
    """The data's chosen columns must be the model's inputs and outputs, one for one."""
    if (data.n_inputs, data.n_outputs) == (system.n_inputs, system.n_outputs):
        return
    raise DataError(
        f"{data_path}: {data.n_inputs} input column(s) ({', '.join(data.input_names)}) and "
        f"{data.n_outputs} output column(s) ({', '.join(data.output_names)}), but the model "
        f"{model_path} takes {system.n_inputs} input(s) and gives {system.n_outputs} "
        "output(s); choose them with --input-col and --output-col (names or 0-based "
        "indices, comma separated)"
    )


def _saved_offset(meta: dict[str, Any], key: str, count: int, path: str) -> np.ndarray | None:
    """A saved offset, or ``None`` (the report then uses the estimation part's means)."""
    return _offset(meta, key, count, path) if key in meta else None


def _reported(res: Any, page: Path, data: Any, note: str | None) -> int:
    """Say the protocol's fits (averaged over outputs, then per output), the note that
    the validation inputs lie outside the estimation band (when there is one; the page
    carries the same note), and the page."""
    _say(f"estimation fit {res.estimation_fit:.2f} %, validation fit {res.validation_fit:.2f} %")
    names = data.output_names
    if len(names) > 1:
        fits = ", ".join(f"{n} {v:.2f} %" for n, v in zip(names, res.validation_fits, strict=True))
        _say(f"validation fit per output: {fits}")
    _say_note(note)
    _say(f"report written to {page}")
    return 0


def _say_extrapolation(coverage: Any, input_names: Sequence[str]) -> None:
    """``note: ...`` on stderr when the validation inputs lie outside the estimation band
    (:func:`learnlds.validate.extrapolation_note`); nothing otherwise."""
    from .validate import extrapolation_note

    _say_note(extrapolation_note(coverage, input_names))


def _say_note(note: str | None) -> None:
    """``note: ...`` on stderr, when there is a note."""
    if note:
        _say(f"note: {note}")


def _estimation_samples(length: int, validation_fraction: float) -> int:
    """Samples ``fit`` estimates on (the rest validates); ``report`` cuts at the same one,
    and both where :func:`learnlds.validate.holdout` does (odd lengths used to differ)."""
    from .validate import _split_index

    return _split_index(length, 1.0 - validation_fraction)


def _estimation_mean(signal: np.ndarray, split: float) -> float:
    """Mean of the estimation part of ``signal`` (the offset a model without metadata gets)."""
    from .validate import _split_index

    return float(signal[: _split_index(signal.size, split)].mean())


def cmd_datasets(args: argparse.Namespace) -> int:
    """``learnlds datasets``: the DaISy registry, and where each set can be had."""
    from .datasets import DAISY, find_daisy

    rows = ["name\tsamples x columns\tinputs\toutputs\tavailable\tdescription"]
    for name, entry in DAISY.items():
        found = find_daisy(name)
        if entry.shipped:
            where = "shipped"
        elif found is not None:
            where = f"local ({found})"
        else:
            where = "downloadable"
        shape = f"{entry.shape[0]} x {entry.shape[1]}"
        first = entry.description.split(". ")[0]
        rows.append(f"{name}\t{shape}\t{len(entry.inputs)}\t{len(entry.outputs)}\t{where}\t{first}")
    sys.stdout.write("\n".join(rows) + "\n")
    return 0


# --------------------------------------------------------------------------- parser
def _int_at_least(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def _order(text: str) -> int | str:
    if text == "auto":
        return text
    return _int_at_least(1)(text)


def _delays(text: str) -> int | list[int] | str:
    """``--input-delay``: one delay, comma-separated delays (one per input), or 'auto'."""
    if text.strip() == "auto":
        return "auto"
    values = [_int_at_least(0)(part.strip()) for part in text.split(",")]
    return values[0] if len(values) == 1 else values


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help states its default (in its own words where it has some)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS:
            return text
        if action.default is None:
            return text + " (default: not set)"
        return super()._get_help_string(action)


def _add_simulate(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a given or random system and write CSV",
        formatter_class=_Formatter,
    )
    p.add_argument("--model", help="model JSON (default: a random stable system)")
    p.add_argument("--order", type=_int_at_least(1), default=3, help="order of the random system")
    p.add_argument("--radius", type=_positive, default=0.9, help="pole radius of the random system")
    p.add_argument("--d", type=float, default=0.0, help="feed-through of the random system")
    p.add_argument("--length", type=_int_at_least(2), default=1000, help="number of samples")
    p.add_argument("--input", choices=("gaussian", "prbs"), default="gaussian", help="input")
    p.add_argument("--input-file", help="read the input from a data file instead")
    p.add_argument("--input-col", help="input column (name or 0-based index)")
    p.add_argument("--noise", type=float, default=0.0, help="output noise standard deviation")
    p.add_argument("--allow-unstable", action="store_true", help="simulate an unstable model")
    _add_common(p, out="simulated.csv")
    p.add_argument("--save-model", help="also write the simulated system as JSON")
    p.set_defaults(func=cmd_simulate)


def _add_fit(sub: Any) -> None:
    p = sub.add_parser(
        "fit", help="learn a model from a data file (CSV, .dat, .npz)", formatter_class=_Formatter
    )
    p.add_argument("data", help="data file, or a DaISy set's name (see: learnlds datasets)")
    p.add_argument(
        "--order", type=_order, default=3, help="model order (state dimension), or 'auto'"
    )
    p.add_argument(
        "--order-selection",
        choices=("bic", "holdout"),
        default="bic",
        help="how --order auto compares orders: information criterion or inner hold-out",
    )
    p.add_argument(
        "--criterion",
        choices=("simulation", "prediction"),
        default="simulation",
        help="what the state-space fit minimises: simulation (output) error, or one-step "
        "prediction error with a noise model (ARMAX-like)",
    )
    p.add_argument(
        "--structure",
        choices=("auto", "state-space", "common-denominator"),
        default="auto",
        help="model class: general state space, or the paper's canonical form",
    )
    _data_options(p)
    p.add_argument(
        "--input-delay",
        type=_delays,
        default=0,
        help="dead time in samples: one for all inputs, comma-separated per input, or "
        "'auto' (estimated per input from the data)",
    )
    p.add_argument("--method", choices=("gn", "psgd"), default="gn", help="solver")
    p.add_argument("--overparam", type=_int_at_least(2), help="learn at this order, then reduce")
    p.add_argument(
        "--region",
        choices=("auto", "pacman", "none"),
        default="auto",
        help="auto: Pac-Man region for psgd, stability only for gn",
    )
    p.add_argument(
        "--burn-in", type=_int_at_least(0), default=0, help="samples left out of the loss"
    )
    p.add_argument("--steps", type=_int_at_least(1), default=400, help="psgd steps")
    p.add_argument("--lr", type=_positive, default=0.05, help="psgd learning rate")
    p.add_argument("--clip", type=_positive, help="psgd gradient-norm clip")
    p.add_argument("--init", choices=("zero", "identity"), default="zero", help="start")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--progress", action="store_true", help="one progress line per step group on stderr"
    )
    p.add_argument("--checkpoint", help="save the training state to this file")
    p.add_argument(
        "--checkpoint-every",
        type=_int_at_least(1),
        help="steps (psgd) or iterations (gn) between checkpoints (default: 100 / 1)",
    )
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--force", action="store_true", help="run even if estimated at hours")
    _add_common(p, out="model.json")
    p.set_defaults(func=cmd_fit)


def _add_common(p: argparse.ArgumentParser, out: str) -> None:
    p.add_argument(
        "--random-state",
        "--seed",
        dest="random_state",
        type=_int_at_least(0),
        default=0,
        help="seed of the random generator",
    )
    p.add_argument("--out", default=out, help="file to write")


def _add_predict_demo_report(sub: Any) -> None:
    p = sub.add_parser(
        "predict", help="simulate a saved model on a data file's input", formatter_class=_Formatter
    )
    p.add_argument("model", help="model JSON written by learnlds fit")
    p.add_argument("data", help="data file, or a DaISy set's name (see: learnlds datasets)")
    p.add_argument(
        "--input-col",
        help="input column(s), names or 0-based indices, comma separated (default: the "
        "columns the model was fitted on, found by name, else by position)",
    )
    p.add_argument("--output-col", help="output column(s)")
    p.add_argument("--out", help="CSV/.npz to write (default: print to stdout)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "demo",
        help="the post's demo on the hair dryer, with an HTML report",
        formatter_class=_Formatter,
    )
    p.add_argument("--out", default="learnlds-demo", help="report folder")
    p.add_argument("--steps", type=_int_at_least(1), default=400, help="SGD steps")
    p.add_argument("--data", help="dryer.dat (or a folder holding it, or a data file)")
    p.add_argument("--lr", type=_positive, help="fixed learning rate (default: the demo's, 0.0085)")
    p.add_argument("--region", choices=("none", "pacman"), default="none", help="SGD region")
    p.add_argument(
        "--random-state",
        "--seed",
        dest="random_state",
        type=_int_at_least(0),
        default=0,
        help="seed of the random generator",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "report", help="HTML report of a saved model on a data file", formatter_class=_Formatter
    )
    p.add_argument("model", help="model JSON written by learnlds fit")
    p.add_argument("data", help="data file, or a DaISy set's name (see: learnlds datasets)")
    _data_options(p, saved=True)
    p.add_argument("--out", default="learnlds-report", help="report folder")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "compare",
        help="saved models side by side on one data file: fit per output",
        formatter_class=_Formatter,
    )
    p.add_argument("models", nargs="+", help="model JSON files written by learnlds fit")
    p.add_argument("data", help="data file, or a DaISy set's name (see: learnlds datasets)")
    _data_options(p, saved=True)
    p.add_argument(
        "--x0",
        choices=("zero", "estimate"),
        default="zero",
        help="initial state: zero (the protocol) or estimated from the scored part",
    )
    p.add_argument("--plot", help="also draw the simulations into this image file (.png, .svg)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "datasets",
        help="list the DaISy data sets and where each is available",
        formatter_class=_Formatter,
    )
    p.set_defaults(func=cmd_datasets)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``learnlds`` command.

    Returns
    -------
    argparse.ArgumentParser
        With sub-commands simulate, fit, predict, demo and report.

    Examples
    --------
    >>> build_parser().parse_args(["fit", "data.csv", "--order", "2"]).order
    2
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="learnlds",
        description="Learn linear dynamical systems by projected gradient descent.",
    )
    parser.add_argument("--version", action="version", version=f"learnlds {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_simulate(sub)
    _add_fit(sub)
    _add_predict_demo_report(sub)
    return parser


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """A warning on one stderr line, like an error: no source path or code line."""
    print(f"learnlds: warning: {message} ({category.__name__})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a library error (one line on stderr), 130 on Ctrl-C.

    Examples
    --------
    >>> import tempfile
    >>> main(["simulate", "--model", tempfile.mkdtemp() + "/missing.json"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        notes = "; ".join(getattr(exc, "__notes__", []))
        print("learnlds: interrupted" + (f" ({notes})" if notes else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): files were written first; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (LearnLDSError, ValueError, OSError) as exc:
        print(f"learnlds: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
