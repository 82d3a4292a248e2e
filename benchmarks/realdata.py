"""Best model on real plants: state-space output-error fits against today's default.

For each DaISy record (flutter, ballbeam, dryer, glassfurnace, CD_player_arm, cstr)
and every order 1..8, the protocol :func:`learnlds.validate.holdout` (first half
estimates, second half validates, each centred on its own means, zero-state
simulation, fit percent averaged over outputs) scores

(a) the default ``LDSRegressor(order=k)`` (state space: subspace, ARX and zero
    starts, each with a zero and an estimated initial state, ranked by an inner
    hold-out on the estimation half, the winner refined by output-error
    Levenberg-Marquardt; SISO models returned in canonical form),
(b) ``LDSRegressor(order=k, structure="common-denominator")``, the paper's form
    (the default before the state-space model),
(c) ``subspace_id`` alone,
(d) ``LDSRegressor(order="auto")``: the order chosen on the estimation half alone,
(e) ``LDSRegressor(order=k, input_delay="auto")`` at its best k, with the delay kept.

and gives each input's :func:`learnlds.validate.input_coverage` (the share of the
validation half's input power where the estimation half excites: low means the
validation fit measures extrapolation).

A method that fails is reported with its error (type and message), not as nan.

Also times the default fit on a 10,000-sample 4-input 4-output record at order 8.
BLAS is pinned to one thread. Usage::

    LEARNLDS_DATA=/path/to/daisy python benchmarks/realdata.py [--quick]
"""

from __future__ import annotations

import argparse
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

from learnlds import LDSRegressor  # noqa: E402
from learnlds.statespace import StateSpaceSystem  # noqa: E402
from learnlds.subspace import fit_best, select_order, subspace_id  # noqa: E402
from learnlds.validate import holdout, input_coverage  # noqa: E402

warnings.filterwarnings("ignore")

#: name -> (input columns, output columns), 0-based
DATASETS = {
    "flutter": ([0], [1]),
    "ballbeam": ([0], [1]),
    "dryer": ([0], [1]),
    "glassfurnace": ([1, 2, 3], [4, 5, 6, 7, 8, 9]),
    "CD_player_arm": ([0, 1], [2, 3]),
    "cstr": ([1], [2, 3]),
}
TARGETS = {
    "flutter": 53.6,
    "ballbeam": 38.8,
    "dryer": 90.2,
    "glassfurnace": 50.9,
    "CD_player_arm": 70.7,
}
ORDERS = range(1, 9)


