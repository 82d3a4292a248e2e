"""Projected SGD (Algorithms 1 and 2) and the fast Gauss-Newton solver."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from learnlds.region import PacmanRegion
from learnlds.risk import population_risk
from learnlds.systems import CanonicalSystem
from learnlds.train import (
    DivergenceWarning,
    TrainingDiverged,
    fresh_batches,
    gauss_newton,
    projected_sgd,
    sequence_batches,
    window_batches,
)

SYNTH = CanonicalSystem([-0.6, 0.2, -0.05], np.random.default_rng(0).normal(size=3), 0.5)


def _in_region_target(n: int, seed: int) -> CanonicalSystem:
    rng = np.random.default_rng(seed)
    a = PacmanRegion().sample(n, 1, rng)[0]
    return CanonicalSystem(a, rng.normal(size=n), 0.3)


@pytest.mark.parametrize("n,seed", [(3, 1), (4, 2)])
def test_projected_sgd_reaches_noise_floor(n, seed):
    """Experiment (a), small: population risk within 1 % of sigma^2 from fresh samples."""
    truth = _in_region_target(n, seed)
    sigma = 0.5
    res = projected_sgd(
        fresh_batches(truth, 200, batch_size=20, noise_std=sigma),
        order=n,
        steps=3000,
        lr=lambda k: 0.01 / np.sqrt(1 + k / 1000),
        burn_in=50,
        rng=0,
    )
    risk = population_risk(res.model, truth, 200, burn_in=50, noise_std=sigma)
    assert risk <= 1.01 * sigma**2
    assert not res.diverged and res.stop_reason == "max_steps"


def test_iterates_stay_in_region_and_steps_are_bounded_by_clip():
    truth = CanonicalSystem([-1.2, 0.5], [1.0, -0.5], 0.0)  # outside the region
    region = PacmanRegion()
    seen = []

    def check(k, model, value):
        seen.append(model)
        assert region.contains(model.a, tol=1e-9)

    lr, clip = 0.1, 0.5
    res = projected_sgd(
        fresh_batches(truth, 100, batch_size=4),
        order=2,
        steps=200,
        lr=lr,
        clip=clip,
        burn_in=25,
        rng=3,
        callback=check,
    )
    assert len(seen) == 201 and res.projections > 0
    for m0, m1 in zip(seen[:-1], seen[1:], strict=True):
        step = np.sqrt(np.sum((m1.a - m0.a) ** 2) + np.sum((m1.c - m0.c) ** 2) + (m1.d - m0.d) ** 2)
        assert step <= lr * clip + 1e-9


def test_plain_sgd_divergence_is_reported_not_returned_as_nan():
    truth = CanonicalSystem([-1.5, 0.7], [1.0, 1.0], 0.0)
    source = fresh_batches(truth, 200, batch_size=1)
    with pytest.warns(DivergenceWarning, match="diverged"):
        res = projected_sgd(source, order=2, steps=500, lr=5.0, region=None, rng=0)
    assert res.diverged and "diverged" in res.stop_reason
    assert np.all(np.isfinite(res.model.a)) and np.all(np.isfinite(res.model.c))
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        projected_sgd(source, order=2, steps=500, lr=5.0, region=None, rng=0, on_divergence="raise")


def test_deterministic_for_a_seed_and_snapshots():
    src = fresh_batches(SYNTH, 50, batch_size=2, noise_std=0.1)
    kw = dict(order=3, steps=60, lr=0.01, rng=7, snapshot_every=20, init="identity")
    r1, r2 = projected_sgd(src, **kw), projected_sgd(src, **kw)
    assert r1.model == r2.model
    np.testing.assert_array_equal(r1.loss_history, r2.loss_history)
    assert [k for k, _ in r1.snapshots] == [0, 20, 40, 60]
    assert r1.snapshots[0][1] == CanonicalSystem(np.zeros(3), np.zeros(3), 1.0)
    assert r1.loss_history.shape == (61,)


def test_post_setting_gd_on_one_sequence_decreases_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = SYNTH.simulate(x, noise_std=0.05, rng=rng)
    res = projected_sgd(
        sequence_batches(x, y), order=3, steps=300, lr=0.05, burn_in=0, init="identity"
    )
    assert res.loss_history[-1] < 0.2 * res.loss_history[0]


def test_batch_sources_shapes_and_errors():
    x = np.arange(100.0)
    y = 2 * x
    xb, yb = window_batches(x, y, window=10, batch_size=4)(np.random.default_rng(0))
    assert xb.shape == (4, 10)
    np.testing.assert_array_equal(yb, 2 * xb)
    assert np.all(np.diff(xb, axis=1) == 1)  # contiguous windows
    xs = np.arange(60.0).reshape(6, 10)
    xb, _ = sequence_batches(xs, xs, batch_size=3)(np.random.default_rng(0))
    assert xb.shape == (3, 10) and len({tuple(r) for r in xb}) == 3
    with pytest.raises(ValueError, match="window"):
        window_batches(x, y, window=1000)
    with pytest.raises(ValueError, match="batch_size"):
        sequence_batches(xs, xs, batch_size=0)
    with pytest.raises(ValueError, match="order"):
        projected_sgd(sequence_batches(xs, xs), steps=5)
    with pytest.raises(ValueError, match="init"):
        projected_sgd(sequence_batches(xs, xs), order=2, steps=5, init="random")
    with pytest.raises(ValueError, match="lr"):
        projected_sgd(sequence_batches(xs, xs), order=2, steps=5, lr=-1.0)


def test_algorithm2_windows_learn_from_one_long_record():
    rng = np.random.default_rng(5)
    truth = _in_region_target(2, 5)
    x = rng.normal(size=20_000)
    y = truth.simulate(x, noise_std=0.1, rng=rng)
    res = projected_sgd(
        window_batches(x, y, window=80, batch_size=16),
        order=2,
        steps=1500,
        lr=lambda k: 0.03 / np.sqrt(1 + k / 300),
        burn_in=20,
        rng=1,
    )
    r, rh = truth.markov(50), res.model.markov(50)
    assert np.linalg.norm(rh - r) / np.linalg.norm(r) < 0.05


@pytest.mark.parametrize("region", [None, "pacman"])
def test_gauss_newton_reaches_noise_floor(region):
    rng = np.random.default_rng(1)
    T = 100_000
    x = rng.normal(size=T)
    y = SYNTH.simulate(x, noise_std=0.1, rng=rng)
    res = gauss_newton(x, y, order=3, region=region)
    r, rh = SYNTH.markov(200), res.model.markov(200)
    err = np.linalg.norm(rh - r) / np.linalg.norm(r)
    floor = 0.1 * np.sqrt(7 / T) / np.linalg.norm(r)
    assert err < 3 * floor
    assert "converged" in res.stop_reason
    assert np.all(np.diff(res.loss_history) <= 1e-15)


def test_gauss_newton_region_keeps_a_inside_for_outside_truth():
    truth = CanonicalSystem([-1.7, 1.0, -0.22], [0.07, 0.0, 0.0], 0.0)
    rng = np.random.default_rng(2)
    x = rng.normal(size=2000)
    res = gauss_newton(x, truth.simulate(x), order=3, region="pacman", max_iter=30)
    assert PacmanRegion().contains(res.model.a)
    free = gauss_newton(x, truth.simulate(x), order=3, region=None)
    np.testing.assert_allclose(free.model.a, truth.a, atol=1e-6)


def test_gauss_newton_mimo_common_denominator_exact():
    rng = np.random.default_rng(3)
    n, p, m = 2, 2, 3
    truth = CanonicalSystem([-0.5, 0.1], rng.normal(size=(n, p, m)), rng.normal(size=(p, m)))
    x = rng.normal(size=(2, 500, m))
    y = truth.simulate(x)
    res = gauss_newton(x, y, order=n, region=None)
    np.testing.assert_allclose(res.model.markov(30), truth.markov(30), atol=1e-7)
    assert not res.model.is_siso and res.model.c.shape == (n, p, m)


def test_gauss_newton_too_little_data():
    with pytest.raises(ValueError, match="order"):
        gauss_newton(np.ones(5) * [1, -1, 1, -1, 1], np.ones(5), order=3)


def test_warnings_clean_on_normal_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        projected_sgd(fresh_batches(SYNTH, 30), order=3, steps=10, lr=0.001, rng=0)


def test_projected_sgd_learns_mimo_in_region():
    """SPEC section 6: one scalar denominator projected, S and D free."""
    rng = np.random.default_rng(8)
    a = PacmanRegion().sample(2, 1, rng)[0]
    truth = CanonicalSystem(a, rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3)))
    x = rng.normal(size=(40, 120, 3))
    y = truth.simulate(x, noise_std=0.01, rng=rng)
    res = projected_sgd(
        sequence_batches(x, y, batch_size=8),
        order=2,
        steps=1500,
        lr=lambda k: 0.02 / np.sqrt(1 + k / 500),
        burn_in=30,
        rng=0,
    )
    assert res.model.c.shape == (2, 2, 3) and res.model.d.shape == (2, 3)
    assert PacmanRegion().contains(res.model.a)
    np.testing.assert_allclose(res.model.markov(20), truth.markov(20), atol=0.02)
