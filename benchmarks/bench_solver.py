"""Fast full-data solver: time to the noise floor, as a ratio to one lfilter pass.

Synthetic order-3 task of the issue (a = (-0.6, 0.2, -0.05), C ~ N(0, I) seed 0,
d = 0.5, N(0, 1) inputs, noise 0.1) at several T, plus the dryer protocol (first
500 samples fit, last 500 validate, each half's means removed). BLAS runs on one
thread; solver and lfilter runs alternate and the minimum of each is kept, so the
ratio ("passes") holds on a shared machine.

The streaming table fits records written to ``.npy`` files and memory-mapped
(``np.load(mmap_mode="r")``): passes (solver time over one in-memory lfilter pass
of the same length, the lfilter rate measured at 1e6 and scaled beyond 1e7) and the
peak extra memory of the fit (``tracemalloc``: every numpy allocation, the mapped
record excluded) for the default ``gauss_newton`` and ``baselines.n4sid``. The
files are written a block at a time into a temporary folder and removed.

    python benchmarks/bench_solver.py [--repeats 3] [--max-t 1e7] [--skip-dryer]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import signal
from threadpoolctl import threadpool_limits

from learnlds import CanonicalSystem, LDSRegressor, gauss_newton
from learnlds.baselines import n4sid
from learnlds.datasets import load_daisy
from learnlds.validate import fit_percent, split_centred

TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], np.random.default_rng(0).normal(size=3), 0.5)


def min_pair(fn_a, fn_b, repeats: int) -> tuple[float, float]:
    """Minimum times of two callables run alternately (a b a b ...)."""
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((fn_a, ta), (fn_b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return min(ta), min(tb)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


DEN = [1.0, -0.6, 0.2, -0.05]


def synthetic(repeats: int) -> list[str]:
    rows = [
        "| T | lfilter pass (s) | solver (s) | passes | iterations | rel. impulse error "
        "| noise floor |",
        "|---|---|---|---|---|---|---|",
    ]
    r = TRUTH.markov(200)
    for T in (10**3, 10**4, 10**5, 10**6):
        rng = np.random.default_rng(1)
        x = rng.normal(size=T)
        y = TRUTH.simulate(x, noise_std=0.1, random_state=rng)
        res = gauss_newton(x, y, order=3, region="pacman")
        t_gn, t_lf = min_pair(
            lambda x=x, y=y: gauss_newton(x, y, order=3, region="pacman"),
            lambda x=x: signal.lfilter([1.0], DEN, x),
            max(repeats, 5),
        )
        err = np.linalg.norm(res.model.markov(200) - r) / np.linalg.norm(r)
        floor = 0.1 * np.sqrt(7 / T) / np.linalg.norm(r)
        rows.append(
            f"| {T:.0e} | {t_lf:.2e} | {t_gn:.3f} | {t_gn / t_lf:.0f} | {res.n_steps} | "
            f"{err:.2e} | {floor:.2e} |"
        )
    return rows


def write_record(folder: Path, T: int) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic record written a block at a time to u.npy / y.npy; memory-mapped back."""
    rng = np.random.default_rng(1)
    u = np.lib.format.open_memmap(folder / "u.npy", mode="w+", dtype=np.float64, shape=(T,))
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", dtype=np.float64, shape=(T,))
    num = np.r_[0.0, TRUTH.c[::-1]]
    zi = np.zeros(3)
    for t0 in range(0, T, 1 << 22):
        ub = rng.normal(size=min(1 << 22, T - t0))
        yb, zi = signal.lfilter(num, DEN, ub, zi=zi)
        u[t0 : t0 + ub.size] = ub
        y[t0 : t0 + ub.size] = yb + TRUTH.d * ub + 0.1 * rng.normal(size=ub.size)
    u.flush()
    y.flush()
    del u, y
    return np.load(folder / "u.npy", mmap_mode="r"), np.load(folder / "y.npy", mmap_mode="r")


