"""Where issue 10's SISO targets come from: SIPPY's ARMAX against learnlds, order by order.

The targets (flutter 53.6 at n = 2, dryer 90.2 at n = 3, ballbeam 38.8) are the best
validation fit over orders 1..8 of a peer. This script reproduces the ARMAX ones with
``sippy_unipi`` (the ``[bench]`` extra) and shows each method's fit at every order,
so the best order can be read next to how far the fit swings from one order to the
next, and next to what each method gives when it chooses its order itself.

Protocol: :func:`learnlds.validate.holdout` (first half estimates, second half
validates, each centred on its own means, simulation from zero state, fit percent).

Methods, at each order ``n`` in 1..8:

* ``sippy ARMAX``: ``ARMAX_orders=[n, n + 1, n, 0]`` (``A`` and ``C`` of degree ``n``,
  ``B`` with ``n + 1`` taps) fitted by SIPPY's default iterative least squares on
  the input advanced by one sample, so the model has a direct feedthrough like
  learnlds's (``G = z G_s``, as in ``benchmarks/peers.py``); the simulation model
  is ``G = B / A``. Its own order choice: the smallest AIC ``T log(V_n) + 2 d``
  over the orders, ``V_n`` its one-step prediction error, ``d = 3 n + 1``.
* ``default``: ``LDSRegressor(order=n)`` (output error); own choice ``order='auto'``.
* ``prediction``: ``LDSRegressor(order=n, criterion='prediction')`` (the innovations
  form, the state-space counterpart of ARMAX: ``G`` and the noise model share their
  poles); own choice ``order='auto'`` with the same criterion.

Fits below -999 % (unstable or nearly unstable models) print as ``<-999``. BLAS is
pinned to one thread. Usage::

    LEARNLDS_DATA=/path/to/daisy python benchmarks/peer_targets.py [--datasets flutter]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from realdata import TARGETS, load  # noqa: E402

from learnlds import LDSRegressor  # noqa: E402
from learnlds.systems import CanonicalSystem  # noqa: E402
from learnlds.validate import holdout  # noqa: E402

warnings.filterwarnings("ignore")

ORDERS = range(1, 9)
SISO = ("flutter", "ballbeam", "dryer")


def _sippy() -> object:
    try:
        import sippy_unipi
    except ImportError as exc:  # the [bench] extra
        raise SystemExit(f"needs sippy_unipi (pip install -e '.[bench]'): {exc}") from exc
    return sippy_unipi


def sippy_armax(u: np.ndarray, y: np.ndarray, n: int) -> tuple[CanonicalSystem, float]:
    """SIPPY's ARMAX ``[n, n + 1, n, 0]`` with feedthrough on a centred record; ``(G, V_n)``."""
    sippy = _sippy()
    with contextlib.redirect_stdout(io.StringIO()):  # SIPPY prints its warnings
        res = sippy.system_identification(y[:-1], u[1:], "ARMAX", ARMAX_orders=[n, n + 1, n, 0])
    num = np.concatenate((np.ravel(res.G.num[0][0]), [0.0]))  # G = z G_s
    return CanonicalSystem.from_tf(num, np.ravel(res.G.den[0][0])), float(res.Vn)


def _fit(model: object, u: np.ndarray, y: np.ndarray) -> float:
    """Validation fit under the protocol (an estimator is fitted on the first half, a
    system scored as given); NaN when the method fails."""
    try:
        return float(holdout(model, u, y).validation_fit)
    except Exception:  # noqa: BLE001 - a failed fit is a missing cell
        return float("nan")


def _armax_rows(u: np.ndarray, y: np.ndarray) -> tuple[dict[int, float], tuple[int, float]]:
    """SIPPY ARMAX per order (fitted on the centred first half, the system then scored
    by :func:`holdout`), and its AIC choice ``(order, fit)``."""
    half = len(u) // 2
    ue, ye = u[:half] - u[:half].mean(), y[:half] - y[:half].mean()
    fits, aic = {}, {}
    for n in ORDERS:
        try:
            system, vn = sippy_armax(ue, ye, n)
        except Exception:  # noqa: BLE001 - a failed fit is a missing cell
            fits[n] = float("nan")
            continue
        fits[n] = _fit(system, u, y)
        aic[n] = (half - 1) * np.log(vn) + 2 * (3 * n + 1)
    chosen = min(aic, key=aic.get)
    return fits, (chosen, fits[chosen])


def run(name: str) -> list[tuple[str, dict[int, float], str]]:
    """Rows ``(method, fits per order, own order choice)`` for one record."""
    u, y = load(name)
    rows = []
    fits, (k, f) = _armax_rows(u, y)
    rows.append(("sippy ARMAX", fits, f"AIC: {k}, {f:.1f}"))
    for label, options in (("default", {}), ("prediction", {"criterion": "prediction"})):
        fits = {n: _fit(LDSRegressor(order=n, **options), u, y) for n in ORDERS}
        res = holdout(LDSRegressor(order="auto", **options), u, y)
        rows.append((label, fits, f"auto: {res.model.order_}, {res.validation_fit:.1f}"))
    return rows


def _cell(value: float) -> str:
    if np.isnan(value):
        return "failed"
    return "<-999" if value < -999 else f"{value:.1f}"


def main() -> None:
    """Print one markdown table per record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(SISO), choices=SISO)
    args = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        for name in args.datasets:
            t0 = time.perf_counter()
            rows = run(name)
            print(f"\n{name} (target {TARGETS.get(name, float('nan'))}):\n")
            print("| method | " + " | ".join(f"n={n}" for n in ORDERS) + " | best | own choice |")
            print("|---|" + "---|" * len(ORDERS) + "---|---|")
            for label, fits, own in rows:
                ok = {n: v for n, v in fits.items() if not np.isnan(v)}
                best = max(ok, key=ok.get) if ok else None
                best_cell = f"{ok[best]:.1f} ({best})" if ok else "failed"
                cells = " | ".join(_cell(fits[n]) for n in ORDERS)
                print(f"| {label} | {cells} | {best_cell} | {own} |")
            print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
