"""Dask scale-out: chunked sums equal the in-memory computations."""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from learnlds.distributed import (  # noqa: E402
    as_sequence_chunks,
    dask_gauss_newton,
    dask_loss_and_grad,
    record_to_dask,
)
from learnlds.errors import ConvergenceWarning, DataError, FileFormatError, ParameterError  # noqa: E402
from learnlds.risk import loss, loss_and_grad  # noqa: E402
from learnlds.systems import CanonicalSystem  # noqa: E402
from learnlds.train import gauss_newton, projected_sgd, tile_windows  # noqa: E402

TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.5, 0.3], 0.5)


def _data(N=24, T=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T))
    return x, TRUTH.simulate(x, noise_std=0.1, random_state=rng)


def test_chunked_gradient_equals_in_memory():
    x, y = _data()
    model = CanonicalSystem([-0.3, 0.1, 0.0], [0.5, 0.2, 0.1], 0.2)
    xd, yd = as_sequence_chunks(x, y, chunk=5)  # uneven last chunk on purpose
    assert len(xd.chunks[0]) == 5
    v0, g0 = loss_and_grad(model, x, y, burn_in=50)
    v1, g1 = dask_loss_and_grad(model, xd, yd, burn_in=50)
    assert v1 == pytest.approx(v0, rel=1e-12)
    np.testing.assert_allclose(g1.flat(), g0.flat(), rtol=1e-11)


def test_dask_gauss_newton_matches_in_memory_solver():
    x, y = _data(N=16, T=300, seed=1)
    ref = gauss_newton(x, y, order=3, burn_in=75, region="pacman", sequences=True)
    res = dask_gauss_newton(da.from_array(x, chunks=(4, 300)), y, order=3, burn_in=75)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-8)
    assert res.best_loss == pytest.approx(ref.best_loss, rel=1e-9)


def test_dask_gauss_newton_mimo():
    rng = np.random.default_rng(2)
    truth = CanonicalSystem([-0.5, 0.1], rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3)))
    x = rng.normal(size=(6, 150, 3))
    res = dask_gauss_newton(x, truth.simulate(x), order=2, region=None)
    np.testing.assert_allclose(res.model.markov(20), truth.markov(20), atol=1e-7)


def test_record_windows_score_every_sample_once():
    rng = np.random.default_rng(3)
    x = rng.normal(size=5000)
    y = TRUTH.simulate(x, noise_std=0.05, random_state=rng)
    wx, wy = tile_windows(x, y, window=400, burn_in=100)
    # windows overlap by exactly the burn-in: scored parts tile the record
    np.testing.assert_array_equal(wx[1, :100], wx[0, 300:])
    scored = np.concatenate([w[100:] for w in wx])
    np.testing.assert_array_equal(scored, x[100 : 100 + scored.size])
    xd, yd = record_to_dask(x, y, window=400, burn_in=100, chunk=4)
    res = dask_gauss_newton(xd, yd, order=3, burn_in=100)
    r = TRUTH.markov(100)
    assert np.linalg.norm(res.model.markov(100) - r) / np.linalg.norm(r) < 0.02


def test_projected_sgd_with_distributed_objective():
    x, y = _data(N=20, T=150, seed=4)
    xd, yd = as_sequence_chunks(x, y, chunk=5)
    kw = dict(order=3, steps=40, lr=0.02, burn_in=30, random_state=0)
    local = projected_sgd(lambda rng: (x, y), **kw)
    dist = projected_sgd(lambda rng: (xd, yd), objective=dask_loss_and_grad, **kw)
    np.testing.assert_allclose(dist.model.a, local.model.a, atol=1e-10)
    assert dist.loss_history[-1] == pytest.approx(loss(local.model, x, y, 30), rel=1e-9)


