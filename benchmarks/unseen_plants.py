"""The default on real plants nobody tuned it to: ten more DaISy records against nfoursid.

The DaISy records below are not in ``../shared`` and may not ship with learnlds: get
them from the DaISy database (De Moor et al., KU Leuven,
https://homes.esat.kuleuven.be/~smc/daisy/) and point ``LEARNLDS_EXTRA_DATA`` (or
``--data``) at the folder of ``.dat`` files. Missing files are skipped.

For every record and order 1..8 the protocol :func:`learnlds.validate.holdout` (first
half estimates, second half validates, each centred, zero-state simulation, fit %
averaged over outputs) scores

(a) the default ``LDSRegressor(order=k)`` (output-error fit),
(b) ``LDSRegressor(order=k, criterion="prediction")`` (innovations-form fit),
(c) nfoursid at its best order (the ``[bench]`` extra; its N4SID with
    ``num_block_rows = max(10, 2k + 2)``, as in ``random_plants.py``),
(d) ``LDSRegressor(order="auto")`` and ``order="auto", criterion="prediction"``: the
    order chosen on the estimation half alone; its regret is the best order's fit
    minus the chosen order's.

Records run two at a time (one process each), BLAS pinned to one thread. Usage::

    LEARNLDS_EXTRA_DATA=/path/to/daisy python benchmarks/unseen_plants.py [--datasets ...]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import random_plants  # noqa: E402

from learnlds import LDSRegressor  # noqa: E402
from learnlds.validate import holdout  # noqa: E402

warnings.filterwarnings("ignore")

#: name -> (DaISy number, input columns, output columns), 0-based, from DaISy's notes
DATASETS = {
    "exchanger": ("97-002", [1], [2]),
    "heating_system": ("99-001", [1], [2]),
    "robot_arm": ("96-009", [0], [1]),
    "thermic_res_wall": ("96-011", [0, 1], [2]),
    "pHdata": ("96-014", [1, 2], [3]),
    "winding": ("97-003", [0, 1, 2, 3, 4], [5, 6]),
    "dryer2": ("96-006", [1, 2, 3], [4, 5, 6]),
    "evaporator": ("98-001", [0, 1, 2], [3, 4, 5]),
    "steamgen": ("98-003", [1, 2, 3, 4], [5, 6, 7, 8]),
    "powerplant": ("97-005", [1, 2, 3, 4, 5], [6, 7, 8]),
}
ORDERS = range(1, 9)


def data_dir(given: str | None) -> Path:
    """``--data``, else ``LEARNLDS_EXTRA_DATA``, else the current folder."""
    return Path(given or os.environ.get("LEARNLDS_EXTRA_DATA", "."))


def load(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One record as ``(T, m)`` inputs and ``(T, p)`` outputs."""
    raw = np.loadtxt(folder / f"{name}.dat")
    _, cols_u, cols_y = DATASETS[name]
    return raw[:, cols_u], raw[:, cols_y]


class NFourSIDFit(BaseEstimator):
    """nfoursid as an estimator, so that ``holdout`` fits it like the others.

    Parameters
    ----------
    order : int
        State dimension.
    """

    def __init__(self, order: int = 2) -> None:
        self.order = order

    def fit(self, u: np.ndarray, y: np.ndarray) -> NFourSIDFit:
        """Fit on one (already centred) record; returns ``self``."""
        u3, y3 = u.reshape(1, len(u), -1), y.reshape(1, len(y), -1)
        self.system_ = random_plants._nfoursid(u3, y3, self.order)
        return self


def _fit(model: BaseEstimator, u: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """Validation fit and the order used (``-inf`` when the method fails)."""
    try:
        res = holdout(model, u, y)
    except Exception:  # noqa: BLE001 - a failed fit is a missing column entry, not fatal
        return -np.inf, 0
    order = getattr(res.model, "order_", getattr(res.model, "order", 0))
    return float(res.validation_fit), int(order)


def run_dataset(args: tuple[Path, str]) -> dict[str, object]:
    """Per method: best order and fit, and the ``order='auto'`` choices."""
    folder, name = args
    u, y = load(folder, name)
    t0 = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        per: dict[str, dict[int, float]] = {"simulation": {}, "prediction": {}, "nfoursid": {}}
        for k in ORDERS:
            per["simulation"][k] = _fit(LDSRegressor(order=k), u, y)[0]
            per["prediction"][k] = _fit(LDSRegressor(order=k, criterion="prediction"), u, y)[0]
            if random_plants.NFourSID is not None:
                per["nfoursid"][k] = _fit(NFourSIDFit(k), u, y)[0]
        auto = {
            c: _fit(LDSRegressor(order="auto", criterion=c), u, y) for c in per if c != "nfoursid"
        }
    shape = f"{len(u)} x {u.shape[1]} in x {y.shape[1]} out"
    return {"name": name, "shape": shape, "per": per, "auto": auto, "s": time.perf_counter() - t0}


def _best(per_order: dict[int, float]) -> tuple[int, float]:
    k = max(per_order, key=lambda j: per_order[j]) if per_order else 0
    return k, per_order.get(k, -np.inf)


def _row(res: dict) -> str:
    per, auto = res["per"], res["auto"]
    cells = []
    for method in ("simulation", "prediction", "nfoursid"):
        k, fit = _best(per[method])
        cells.append(f"{fit:.1f} ({k})" if np.isfinite(fit) else "failed")
    for criterion in ("simulation", "prediction"):
        fit, k = auto[criterion]
        regret = _best(per[criterion])[1] - fit
        cells.append(f"{k}, {fit:.1f} ({regret:.1f})" if np.isfinite(fit) else "failed")
    return f"| {res['name']} | {res['shape']} | {' | '.join(cells)} | {res['s']:.0f} |"


def main() -> None:
    """Print the markdown table (and each default's fits per order as a comment)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder of DaISy .dat files")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    args = parser.parse_args()
    folder = data_dir(args.data)
    names = [n for n in args.datasets if (folder / f"{n}.dat").exists()]
    for missing in sorted(set(args.datasets) - set(names)):
        print(f"skipped {missing}: no {folder / (missing + '.dat')}", file=sys.stderr)
    print(
        "| data | T x inputs x outputs | default, best order | criterion='prediction', best "
        "| nfoursid, best | order='auto': order, fit (regret) "
        "| auto + prediction: order, fit (regret) | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with mp.get_context("fork").Pool(2) as pool:
        for res in pool.imap(run_dataset, [(folder, n) for n in names]):
            print(_row(res))
            for method, fits in res["per"].items():
                line = ", ".join(f"{k}: {v:.1f}" for k, v in fits.items())
                print(f"<!-- {res['name']} {method} per order: {line} -->", flush=True)


if __name__ == "__main__":
    main()
