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
from learnlds.risk import loss, loss_and_grad  # noqa: E402
from learnlds.systems import CanonicalSystem  # noqa: E402
from learnlds.train import gauss_newton, projected_sgd, tile_windows  # noqa: E402

TRUTH = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.5, 0.3], 0.5)


def _data(N=24, T=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T))
    return x, TRUTH.simulate(x, noise_std=0.1, rng=rng)


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
    ref = gauss_newton(x, y, order=3, burn_in=75, region="pacman")
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
    y = TRUTH.simulate(x, noise_std=0.05, rng=rng)
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
    kw = dict(order=3, steps=40, lr=0.02, burn_in=30, rng=0)
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
    with pytest.raises(ValueError, match="differ"):
        as_sequence_chunks(np.zeros((4, 10)), np.zeros((4, 11)))
    with pytest.raises(ValueError, match="2-D"):
        as_sequence_chunks(np.zeros(10), np.zeros(10))