def traced(fn) -> tuple[float, int, object]:
    """Seconds, tracemalloc peak (bytes) and result of one call."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, out


def streaming(max_t: float, repeats: int) -> list[str]:
    rows = [
        "| T | method | time (s) | passes | iterations | peak extra memory | bytes / sample "
        "| rel. impulse error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    r = TRUTH.markov(200)
    x = np.random.default_rng(0).normal(size=10**6)
    rate = min_pair(lambda: signal.lfilter([1.0], DEN, x), lambda: None, 5)[0] / x.size
    folder = Path(tempfile.mkdtemp(prefix="learnlds-bench-"))
    try:
        T = 10**4
        while T <= max_t:
            u, y = write_record(folder, T)
            t_lf = rate * T if T > 10**7 else None
            if t_lf is None:
                xs = np.array(u)  # an in-memory copy: the reference pass reads no file
                t_lf = min_pair(lambda xs=xs: signal.lfilter([1.0], DEN, xs), lambda: None, 3)[0]
            fits = {
                "LDSRegressor(order=3) (default fit)": lambda u=u, y=y: LDSRegressor(order=3).fit(
                    u, y
                ),
                "gauss_newton (paper's form)": lambda u=u, y=y: gauss_newton(
                    u, y, order=3, force=True
                ),
                "n4sid": lambda u=u, y=y: n4sid(u, y, 3),
            }
            for name, fit in fits.items():
                reps = repeats if T <= 10**6 else 1
                t = min(min_pair(fit, lambda: None, reps)[0], np.inf)  # untraced: the time
                _, peak, out = traced(fit)  # traced once: the memory
                model = getattr(out, "system_", getattr(out, "model", out))
                err = np.linalg.norm(model.markov(200) - r) / np.linalg.norm(r)
                steps = getattr(out, "n_steps", "")
                rows.append(
                    f"| {T:.0e} | {name} | {t:.3f} | {t / t_lf:.0f} | {steps} | "
                    f"{peak / 2**20:.2f} MiB | {peak / T:.3g} | {err:.2e} |"
                )
                print(rows[-1], flush=True)
            del u, y
            for f in folder.iterdir():
                f.unlink()
            T *= 10
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def streaming_mimo(max_t: float) -> list[str]:
    """Default MIMO state-space fits of mapped 2-in 2-out records: time and peak memory."""
    from learnlds.statespace import StateSpaceSystem

    rng = np.random.default_rng(4)
    truth = StateSpaceSystem(
        np.diag([0.9, 0.5, -0.3]),
        rng.normal(size=(3, 2)),
        rng.normal(size=(2, 3)),
        np.zeros((2, 2)),
    )
    rows = [
        "| T | time (s) | peak extra memory | bytes / sample | rel. Markov error |",
        "|---|---|---|---|---|",
    ]
    folder = Path(tempfile.mkdtemp(prefix="learnlds-bench-"))
    try:
        T = 10**4
        while T <= min(max_t, 10**7):
            u = rng.normal(size=(T, 2))
            y = truth.simulate(u) + 0.1 * rng.normal(size=(T, 2))
            np.save(folder / "u.npy", u)
            np.save(folder / "y.npy", y)
            del u, y
            mu = np.load(folder / "u.npy", mmap_mode="r")
            my = np.load(folder / "y.npy", mmap_mode="r")
            t, peak, est = traced(lambda mu=mu, my=my: LDSRegressor(order=3).fit(mu, my))
            h, r = est.system_.markov(60), truth.markov(60)
            err = np.linalg.norm(h - r) / np.linalg.norm(r)
            rows.append(
                f"| {T:.0e} | {t:.2f} | {peak / 2**20:.2f} MiB | {peak / T:.3g} | {err:.2e} |"
            )
            print(rows[-1], flush=True)
            del mu, my
            T *= 10
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def dryer(repeats: int) -> list[str]:
    d = load_daisy("dryer")
    ue, ye, uv, yv = split_centred(d.u1, d.y1)
    rows = ["| model | fit time (s) | estimation fit % | validation fit % |", "|---|---|---|---|"]
    configs = {
        "LDSRegressor(order=3) (default)": dict(order=3),
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
    parser.add_argument("--max-t", type=float, default=1e7, help="longest streamed record")
    parser.add_argument("--skip-dryer", action="store_true")
    args = parser.parse_args()
    with threadpool_limits(1):
        gauss_newton(np.random.default_rng(0).normal(size=200), np.ones(200), order=3, max_iter=3)
        n4sid(
            np.random.default_rng(0).normal(size=400), np.random.default_rng(1).normal(size=400), 2
        )
        lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"]
        lines += ["", "## Synthetic order 3", ""] + synthetic(args.repeats)
        lines += ["", "## Streaming from memory-mapped .npy records", ""]
        lines += streaming(args.max_t, args.repeats)
        lines += ["", "## MIMO (2 in, 2 out, order 3) default fit of memory-mapped records", ""]
        lines += streaming_mimo(args.max_t)
        if not args.skip_dryer:
            lines += ["", "## Dryer (DaISy)", ""] + dryer(args.repeats)
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).parent / "results" / "bench_solver.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")
