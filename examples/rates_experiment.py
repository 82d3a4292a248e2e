"""Experiment (c): excess risk against the number N and the length T of sequences.

For an in-region order-3 target with noise 0.3, the empirical burn-in risk is
minimised inside the Pac-Man region (the fast projected solver: the ERM the
theorem's projected gradient descent converges to) and the excess population risk
is measured in closed form. Log-log slopes are fitted; the theorem promises at
least -1/2 (f(theta_hat) - f* <= poly(n) / sqrt(N T)).

    python examples/rates_experiment.py [--repeats 8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from learnlds import CanonicalSystem, PacmanRegion, gauss_newton, population_risk

OUT = Path(__file__).parent / "output"
NOISE = 0.3


def target(seed: int = 11) -> CanonicalSystem:
    rng = np.random.default_rng(seed)
    a = PacmanRegion().sample(3, 1, rng)[0]
    return CanonicalSystem(a, rng.normal(size=3), 0.5)


def excess(truth: CanonicalSystem, N: int, T: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(N, T))
    y = truth.simulate(u, noise_std=NOISE, random_state=rng, sequences=True)
    burn = T // 4
    model = gauss_newton(u, y, order=3, burn_in=burn, region="pacman", sequences=True).model
    return population_risk(model, truth, T, burn, NOISE) - NOISE**2


def sweep(truth, values, fixed, vary: str, repeats: int) -> np.ndarray:
    out = []
    for v in values:
        N, T = (v, fixed) if vary == "N" else (fixed, v)
        out.append(np.median([excess(truth, N, T, 1000 * r + v) for r in range(repeats)]))
    return np.array(out)


def slope(xs, ys) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    truth = target()
    Ns = np.array([4, 16, 64, 256, 1024])
    Ts = np.array([64, 256, 1024, 4096, 16384])
    eN = sweep(truth, Ns, 64, "N", args.repeats)
    eT = sweep(truth, Ts, 4, "T", args.repeats)
    sN, sT = slope(Ns, eN), slope(Ts, eT)
    print("| N (T = 64) | excess risk |\n|---|---|")
    for n, e in zip(Ns, eN, strict=True):
        print(f"| {n} | {e:.3e} |")
    print(f"slope in N: {sN:.2f}\n")
    print("| T (N = 4) | excess risk |\n|---|---|")
    for t, e in zip(Ts, eT, strict=True):
        print(f"| {t} | {e:.3e} |")
    print(f"slope in T: {sT:.2f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, xs, ys, s, label in (
        (axes[0], Ns, eN, sN, "N (T = 64)"),
        (axes[1], Ts, eT, sT, "T (N = 4)"),
    ):
        ax.loglog(xs, ys, "o-", label=f"measured, slope {s:.2f}")
        ax.loglog(xs, ys[0] * (xs / xs[0]) ** -0.5, "--", label="slope -1/2 (the theorem)")
        ax.set_xlabel(label)
        ax.set_ylabel("excess population risk")
        ax.legend(fontsize=8)
    fig.tight_layout()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / "rates_experiment.png", dpi=110)
    print(f"plot: {OUT / 'rates_experiment.png'}")
