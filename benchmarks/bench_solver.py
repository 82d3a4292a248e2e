"""Fast full-data solver: time to the noise floor, as a ratio to one lfilter pass.

Synthetic order-3 task of the issue (a = (-0.6, 0.2, -0.05), C ~ N(0, I) seed 0,
d = 0.5, N(0, 1) inputs, noise 0.1) at several T, plus the dryer protocol (first
500 samples fit, last 500 validate, each half's means removed).

    python benchmarks/bench_solver.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy import signal

from learnlds import CanonicalSystem, LDSRegressor, gauss_newton
from learnlds.datasets import load_daisy
from learnlds.validate import fit_percent, split_centred

TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], np.random.default_rng(0).normal(size=3), 0.5)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def synthetic(repeats: int) -> list[str]:
    rows = [
        "| T | lfilter pass (s) | solver (s) | ratio | iterations | rel. impulse error "
        "| noise floor |",
        "|---|---|---|---|---|---|---|",
    ]
    r = TRUTH.markov(200)
    for T in (10**3, 10**4, 10**5, 10**6):
        rng = np.random.default_rng(1)
        x = rng.normal(size=T)
        y = TRUTH.simulate(x, noise_std=0.1, rng=rng)
        t_lf = median_time(lambda x=x: signal.lfilter([1.0], [1.0, -0.6, 0.2, -0.05], x), 5)
        res = gauss_newton(x, y, order=3, region="pacman")
        t_gn = median_time(lambda x=x, y=y: gauss_newton(x, y, order=3, region="pacman"), repeats)
        err = np.linalg.norm(res.model.markov(200) - r) / np.linalg.norm(r)
        floor = 0.1 * np.sqrt(7 / T) / np.linalg.norm(r)
        rows.append(
            f"| {T:.0e} | {t_lf:.2e} | {t_gn:.3f} | {t_gn / t_lf:.0f} | {res.n_steps} | "
            f"{err:.2e} | {floor:.2e} |"
        )
    return rows


def dryer(repeats: int) -> list[str]:
    d = load_daisy("dryer")
    ue, ye, uv, yv = split_centred(d.u1, d.y1)
    rows = ["| model | fit time (s) | estimation fit % | validation fit % |", "|---|---|---|---|"]
    configs = {
        "LDSRegressor(order=3) (default: gn, stable)": dict(order=3),
        "LDSRegressor(order=3, region='pacman')": dict(order=3, region="pacman", max_iter=30),
        "LDSRegressor(order=3, overparam=8, region='pacman')": dict(
            order=3, overparam=8, region="pacman"
        ),
        "LDSRegressor(order=3, method='psgd', 400 steps, region=None)": dict(
            order=3, method="psgd", steps=400, lr=0.01, region=None, init="identity"
        ),
    }
    for name, kw in configs.items():
        try:
            est = LDSRegressor(demean=False, **kw)
            t = median_time(lambda est=est: est.fit(ue, ye), repeats)
            rows.append(
                f"| {name} | {t:.3f} | {fit_percent(ye, est.predict(ue)):.2f} | "
                f"{fit_percent(yv, est.predict(uv)):.2f} |"
            )
        except ValueError as exc:
            rows.append(f"| {name} | failed: {exc} | | |")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    gauss_newton(np.random.default_rng(0).normal(size=200), np.ones(200), order=3)  # warm up
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores", ""]
    lines += ["## Synthetic order 3", ""] + synthetic(args.repeats)
    lines += ["", "## Dryer (DaISy)", ""] + dryer(args.repeats)
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).parent / "results" / "bench_solver.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")
