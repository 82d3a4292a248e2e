"""Default fit on the awkward records real plants produce, against subspace peers.

Random plants (``random_plants.py``) are stationary, white-ish and well scaled; plant
tests often are not. Each case here is one such record, built from a known plant:

* oversampled (poles near 1), an unknown input delay, step tests (one input at a
  time, a few steps, so an input can stand still for most of the record), channels on
  scales from 1e-4 to 1e4, a slow output drift, an integrator, a 150-sample 2x2
  record, 1 % outlier spikes;
* a resonance of radius 0.998, a non-minimum-phase zero, a static gain, a three-tone
  multisine, a quantised sensor, large offsets (5 V, 300 K), a mild output
  nonlinearity, a 100,000-sample record.

Per case, under :func:`learnlds.validate.holdout` (first half estimates, second half
validates, each centred, zero-state simulation): the default ``LDSRegressor(order=k)``
at its best k in 1..8 (1..3 for the long record), ``order='auto'``, the default with
``input_delay='auto'`` at its best k (and the delay it kept), ``subspace_id``
and nfoursid (the ``[bench]`` extra; not on the long record, where it runs out of
memory) at their best k. A fit below -100 % is printed as
is: the point is to see blow-ups, not to hide them. BLAS is pinned to one thread.
Usage::

    python benchmarks/hard_plants.py [--cases NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from scipy import signal
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import random_plants  # noqa: E402

from learnlds import LDSRegressor  # noqa: E402
from learnlds.statespace import StateSpaceSystem, with_input_delay  # noqa: E402
from learnlds.subspace import subspace_id  # noqa: E402
from learnlds.validate import holdout  # noqa: E402

warnings.filterwarnings("ignore")
Record = tuple[np.ndarray, np.ndarray]


def sampled(A: list, B: list, C: list, dt: float) -> StateSpaceSystem:
    """Zero-order-hold discretisation of a continuous ``(A, B, C, 0)``."""
    A, B, C = (np.asarray(x, dtype=float) for x in (A, B, C))
    Ad, Bd, Cd, Dd, _ = signal.cont2discrete((A, B, C, np.zeros((C.shape[0], B.shape[1]))), dt)
    return StateSpaceSystem(Ad, Bd, Cd, Dd)


def prbs(rng: np.random.Generator, T: int, m: int, hold: int) -> np.ndarray:
    """Random +-1 levels held for ``hold`` samples, ``(T, m)``."""
    levels = rng.choice([-1.0, 1.0], size=(-(-T // hold), m))
    return np.repeat(levels, hold, axis=0)[:T]


def noisy(rng: np.random.Generator, y: np.ndarray, snr: float, colour: float = 0.9) -> np.ndarray:
    """``y`` plus first-order coloured noise at amplitude ratio ``snr`` per channel."""
    e = signal.lfilter([1 - colour], [1, -colour], rng.normal(size=y.shape), axis=0)
    return y + e * y.std(axis=0) / e.std(axis=0) / snr


def _dynamics_cases(rng: np.random.Generator) -> Iterator[tuple[str, Record]]:
    plant = sampled([[0, 1, 0], [-1, -0.6, 1], [0, 0, -0.2]], [[0], [0], [0.2]], [[1, 0, 0]], 0.05)
    u = prbs(rng, 3000, 1, 40)
    yield "oversampled (poles ~0.99)", (u, noisy(rng, plant.simulate(u), 10))
    core = StateSpaceSystem([[1.5, -0.7], [1, 0]], [[1], [0]], [[0.5, 0.3]])
    u = rng.normal(size=(1000, 1))
    yield "unknown delay 6 (order 2)", (u, noisy(rng, with_input_delay(core, 6).simulate(u), 5))
    plant, u = random_plants.random_plant(rng, 4, 2, 2), np.zeros((1200, 2))
    for t0 in range(0, 1200, 150):  # one input steps at a time
        u[t0:, rng.integers(0, 2)] += rng.choice([-1, 1])
    yield "step tests 2x2", (u, noisy(rng, plant.simulate(u), 10))
    plant = random_plants.random_plant(rng, 5, 3, 3)
    u = rng.normal(size=(1500, 3)) * [1e-3, 1.0, 1e3]
    yield "scales 1e-4..1e4, 3x3", (u, noisy(rng, plant.simulate(u) * [1e4, 1.0, 1e-4], 5))
    plant, u = random_plants.random_plant(rng, 3, 1, 1), rng.normal(size=(2000, 1))
    y = plant.simulate(u)
    y = y + 0.5 * y.std() * np.sin(np.linspace(0, 3, 2000))[:, None]
    yield "slow output drift", (u, noisy(rng, y, 10))
    plant = StateSpaceSystem([[1.0, 0.1], [0, 0.8]], [[0], [1]], [[1, 0]])
    u = prbs(rng, 1500, 1, 5)
    yield "integrator", (u, noisy(rng, plant.simulate(u), 20))
    plant, u = random_plants.random_plant(rng, 3, 2, 2), rng.normal(size=(150, 2))
    yield "150 samples, 2x2", (u, noisy(rng, plant.simulate(u), 5))
    plant, u = random_plants.random_plant(rng, 4, 1, 1), rng.normal(size=(1500, 1))
    y = noisy(rng, plant.simulate(u), 10)
    y[rng.choice(1500, 15, replace=False)] += 8 * y.std()
    yield "1 % outliers", (u, y)


def _signal_cases(rng: np.random.Generator) -> Iterator[tuple[str, Record]]:
    r, th = 0.998, 0.3
    plant = StateSpaceSystem([[2 * r * np.cos(th), -r * r], [1, 0]], [[1], [0]], [[0.05, 0.0]])
    u = rng.normal(size=(3000, 1))
    yield "resonance r=0.998", (u, noisy(rng, plant.simulate(u), 10, 0))
    plant = StateSpaceSystem([[0.9, 0], [0, 0.5]], [[1], [1]], [[1, -2.5]])
    u = rng.normal(size=(1000, 1))
    yield "non-minimum phase", (u, noisy(rng, plant.simulate(u), 10, 0))
    u = rng.normal(size=(1000, 2))
    yield "static gain 2x1", (u, noisy(rng, u @ np.array([[2.0], [-1.0]]), 10, 0))
    t = np.arange(2000)
    u = (np.sin(0.05 * t) + np.sin(0.21 * t) + np.sin(0.6 * t))[:, None]
    plant = random_plants.random_plant(rng, 4, 1, 1)
    yield "multisine, 3 tones", (u, noisy(rng, plant.simulate(u), 10, 0))
    plant, u = random_plants.random_plant(rng, 3, 1, 1), rng.normal(size=(2000, 1))
    y = plant.simulate(u)
    yield "quantised sensor", (u, np.round(y / (y.std() / 4)) * (y.std() / 4))
    plant = random_plants.random_plant(rng, 3, 1, 1)
    du = 0.1 * rng.normal(size=(2000, 1))
    y = 300 + 0.01 * plant.simulate(du)
    yield "offsets 5 V, 300 K", (5 + du, y + 0.0005 * rng.normal(size=y.shape))
    plant = random_plants.random_plant(rng, 3, 1, 1)
    u = np.tanh(2 * rng.normal(size=(2000, 1)))
    y = plant.simulate(u)
    yield "mild nonlinearity", (u, noisy(rng, y + 0.3 * y**2, 20, 0))
    plant, u = random_plants.random_plant(rng, 2, 1, 1), rng.normal(size=(100_000, 1))
    yield "100,000 samples", (u, noisy(rng, plant.simulate(u), 5, 0.5))


def cases() -> Iterator[tuple[str, Record]]:
    """Every case, each from its own seeded generator stream."""
    yield from _dynamics_cases(np.random.default_rng(11))
    yield from _signal_cases(np.random.default_rng(21))


def _best_of(fit: Callable[[int], float], orders: range) -> tuple[int, float]:
    """The best order and its validation fit (a failed order scores -inf)."""
    fits = {}
    for k in orders:
        try:
            fits[k] = fit(k)
        except Exception:  # noqa: BLE001 - a failed order scores -inf
            fits[k] = -np.inf
    k = max(fits, key=fits.get)
    return k, fits[k]


def run_case(u: np.ndarray, y: np.ndarray) -> dict[str, tuple[int, float] | str]:
    """Best-order fits of the default and the peers, and the order='auto' fit."""
    orders = range(1, 4) if len(u) > 50_000 else range(1, 9)
    ue, ye, uv, yv = random_plants._halves(u, y)
    out: dict[str, tuple[int, float] | str] = {
        "default": _best_of(lambda k: holdout(LDSRegressor(order=k), u, y).validation_fit, orders),
        "subspace_id": _best_of(
            lambda k: random_plants._simulated_fit(subspace_id(ue, ye, k), uv[0], yv[0]), orders
        ),
    }
    if random_plants.NFourSID is None:
        pass
    elif len(u) > 20_000:
        out["nfoursid"] = "not run (its Hankel matrices exhaust memory here)"
    else:
        out["nfoursid"] = _best_of(
            lambda k: random_plants._simulated_fit(
                random_plants._nfoursid(ue, ye, k), uv[0], yv[0]
            ),
            orders,
        )
    found = {}

    def delayed(k: int) -> float:
        res = holdout(LDSRegressor(order=k, input_delay="auto"), u, y)
        found[k] = ",".join(map(str, res.model.input_delay_))
        return res.validation_fit

    k, fit = _best_of(delayed, orders)
    out["delay auto"] = f"{fit:.1f} ({k}; delay {found.get(k, '-')})"
    try:
        res = holdout(LDSRegressor(order="auto"), u, y)
        out["auto"] = (res.model.order_, res.validation_fit)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        out["auto"] = f"{type(exc).__name__}: {exc}"
    return out


def _cell(value: tuple[int, float] | str) -> str:
    return value if isinstance(value, str) else f"{value[1]:.1f} ({value[0]})"


def main() -> None:
    """Print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", help="names to run (default: all)")
    args = parser.parse_args()
    cols = ["default", "auto", "delay auto", "subspace_id"]
    cols += ["nfoursid"] if random_plants.NFourSID is not None else []
    print("| case | " + " | ".join(cols) + " | seconds |")
    print("|---" * (len(cols) + 2) + "|")
    with threadpool_limits(limits=1, user_api="blas"):
        for name, (u, y) in cases():
            if args.cases and name not in args.cases:
                continue
            t0 = time.perf_counter()
            res = run_case(u, y)
            cells = " | ".join(_cell(res[c]) for c in cols)
            print(f"| {name} | {cells} | {time.perf_counter() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