def test_with_a_distributed_client():
    distributed = pytest.importorskip("distributed")
    x, y = _data(N=8, T=120, seed=5)
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ):
        xd, yd = as_sequence_chunks(x, y, chunk=2)
        v, _ = dask_loss_and_grad(TRUTH, xd.persist(), yd.persist(), burn_in=30)
    assert v == pytest.approx(loss(TRUTH, x, y, 30), rel=1e-12)


def test_bad_input():
    with pytest.raises(DataError, match="differ"):
        as_sequence_chunks(np.zeros((4, 10)), np.zeros((4, 11)))
    with pytest.raises(DataError, match="sequences=True needs"):
        as_sequence_chunks(np.zeros(10), np.zeros(10))
    with pytest.raises(DataError, match="2-D"):
        as_sequence_chunks(da.zeros(10), da.zeros(10))
    with pytest.raises(DataError, match="differ"):
        as_sequence_chunks(da.zeros((4, 10)), np.zeros((4, 11)))
    with pytest.raises(DataError, match="numeric"):
        as_sequence_chunks(da.from_array(np.array([["a"] * 3] * 2)), da.zeros((2, 3)))
    with pytest.raises(ParameterError, match="^chunk"):
        as_sequence_chunks(np.zeros((4, 10)), np.zeros((4, 10)), chunk=0)
    with pytest.raises(DataError, match="NaN"):
        as_sequence_chunks(np.full((4, 10), np.nan), np.zeros((4, 10)))
    with pytest.raises(DataError, match="^y: required"):  # was a TypeError from inside
        as_sequence_chunks(np.zeros((4, 10)), None)


def test_nan_inside_dask_data_is_reported_as_data_error():
    x, y = _data(N=8, T=50)
    x[5, 7] = np.nan
    xd, yd = as_sequence_chunks(da.from_array(x, chunks=(2, 50)), da.from_array(y, chunks=(2, 50)))
    with pytest.raises(DataError, match="u: contains NaN"):
        dask_loss_and_grad(TRUTH, xd, yd, burn_in=0)
    with pytest.raises(DataError, match="u: contains NaN"):
        dask_gauss_newton(xd, yd, order=2)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(max_iter=-3), "max_iter"),
        (dict(max_iter=2.5), "max_iter"),
        (dict(tol=-1.0), "tol"),
        (dict(order=0), "order"),
        (dict(burn_in=-1), "burn_in"),
        (dict(learn_d="no"), "learn_d"),
        (dict(stability_margin=2.0), "stability_margin"),
        (dict(region="round"), "region"),
        (dict(init="random"), "init"),
    ],
)
def test_dask_gauss_newton_checks_every_argument(kwargs, name):
    x, y = _data(N=4, T=50)
    with pytest.raises(ParameterError, match=f"^{name}"):
        dask_gauss_newton(x, y, **(dict(order=2) | kwargs))


def test_renamed_keywords_and_convergence_report():
    x, y = _data(N=4, T=100)
    with pytest.warns(DeprecationWarning, match="'x' is deprecated"):
        xd, yd = as_sequence_chunks(x=x, y=y, chunk=2)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        res = dask_gauss_newton(xd, yd, order=3, max_iter=1)
    assert not res.converged and res.stop_reason == "max_iter"
    with pytest.raises(ParameterError, match="^model"):
        dask_loss_and_grad("model", xd, yd)
    ud, _ = as_sequence_chunks(x[..., None], y[..., None])  # one channel: (N, T)
    assert ud.ndim == 2


# ------------------------------------------------- process workers, data on disk
@pytest.fixture(scope="module")
def process_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _saved(path, save, N, T, seed, chunk):
    """Sequences written to ``path`` by a ``distributed.save_*`` function; returned too."""
    x, y = _data(N=N, T=T, seed=seed)
    save(path, x, y, chunk=chunk)
    return x, y


def _stack(tmp_path, N=16, T=400, seed=6, chunk=4):
    from learnlds.distributed import save_npy_stack

    return _saved(tmp_path / "stack", save_npy_stack, N, T, seed, chunk)


