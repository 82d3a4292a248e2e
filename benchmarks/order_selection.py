"""How well ``order='auto'`` chooses: the information criterion against the inner hold-out.

Regret = the best-order validation fit (``LDSRegressor(order=k)``, best k in 1..8)
minus the fit of the order each rule chooses, under the protocol
:func:`learnlds.validate.holdout` (first half estimates, second half validates) or,
for the short SISO records, on a fresh 2000-sample record of the same plant.

Case sets:

* ``daisy``: flutter, ballbeam, dryer, glassfurnace, CD_player_arm, cstr (those in
  ``LEARNLDS_DATA`` or ``../shared/data/daisy``; the three shipped ones always);
* ``random``: ``benchmarks/random_plants.py``'s plants, seeds 1 and 2 (24 plants);
* ``short``: 100- and 200-sample records of random order-2 SISO plants (white input,
  output noise 30 % of the output's spread; 8 each), and 200-sample records of
  random order-4 plants with 5 inputs and 3 outputs (low-pass input; 6).

Per set: mean and largest regret of each rule and how many cases are over issue 10's
1.5-point target. BLAS is pinned to one thread. Usage::

    python benchmarks/order_selection.py [--sets daisy random short] [--plants 12]
"""

from __future__ import annotations

import argparse
import sys
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
import realdata  # noqa: E402

from learnlds import CanonicalSystem, LDSRegressor  # noqa: E402
from learnlds.validate import fit_percent, holdout  # noqa: E402

warnings.filterwarnings("ignore")

RULES = ("bic", "holdout")


def _protocol(u: np.ndarray, y: np.ndarray) -> Callable[[LDSRegressor], tuple[float, int]]:
    """``estimator -> (validation fit, order)`` under the holdout protocol."""

    def score(est: LDSRegressor) -> tuple[float, int]:
        res = holdout(est, u, y)
        return res.validation_fit, res.model.order_

    return score


def _fresh(u, y, uf, yf) -> Callable[[LDSRegressor], tuple[float, int]]:
    """``estimator -> (fit on the fresh record, order)``; fitted on all of ``u, y``."""

    def score(est: LDSRegressor) -> tuple[float, int]:
        est.fit(u, y)
        return fit_percent(yf - yf.mean(), est.predict(uf - uf.mean())), est.order_

    return score


def daisy_cases() -> Iterator[tuple[str, Callable]]:
    for name in realdata.DATASETS:
        try:
            u, y = realdata.load(name)
        except OSError:
            continue
        yield name, _protocol(u, y)


def random_cases(plants: int) -> Iterator[tuple[str, Callable]]:
    for seed in (1, 2):
        for cfg in random_plants.configurations(plants, seed):
            yield f"plant {cfg[0]}", _protocol(*random_plants.record(cfg))


def short_cases() -> Iterator[tuple[str, Callable]]:
    for T in (100, 200):
        for seed in range(8):
            rng = np.random.default_rng(seed)
            r, th = rng.uniform(0.5, 0.95), rng.uniform(0.2, 2.5)
            plant = CanonicalSystem(
                [-2 * r * np.cos(th), r * r], rng.normal(size=2), d=rng.normal()
            )
            u, uf = rng.normal(size=T), rng.normal(size=2000)
            y, yf = plant.simulate(u), plant.simulate(uf)
            y = y + 0.3 * y.std() * rng.normal(size=T)
            yf = yf + 0.3 * yf.std() * rng.normal(size=2000)
            yield f"SISO T={T} seed {seed}", _fresh(u, y, uf, yf)
    b, a = signal.butter(2, 0.3)
    for seed in range(6):
        rng = np.random.default_rng(seed)
        plant = random_plants.random_plant(rng, 4, 5, 3)
        u = signal.lfilter(b, a, rng.normal(size=(200, 5)), axis=0)
        y = plant.simulate(u)
        y = y + 0.2 * y.std(axis=0) * rng.normal(size=y.shape)
        yield f"MIMO 5x3 T=200 seed {seed}", _protocol(u, y)


def run_case(score: Callable) -> dict[str, object]:
    """Validation fit per order and each rule's (order, regret)."""
    fits = {}
    for k in range(1, 9):
        try:
            fits[k] = score(LDSRegressor(order=k))[0]
        except Exception:  # noqa: BLE001 - an order that cannot be fitted scores -inf
            fits[k] = -np.inf
    best = max(fits.values())
    chosen = {}
    for rule in RULES:
        fit, k = score(LDSRegressor(order="auto", order_selection=rule))
        chosen[rule] = (k, best - fit)
    return {"fits": fits, "chosen": chosen}


def main() -> None:
    """Print one row per case and a summary per case set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=["daisy", "random", "short"])
    parser.add_argument("--plants", type=int, default=12, help="random plants per seed")
    args = parser.parse_args()
    makers = {"daisy": daisy_cases, "random": lambda: random_cases(args.plants)}
    makers["short"] = short_cases
    summary = []
    with threadpool_limits(limits=1, user_api="blas"):
        for name in args.sets:
            print(f"\n## {name}\n")
            print("| case | best order, fit | " + " | ".join(f"{r}: order, regret" for r in RULES))
            print("|---" * (2 + len(RULES)) + "|")
            regrets = {r: [] for r in RULES}
            for label, score in makers[name]():
                res = run_case(score)
                k_best = max(res["fits"], key=res["fits"].get)
                cells = []
                for r in RULES:
                    k, regret = res["chosen"][r]
                    regrets[r].append(regret)
                    cells.append(f"{k}, {regret:.1f}")
                best = f"{k_best}, {res['fits'][k_best]:.1f}"
                print(f"| {label} | {best} | {' | '.join(cells)} |", flush=True)
            summary.append((name, regrets))
    print("\n| set | rule | cases | mean regret | max regret | over 1.5 points |")
    print("|---|---|---|---|---|---|")
    for name, regrets in summary:
        for r, vals in regrets.items():
            v = np.array(vals)
            print(
                f"| {name} | {r} | {v.size} | {v.mean():.2f} | {v.max():.1f} "
                f"| {int(np.sum(v > 1.5))} |"
            )


if __name__ == "__main__":
    main()
