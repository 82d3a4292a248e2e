"""Dask scale-out: throughput of the Gauss-Newton normal equations against workers and data size.

Sequences of the synthetic order-3 system are written as ``.npy`` stacks
(:func:`learnlds.distributed.save_npy_stack`) and read back by the workers themselves
(:func:`learnlds.distributed.open_npy_stack`: each block memory-mapped inside its
task, nothing shipped from the client). For each data size and number of process
workers (``LocalCluster(processes=True, threads_per_worker=1)``) the table gives the
time of one evaluation of the normal equations (one Gauss-Newton iteration: the
scheduler round trip, every block streamed once, the small matrices summed on the
client), its throughput in samples per second, and the same on the client in
memory for comparison; then a whole ``dask_gauss_newton`` fit, checked equal to the
in-memory ``gauss_newton``. BLAS runs on one thread everywhere.

    python benchmarks/bench_distributed.py [--sizes 64x20000,256x20000,256x80000] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from threadpoolctl import threadpool_limits

from learnlds import CanonicalSystem, gauss_newton
from learnlds.distributed import DaskProblem, dask_gauss_newton, open_npy_stack, save_npy_stack
from learnlds.train import LeastSquaresProblem

TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.5, 0.3], 0.5)
THETA = (np.array([-0.5, 0.1, 0.0]), np.array([0.9, -0.4, 0.2])[:, None, None], np.eye(1))


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _block(k: int, n: int, T: int, which: int) -> np.ndarray:
    """Block ``k`` of the sequences (seeded by ``k``: u and y agree however often it runs)."""
    rng = np.random.default_rng(k)
    u = rng.normal(size=(n, T))
    return u if which == 0 else TRUTH.simulate(u, noise_std=0.1, random_state=rng, sequences=True)


def write_stack(folder: Path, N: int, T: int, chunk: int) -> None:
    """Sequences generated and written block by block (never all in memory at once)."""
    counts = [min(chunk, N - n0) for n0 in range(0, N, chunk)]
    u, y = (
        da.concatenate(
            [
                da.from_delayed(dask.delayed(_block)(k, n, T, which), (n, T), float)
                for k, n in enumerate(counts)
            ]
        )
        for which in (0, 1)
    )
    save_npy_stack(folder, u, y)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="64x20000,256x20000,256x80000")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    rows = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "",
        "| N x T | samples | workers | iteration (s) | samples/s | in memory (s) | "
        "full fit (s) | iterations | equal to in-memory |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    root = Path(tempfile.mkdtemp(prefix="learnlds-dask-"))
    try:
        for N, T in sizes:
            folder = root / f"{N}x{T}"
            write_stack(folder, N, T, chunk=max(1, N // 16))
            ud, yd = open_npy_stack(folder)
            u3 = np.load(folder / "u" / "0.npy", mmap_mode="r")  # warm the kernels
            LeastSquaresProblem(u3[:, :, None], u3[:, :, None], 0, 3, True).normal_equations(*THETA)
            mem_prob = LeastSquaresProblem(
                np.asarray(ud)[:, :, None], np.asarray(yd)[:, :, None], 100, 3, True
            )
            t_mem = best(lambda p=mem_prob: p.normal_equations(*THETA))
            ref = gauss_newton(mem_prob.u, mem_prob.y, order=3, burn_in=100, sequences=True)
            del mem_prob
            for w in workers:
                cluster = LocalCluster(
                    n_workers=w, processes=True, threads_per_worker=1, dashboard_address=None
                )
                with Client(cluster):
                    prob = DaskProblem(ud, yd, 100, 3, True)
                    prob.normal_equations(*THETA)  # workers import and load the kernels
                    t_it = best(lambda p=prob: p.normal_equations(*THETA))
                    t0 = time.perf_counter()
                    res = dask_gauss_newton(ud, yd, order=3, burn_in=100)
                    t_fit = time.perf_counter() - t0
                cluster.close()
                same = np.allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)
                rows.append(
                    f"| {N} x {T} | {N * T:.2e} | {w} | {t_it:.3f} | {N * T / t_it:.2e} | "
                    f"{t_mem:.3f} | {t_fit:.2f} | {res.n_steps} | {same} |"
                )
                print(rows[-1], flush=True)
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = "\n".join(rows)
    print(text)
    out = Path(__file__).parent / "results" / "bench_distributed.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    with threadpool_limits(1):
        main()
