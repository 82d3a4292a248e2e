"""Can the estimation data alone tell when the prediction error beats the output error?

On real plants the default output-error fit and the prediction-error fit
(``criterion="prediction"``) each win on some records (``unseen_plants.md``). Choosing
between them per record needs a signal from the estimation half. This script measures
the obvious one, an inner hold-out: for every record and order 1..8,

- each method is fitted on the first 70 % of the estimation half and scored on its last
  30 % (zero-state simulation fit, each part centred), the *inner* score;
- each method is fitted on the whole estimation half and scored on the validation half
  (the protocol of :func:`learnlds.validate.holdout`), the *validation* score.

Methods: ``oe`` (:func:`learnlds.subspace.fit_best`, the default's state-space fit),
``pem`` (that fit refined by :func:`learnlds.subspace.fit_state_space` with
``criterion="prediction"``, as the estimator does) and, with the ``[bench]`` extra,
``nfoursid`` (unrefined N4SID, as in ``random_plants.py``). The table gives each
method's best-order validation fit and that of the per-order choice by the inner score
(``oe`` or ``pem``; ``oe``, ``pem`` or ``nfoursid``).

The six ``../shared`` records come from ``LEARNLDS_DATA``, the ten others from
``LEARNLDS_EXTRA_DATA`` (see ``unseen_plants.py``); missing files are skipped. Records
run two at a time, BLAS pinned to one thread. Usage::

    LEARNLDS_DATA=... LEARNLDS_EXTRA_DATA=... python benchmarks/criterion_choice.py
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import random_plants  # noqa: E402
import realdata  # noqa: E402
import unseen_plants  # noqa: E402

from learnlds.subspace import fit_best, fit_state_space  # noqa: E402
from learnlds.validate import split_centred  # noqa: E402

warnings.filterwarnings("ignore")
ORDERS = range(1, 9)
INNER = 0.7  # share of the estimation half the inner fits use


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One record as ``(T, m)`` inputs and ``(T, p)`` outputs."""
    if name in realdata.DATASETS:
        folder = Path(os.environ.get("LEARNLDS_DATA", ROOT.parent / "shared/data/daisy"))
        raw = np.loadtxt(folder / f"{name}.dat")
        cols_u, cols_y = realdata.DATASETS[name]
        return raw[:, cols_u], raw[:, cols_y]
    return unseen_plants.load(unseen_plants.data_dir(None), name)


def exists(name: str) -> bool:
    """Whether the record's file is where :func:`load` looks."""
    try:
        load(name)
    except OSError:
        return False
    return True


def _fit_percent(y: np.ndarray, yhat: np.ndarray) -> float:
    """Fit percent averaged over outputs; ``-inf`` for a non-finite simulation."""
    if not np.all(np.isfinite(yhat)):
        return -np.inf
    err = np.linalg.norm(y - yhat, axis=0) / np.linalg.norm(y - y.mean(axis=0), axis=0)
    return float(np.mean(100.0 * (1.0 - err)))


def _fits(u: np.ndarray, y: np.ndarray, order: int) -> dict[str, object]:
    """The three methods' models on one ``(T, m)``, ``(T, p)`` part (None: failed)."""
    u3, y3 = u[None], y[None]
    oe, info = fit_best(u3, y3, order)
    pem, _ = fit_state_space(
        u3, y3, order, x0=info.get("x0_mode", "zero"), criterion="prediction", start=oe
    )
    models: dict[str, object] = {"oe": oe, "pem": pem}
    if random_plants.NFourSID is not None:
        try:
            models["nfoursid"] = random_plants._nfoursid(u3, y3, order)
        except Exception:  # noqa: BLE001 - a failed peer is a missing entry
            models["nfoursid"] = None
    return models


def _score(model: object, u: np.ndarray, y: np.ndarray) -> float:
    return -np.inf if model is None else _fit_percent(y, model.simulate(u[None])[0])


def run_record(name: str) -> dict[str, object]:
    """Per order and method: (inner score, validation score)."""
    u, y = load(name)
    two_d = [a.reshape(len(a), -1) for a in split_centred(u, y)]
    ue, ye, uv, yv = two_d
    ie, iye, iv, iyv = [a.reshape(len(a), -1) for a in split_centred(ue, ye, split=INNER)]
    scores: dict[int, dict[str, tuple[float, float]]] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for k in ORDERS:
            try:
                whole, inner = _fits(ue, ye, k), _fits(ie, iye, k)
            except Exception:  # noqa: BLE001 - an order the data do not support
                continue
            scores[k] = {m: (_score(inner[m], iv, iyv), _score(whole[m], uv, yv)) for m in whole}
    return {"name": name, "scores": scores}


def _best(values: list[float]) -> float:
    return max(values) if values else -np.inf


def _row(res: dict[str, object]) -> tuple[str, dict[str, float]]:
    scores = res["scores"]
    methods = list(next(iter(scores.values()))) if scores else []
    best = {m: _best([s[m][1] for s in scores.values()]) for m in methods}
    for label, among in (("inner oe or pem", ("oe", "pem")), ("inner any", tuple(methods))):
        picks = [s[max(among, key=lambda m: s[m][0])][1] for s in scores.values()]
        best[label] = _best(picks)
    cells = " | ".join(f"{v:.1f}" for v in best.values())
    return f"| {res['name']} | {cells} |", best


def main() -> None:
    """Print the markdown table and the sums (fits clipped to [-100, 100])."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = list(realdata.DATASETS) + list(unseen_plants.DATASETS)
    parser.add_argument("--datasets", nargs="*", default=names)
    args = parser.parse_args()
    names = [n for n in args.datasets if exists(n)]
    totals: dict[str, float] = {}
    header = None
    with mp.get_context("fork").Pool(2) as pool:
        for res in pool.imap(run_record, names):
            line, best = _row(res)
            if header is None:
                header = list(best)
                print("| data | " + " | ".join(header) + " |")
                print("|---" * (len(header) + 1) + "|")
            print(line, flush=True)
            for key, value in best.items():
                totals[key] = totals.get(key, 0.0) + float(np.clip(value, -100.0, 100.0))
            for k, s in res["scores"].items():
                cells = ", ".join(f"{m} {a:.1f}/{b:.1f}" for m, (a, b) in s.items())
                print(f"<!-- {res['name']} order {k} (inner/validation): {cells} -->")
    print("\nsums over the records, each fit clipped to [-100, 100]: ", end="")
    print(", ".join(f"{k} {v:.1f}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