def data_dir() -> Path:
    """Where the DaISy files are: ``LEARNLDS_DATA`` or ``../shared/data/daisy``."""
    env = os.environ.get("LEARNLDS_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "daisy"


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One record: inputs ``(T,)``/``(T, m)`` and outputs ``(T,)``/``(T, p)``."""
    raw = np.loadtxt(data_dir() / f"{name}.dat")
    cols_u, cols_y = DATASETS[name]
    u, y = raw[:, cols_u], raw[:, cols_y]
    return (u[:, 0] if u.shape[1] == 1 else u), (y[:, 0] if y.shape[1] == 1 else y)


def _canonical(a: np.ndarray) -> np.ndarray:
    return a.reshape(1, a.shape[0], -1)


class StateSpaceFit(BaseEstimator):
    """Minimal estimator around the new functions, so ``holdout`` clones and fits it.

    Parameters
    ----------
    order : int or 'auto'
        Model order (``'auto'``: :func:`select_order` over 1..8).
    method : {'best', 'subspace'}
        :func:`fit_best` or :func:`subspace_id`.
    """

    def __init__(self, order: int | str = 2, method: str = "best") -> None:
        self.order = order
        self.method = method

    def fit(self, u: np.ndarray, y: np.ndarray) -> StateSpaceFit:
        """Fit on one (already centred) record; returns ``self``."""
        u3, y3 = _canonical(np.asarray(u, float)), _canonical(np.asarray(y, float))
        order = self.order
        if order == "auto":
            order, self.scores_ = select_order(u3, y3, ORDERS)
        self.order_ = order
        if self.method == "subspace":
            self.system_: StateSpaceSystem = subspace_id(u3, y3, order)
        else:
            self.system_, self.info_ = fit_best(u3, y3, order)
        return self


def _score(model, u, y) -> float | str:
    """Validation fit, or the error (``'TypeName: message'``) when the method fails."""
    try:
        return holdout(model, u, y).validation_fit
    except Exception as exc:  # noqa: BLE001 - a failed fit is reported, not fatal
        return f"{type(exc).__name__}: {exc}"


def run_dataset(name: str, quick: bool) -> dict[str, object]:
    """Validation fits per order for every method, and the order='auto' fit."""
    u, y = load(name)
    orders = range(1, 5) if quick else ORDERS
    fits: dict[str, dict[int, float | str]] = {"lds": {}, "paper": {}, "subspace": {}}
    delayed: dict[int, tuple[float, str]] = {}
    t0 = time.perf_counter()
    for k in orders:
        fits["lds"][k] = _score(LDSRegressor(order=k), u, y)
        fits["paper"][k] = _score(LDSRegressor(order=k, structure="common-denominator"), u, y)
        fits["subspace"][k] = _score(StateSpaceFit(k, "subspace"), u, y)
        res = holdout(LDSRegressor(order=k, input_delay="auto"), u, y)
        delayed[k] = (res.validation_fit, ",".join(map(str, res.model.input_delay_)))
    try:
        res = holdout(LDSRegressor(order="auto"), u, y)
        auto: str = f"{res.model.order_}, {res.validation_fit:.1f}"
    except Exception as exc:  # noqa: BLE001 - reported in the table
        auto = f"{type(exc).__name__}: {exc}"
    k = max(delayed, key=lambda j: delayed[j][0])
    delay = f"{delayed[k][0]:.1f} ({k}; delay {delayed[k][1]})"
    h = len(u) // 2
    coverage = ", ".join(f"{c:.2f}" for c in input_coverage(u[:h], u[h:]))
    return {
        "fits": fits,
        "auto": auto,
        "delay": delay,
        "coverage": coverage,
        "seconds": time.perf_counter() - t0,
    }


def _best(per_order: dict[int, float | str]) -> str:
    """``'fit (order)'`` of the best order, or the first error when every order failed."""
    ok = {k: v for k, v in per_order.items() if not isinstance(v, str)}
    if not ok:
        return f"failed: {next(iter(per_order.values()))}"
    k = max(ok, key=lambda j: ok[j])
    return f"{ok[k]:.1f} ({k})"


def _cell(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.1f}"


def timing() -> float:
    """Seconds for ``fit_best`` at order 8 on 10,000 samples, 4 inputs, 4 outputs."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 8))
    A *= 0.9 / np.max(np.abs(np.linalg.eigvals(A)))
    truth = StateSpaceSystem(A, rng.normal(size=(8, 4)), rng.normal(size=(4, 8)), np.zeros((4, 4)))
    u = rng.normal(size=(1, 10_000, 4))
    y = truth.simulate(u) + 0.1 * rng.normal(size=(1, 10_000, 4))
    LDSRegressor(order=2).fit(u[0, :500], y[0, :500])  # compile the kernels outside the clock
    t0 = time.perf_counter()
    LDSRegressor(order=8).fit(u[0], y[0])
    return time.perf_counter() - t0


def main() -> None:
    """Print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="orders 1..4 only")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    args = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        print(
            "| data | LDSRegressor default (order) | common-denominator (order) "
            "| subspace_id (order) | order='auto': order, fit "
            "| input_delay='auto' (order; delay) | target | validation input coverage "
            "| seconds |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name in args.datasets:
            res = run_dataset(name, args.quick)
            fits = res["fits"]
            cells = [_best(fits[m]) for m in fits]
            target = TARGETS.get(name, float("nan"))
            print(
                f"| {name} | {' | '.join(cells)} | {res['auto']} | {res['delay']} | {target:.1f} "
                f"| {res['coverage']} | {res['seconds']:.0f} |"
            )
            per = ", ".join(f"{k}: {_cell(v)}" for k, v in fits["lds"].items())
            print(f"<!-- {name} default per order: {per} -->", flush=True)
        print(f"\ndefault fit, T = 10,000, 4 in, 4 out, order 8: {timing():.2f} s (BLAS 1 thread)")


if __name__ == "__main__":
    main()
