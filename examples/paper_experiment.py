"""Experiment (b): the paper's comparison of SGD variants on n = 20 systems.

Target: random conjugate-pair roots inside radius 0.95, C ~ N(0, I), inputs N(0, 1),
T = 500, fresh sequences each step. Learners: plain SGD, projected SGD (Pac-Man region),
over-parameterised projected SGD (order 30, in the region) and SGD with gradient
clipping. Writes examples/output/paper_experiment.png and prints the final risks.

    python examples/paper_experiment.py [--steps 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from learnlds import CanonicalSystem, population_risk, projected_sgd
from learnlds.train import DivergenceWarning, fresh_batches

OUT = Path(__file__).parent / "output"


def run(steps: int, seed: int, lr: float, T: int = 500, batch: int = 4, noise: float = 0.1) -> dict:
    rng = np.random.default_rng(seed)
    truth = CanonicalSystem.random_stable(20, 0.95, rng)
    # scale C so that the output has unit variance: learning rates then mean the same
    truth = truth.with_params(c=truth.c / truth.h2_norm())
    burn = T // 4
    floor = noise**2
    variants = {
        "plain SGD": dict(order=20, region=None, lr=lr),
        "projected SGD": dict(order=20, region="pacman", lr=lr),
        "over-parameterised projected SGD (order 30)": dict(order=30, region="pacman", lr=lr),
        "SGD with gradient clipping": dict(order=20, region=None, lr=lr, clip=1.0),
    }
    curves = {}
    every = max(steps // 40, 1)
    for name, kw in variants.items():
        points: list[tuple[int, float]] = []

        def record(k, model, value, points=points):
            if k % every == 0:
                points.append((k, population_risk(model, truth, T, burn, noise) - floor))

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            res = projected_sgd(
                fresh_batches(truth, T, batch_size=batch, noise_std=noise),
                steps=steps,
                burn_in=burn,
                random_state=seed,
                callback=record,
                **kw,
            )
        excess = population_risk(res.model, truth, T, burn, noise) - floor
        curves[name] = dict(
            points=np.array(points),
            final=excess,
            diverged=res.diverged,
            reason=res.stop_reason,
            seconds=time.perf_counter() - t0,
        )
        print(
            f"{name:45s} excess risk {excess:10.4g}  ({res.stop_reason}, "
            f"{curves[name]['seconds']:.1f} s)"
        )
    return curves


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, c in curves.items():
        pts = c["points"]
        if len(pts):
            ax.semilogy(pts[:, 0], np.maximum(pts[:, 1], 1e-6), label=name)
    ax.set_xlabel("SGD step")
    ax.set_ylabel("excess population risk")
    ax.set_title("n = 20, roots in radius 0.95, T = 500 (fresh samples)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()
    curves = run(args.steps, args.seed, args.lr)
    path = OUT / f"paper_experiment_lr{args.lr:g}.png"
    plot(curves, path)
    print(f"plot: {path}")