def test_npy_stack_graph_reads_from_disk_not_from_the_client(tmp_path):
    import pickle

    from learnlds.distributed import open_npy_stack

    x, _ = _stack(tmp_path, N=64, T=2000)
    ud, yd = open_npy_stack(tmp_path / "stack")
    graph = dict(ud.__dask_graph__())
    assert len(pickle.dumps(graph)) < 10_000 < x.nbytes  # paths in the graph, not data
    np.testing.assert_array_equal(ud[7].compute(), x[7])
    from learnlds.distributed import DaskProblem

    files = DaskProblem(ud, yd, 0, 2, True)._files  # tasks open their own block
    assert files is not None and len(files[0]) == 16 and files[0][0].endswith("0.npy")
    assert DaskProblem(ud[:, :100], yd[:, :100], 0, 2, True)._files is None  # sliced: generic
    with pytest.raises(FileNotFoundError, match="no .npy stack"):
        open_npy_stack(tmp_path)


def test_process_workers_gauss_newton_from_npy_stack(tmp_path, process_client):
    from learnlds.distributed import open_npy_stack

    process_client.wait_for_workers(2)
    x, y = _stack(tmp_path)
    ref = gauss_newton(x, y, order=3, burn_in=50, sequences=True)
    ud, yd = open_npy_stack(tmp_path / "stack")
    res = dask_gauss_newton(ud, yd, order=3, burn_in=50)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)
    assert res.best_loss == pytest.approx(ref.best_loss, rel=1e-9)
    assert res.n_steps == ref.n_steps


def test_process_workers_projected_sgd_minibatches_from_npy_stack(tmp_path, process_client):
    from learnlds.distributed import dask_batches, open_npy_stack
    from learnlds.train import sequence_batches

    process_client.wait_for_workers(2)
    x, y = _stack(tmp_path, N=24, T=150, seed=7)
    ud, yd = open_npy_stack(tmp_path / "stack")
    kw = dict(order=3, steps=15, lr=0.02, burn_in=30, random_state=0)
    local = projected_sgd(sequence_batches(x, y, 6, sequences=True), **kw)
    dist = projected_sgd(dask_batches(ud, yd, 6), objective=dask_loss_and_grad, **kw)
    np.testing.assert_allclose(dist.model.a, local.model.a, atol=1e-10)
    np.testing.assert_allclose(dist.model.c, local.model.c, atol=1e-10)
    np.testing.assert_allclose(dist.loss_history[:-1], local.loss_history[:-1], rtol=1e-9)


@pytest.mark.slow
def test_worker_killed_mid_fit_does_not_change_the_result(tmp_path, process_client):
    """SIGKILL one worker process during a Gauss-Newton fit; its nanny restarts it and
    Dask recomputes the lost blocks from disk: the same model as in memory."""
    import os
    import signal
    import threading

    from learnlds import distributed as dist_mod
    from learnlds.distributed import open_npy_stack

    process_client.wait_for_workers(2)
    x, y = _stack(tmp_path, N=32, T=20_000, seed=8)
    ref = gauss_newton(x, y, order=3, burn_in=100, sequences=True)
    ud, yd = open_npy_stack(tmp_path / "stack")
    pids = process_client.run(os.getpid)  # address -> process id
    calls, second, killed = [0], threading.Event(), []
    original = dist_mod.DaskProblem.normal_equations

    def counting(self, *args):
        calls[0] += 1
        if calls[0] == 2:
            second.set()
        return original(self, *args)

    def busy(dask_scheduler):
        return [w.address for w in dask_scheduler.workers.values() if w.processing]

    def killer():  # once the second iteration is under way, kill a worker while it computes
        second.wait(60)
        for _ in range(5000):
            if working := process_client.run_on_scheduler(busy):
                killed.append(pids[working[0]])
                os.kill(killed[0], signal.SIGKILL)
                return

    thread = threading.Thread(target=killer)
    dist_mod.DaskProblem.normal_equations = counting
    try:
        thread.start()
        res = dask_gauss_newton(ud, yd, order=3, burn_in=100)
    finally:
        dist_mod.DaskProblem.normal_equations = original
        thread.join()
    assert killed and calls[0] > 2  # killed while computing, with iterations still to run
    process_client.wait_for_workers(2, timeout=60)  # the nanny brought a fresh worker
    assert killed[0] not in process_client.run(os.getpid).values()
    assert res.n_steps == ref.n_steps
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)
    assert res.best_loss == pytest.approx(ref.best_loss, rel=1e-9)


