"""Benchmark of the Pac-Man region: ``project`` (points outside) and ``contains`` (points inside).

Run ``python benchmarks/bench_region.py``; prints a markdown table of median times
and the median number of cutting-plane rounds (QP solves) per projection.
"""

from __future__ import annotations

import time

import numpy as np

from learnlds.region import PacmanRegion


def _median_time(fn, args: list, repeat: int = 3) -> float:
    """Median over the points of the best-of-``repeat`` wall time of ``fn(point)``."""
    times = []
    for a in args:
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(a)
            best = min(best, time.perf_counter() - t0)
        times.append(best)
    return float(np.median(times))


def main(points: int = 30, seed: int = 0) -> str:
    region = PacmanRegion()
    rng = np.random.default_rng(seed)
    lines = [
        "| n | project, outside (ms) | rounds | contains, inside (ms) | cheap-test share |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n in (3, 10, 20, 64):
        outside = []
        while len(outside) < points:  # Gaussian a scaled to norm 1.5: almost surely outside
            a = rng.normal(size=n)
            a *= 1.5 / np.linalg.norm(a)
            if region.margin(a) < 0:
                outside.append(a)
        inside = list(region.sample(n, points, rng))
        region.project(outside[0])  # build the per-order tables once
        t_proj = _median_time(region.project, outside)
        rounds = []
        for a in outside:
            region.project(a)
            rounds.append(region.last_projection.rounds)
        t_cont = _median_time(region.contains, inside, repeat=5)
        cheap = np.mean([np.abs(a).sum() <= np.sqrt(0.5) for a in inside])
        lines.append(
            f"| {n} | {t_proj * 1e3:.2f} | {np.median(rounds):.0f} | {t_cont * 1e3:.3f} | "
            f"{cheap:.0%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
