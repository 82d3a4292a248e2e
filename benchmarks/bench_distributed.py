"""Dask scale-out overhead: chunked Gauss-Newton against the in-memory solver.

Same data, same result; the table shows wall time of ``gauss_newton`` (in memory) and
``dask_gauss_newton`` on the threaded scheduler and on a local ``distributed`` cluster
(2 workers, data persisted), as ratios to the in-memory solver.

    python benchmarks/bench_distributed.py
"""

from __future__ import annotations

import time

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

from learnlds import CanonicalSystem, gauss_newton
from learnlds.distributed import as_sequence_chunks, dask_gauss_newton

TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.5, 0.3], 0.5)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    rows = ["| N x T | in memory (s) | dask threads (s) | ratio | dask 2 workers (s) | ratio |"]
    rows.append("|---|---|---|---|---|---|")
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    for N, T in ((64, 2_000), (256, 4_000)):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(N, T))
        y = TRUTH.simulate(x, noise_std=0.1, rng=rng)
        ref, t_mem = timed(lambda x=x, y=y: gauss_newton(x, y, order=3, burn_in=100))
        xd, yd = as_sequence_chunks(x, y, chunk=N // 8)
        res, t_thr = timed(lambda xd=xd, yd=yd: dask_gauss_newton(xd, yd, order=3, burn_in=100))
        assert np.allclose(res.model.markov(50), ref.model.markov(50), atol=1e-8)
        with Client(cluster):
            xp, yp = xd.persist(), yd.persist()
            res2, t_cl = timed(lambda xp=xp, yp=yp: dask_gauss_newton(xp, yp, order=3, burn_in=100))
        assert np.allclose(res2.model.markov(50), ref.model.markov(50), atol=1e-8)
        rows.append(
            f"| {N} x {T} | {t_mem:.3f} | {t_thr:.3f} | {t_thr / t_mem:.2f} | {t_cl:.3f} | "
            f"{t_cl / t_mem:.2f} |"
        )
    cluster.close()
    print("\n".join(rows))


if __name__ == "__main__":
    da.ones(1).compute()
    main()