def test_disk_helpers_check_their_arguments(tmp_path):
    from learnlds.distributed import dask_batches, save_npy_stack

    x, y = _data(N=4, T=50)
    with pytest.raises(ParameterError, match="^batch_size"):
        dask_batches(x, y, batch_size=0)
    with pytest.raises(ParameterError, match="^chunk"):
        save_npy_stack(tmp_path, x, y, chunk=0)
    with pytest.raises(DataError, match="differ"):
        save_npy_stack(tmp_path, x, y[:, :-1])
    ub, yb = dask_batches(x, y, batch_size=10)(np.random.default_rng(0))  # all of them
    assert ub.shape == (4, 50)


# ------------------------------------------------------------------ zarr stores
def _zarr_store(tmp_path, N=16, T=400, seed=6, chunk=4):
    pytest.importorskip("zarr")
    from learnlds.distributed import save_zarr_sequences

    return _saved(tmp_path / "seq.zarr", save_zarr_sequences, N, T, seed, chunk)


def test_zarr_sequences_are_read_by_the_tasks_and_fit_like_in_memory(tmp_path):
    import pickle

    from learnlds.distributed import open_zarr_sequences

    x, y = _zarr_store(tmp_path, N=64, T=500)
    ud, yd = open_zarr_sequences(tmp_path / "seq.zarr")
    assert ud.shape == x.shape and ud.chunks[0] == (4,) * 16
    assert len(pickle.dumps(dict(ud.__dask_graph__()))) < 20_000 < x.nbytes  # no data inside
    np.testing.assert_array_equal(ud[9].compute(), x[9])
    ref = gauss_newton(x, y, order=3, burn_in=50, sequences=True)
    res = dask_gauss_newton(ud, yd, order=3, burn_in=50)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)


def test_zarr_sequences_errors(tmp_path):
    zarr = pytest.importorskip("zarr")
    from learnlds.distributed import open_zarr_sequences

    with pytest.raises(FileNotFoundError, match="no zarr store here"):
        open_zarr_sequences(tmp_path / "absent.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(FileFormatError, match="not a readable zarr group"):
        open_zarr_sequences(tmp_path / "empty.zarr")
    group = zarr.open_group(str(tmp_path / "half.zarr"), mode="w")
    group.create_array("u", data=np.zeros((4, 50)))
    with pytest.raises(FileFormatError, match="missing \\['y'\\] \\(see save_zarr"):
        open_zarr_sequences(tmp_path / "half.zarr")
    group = zarr.open_group(str(tmp_path / "time.zarr"), mode="w")
    group.create_array("u", data=np.zeros((4, 50)), chunks=(2, 10))
    group.create_array("y", data=np.zeros((4, 50)), chunks=(2, 10))
    with pytest.raises(DataError, match="along N only"):
        open_zarr_sequences(tmp_path / "time.zarr")


def test_process_workers_gauss_newton_from_zarr(tmp_path, process_client):
    from learnlds.distributed import open_zarr_sequences

    process_client.wait_for_workers(2)
    x, y = _zarr_store(tmp_path)
    ref = gauss_newton(x, y, order=3, burn_in=50, sequences=True)
    ud, yd = open_zarr_sequences(tmp_path / "seq.zarr")
    res = dask_gauss_newton(ud, yd, order=3, burn_in=50)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)
    assert res.n_steps == ref.n_steps
