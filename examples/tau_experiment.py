"""Experiment (e): the weak-quasi-convexity constant tau, measured on learned problems.

For each problem a model is learned (``gauss_newton``) and the idealized risk
g(theta) = sum_k (r_hat_k - r_k)^2 is probed along random directions from the learned
optimum theta0 towards random points theta1 (denominator drawn in the region, or a
random stable one on the domain; numerator theta0's plus noise): at
theta = theta0 + s (theta1 - theta0), s in FRACTIONS, the ratio

    <grad g(theta), theta - theta0> / (g(theta) - g(theta0))

is computed (``learnlds.analysis.tau_along_directions``); tau is its smallest value
(positive: weakly quasi-convex along the sampled rays, SPEC section 4). Problems:

* in the region: an order-20 target drawn in the Pac-Man region, learned at order 20
  in the region; rays kept inside the region;
* outside, on the domain: an order-20 target with roots on |z| = 0.95 (experiment (d)),
  learned at order 20 without the region; directions towards random stable systems
  (points where the model is unstable are left out);
* outside, in the region: the same target learned at order 20 in the region (biased,
  g(theta0) > 0); directions towards points of the region;
* over-parameterized: the same target learned at order 40 in the region.

Writes ``examples/output/tau_experiment.{png,md}``.

    python examples/tau_experiment.py [--directions 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from overparam_experiment import NOISE, T, target

from learnlds import CanonicalSystem, PacmanRegion, gauss_newton
from learnlds.analysis import tau_along_directions

OUT = Path(__file__).parent / "output"
FRACTIONS = (0.001, 0.01, 0.03, 0.1, 0.3, 1.0)


def in_region_target(random_state: int, order: int = 20) -> CanonicalSystem:
    """A random target whose denominator lies in the Pac-Man region, unit H2 norm."""
    rng = np.random.default_rng(random_state)
    truth = CanonicalSystem(PacmanRegion().sample(order, 1, rng)[0], rng.normal(size=order))
    return truth.with_params(c=truth.c / truth.h2_norm())


def learned(
    truth: CanonicalSystem, order: int, region, seed: int, sequences: int
) -> CanonicalSystem:
    """The model the fast solver learns from noisy data (the problem's optimum)."""
    rng = np.random.default_rng(2000 + seed)
    u = rng.normal(size=(sequences, T))
    y = truth.simulate(u, sequences=True, noise_std=NOISE, random_state=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gauss_newton(u, y, order=order, burn_in=T // 4, region=region, sequences=True).model


def problems(seed: int, sequences: int, over: int = 40):
    """``(name, truth, learned optimum, where the rays must stay)`` for the four problems."""
    inside = in_region_target(seed)
    outside = target(seed)
    return [
        ("in the region", inside, learned(inside, 20, "pacman", seed, sequences), "pacman"),
        ("outside, on the domain", outside, learned(outside, 20, None, seed, sequences), None),
        (
            "outside, in the region",
            outside,
            learned(outside, 20, "pacman", seed, sequences),
            "pacman",
        ),
        (
            f"over-parameterized (order {over}, in the region)",
            outside,
            learned(outside, over, "pacman", seed, sequences),
            "pacman",
        ),
    ]


def run(
    directions: int = 100,
    seed: int = 0,
    sequences: int = 64,
    fractions=FRACTIONS,
    over: int = 40,
    log=print,
):
    """One row per problem: tau, ratio quantiles, admissible points, g(theta0)."""
    rows = []
    for name, truth, opt, region in problems(seed, sequences, over):
        t0 = time.perf_counter()
        prof = tau_along_directions(
            truth, opt, directions=directions, fractions=fractions, region=region, random_state=seed
        )
        finite = prof.ratios[np.isfinite(prof.ratios)]
        row = {
            "problem": name,
            "tau": prof.tau,
            "q05": float(np.quantile(finite, 0.05)) if finite.size else float("nan"),
            "median": float(np.median(finite)) if finite.size else float("nan"),
            "negative": int(np.sum(finite < 0)),
            "points": int(finite.size),
            "g0": prof.reference,
            "profile": prof,
        }
        rows.append(row)
        log(
            f"{name:45s} tau {row['tau']:8.3g}  5% {row['q05']:8.3g}  median {row['median']:8.3g}  "
            f"negative {row['negative']}/{row['points']}  g(theta0) {row['g0']:.2e}  "
            f"({time.perf_counter() - t0:.1f} s)"
        )
    return rows


def table(rows) -> str:
    lines = [
        "| problem | tau (min ratio) | 5 % quantile | median | negative / points | g(theta0) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['problem']} | {r['tau']:.3g} | {r['q05']:.3g} | {r['median']:.3g} | "
            f"{r['negative']} / {r['points']} | {r['g0']:.2e} |"
        )
    return "\n".join(lines)


def plot(rows, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.5, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for r, mk in zip(rows, ("o", "s", "^", "D"), strict=False):
        prof = r["profile"]
        lo = [np.nanmin(c) if np.isfinite(c).any() else np.nan for c in prof.ratios.T]
        med = [np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in prof.ratios.T]
        (line,) = ax.semilogx(prof.fractions, med, mk + "-", label=f"{r['problem']} (median)")
        ax.semilogx(prof.fractions, lo, mk + ":", color=line.get_color(), label="  minimum (tau)")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("fraction s of the way from the learned optimum to a random point")
    ax.set_ylabel("<grad g, theta - theta0> / (g - g0)")
    ax.set_title("weak quasi-convexity ratio along random directions (tau = its minimum)")
    ax.legend(fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--directions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = run(args.directions, args.seed)
    text = table(result)
    print(text)
    plot(result, OUT / "tau_experiment.png")
    (OUT / "tau_experiment.md").write_text(
        f"Command: python examples/tau_experiment.py --directions {args.directions} "
        f"--seed {args.seed} ({time.perf_counter() - t0:.0f} s)\n\n{text}\n",
        encoding="utf-8",
    )
    print(f"plot: {OUT / 'tau_experiment.png'}")
