"""Streaming fits: block-by-block normal equations, records on disk, memory independent of T."""

from __future__ import annotations

import numpy as np
import pytest

from learnlds import CanonicalSystem, gauss_newton, train
from learnlds.train import LeastSquaresProblem, dense_normal_equations

CASES = [  # N, T, m, p, burn_in, learn_d
    (1, 5000, 1, 1, 0, True),
    (1, 5000, 1, 1, 2100, True),
    (3, 900, 2, 3, 100, True),
    (40, 120, 1, 2, 10, False),
    (500, 20, 1, 1, 5, True),
]


@pytest.mark.parametrize("block", [64, 1000, 8192])
@pytest.mark.parametrize(("N", "T", "m", "p", "b", "learn_d"), CASES)
def test_streaming_normal_equations_equal_dense(monkeypatch, block, N, T, m, p, b, learn_d):
    monkeypatch.setattr(train, "STREAM_BLOCK", block)
    rng = np.random.default_rng(N + T)
    u, y = rng.normal(size=(N, T, m)), rng.normal(size=(N, T, p))
    a = np.array([-0.6, 0.2, -0.05])
    c3, d3 = rng.normal(size=(3, p, m)), rng.normal(size=(p, m))
    prob = LeastSquaresProblem(u, y, b, 3, learn_d)
    sse, JtJ, Jtr = prob.normal_equations(a, c3, d3)
    sse0, JtJ0, Jtr0 = dense_normal_equations(prob, a, c3, d3)
    assert sse == pytest.approx(sse0, rel=1e-12)
    np.testing.assert_allclose(JtJ, JtJ0, rtol=1e-11, atol=1e-11 * np.abs(JtJ0).max())
    np.testing.assert_allclose(Jtr, Jtr0, rtol=1e-10, atol=1e-11 * np.abs(Jtr0).max())
    assert prob.sse(a, c3, d3) == pytest.approx(sse0, rel=1e-12)


def test_gauss_newton_independent_of_block(monkeypatch):
    truth = CanonicalSystem([-0.6, 0.2, -0.05], [1.0, -0.4, 0.3], 0.5)
    rng = np.random.default_rng(3)
    u = rng.normal(size=30_000)
    y = truth.simulate(u, noise_std=0.1, random_state=rng)
    ref = gauss_newton(u, y, order=3)
    monkeypatch.setattr(train, "STREAM_BLOCK", 777)
    res = gauss_newton(u, y, order=3)
    np.testing.assert_allclose(res.model.markov(50), ref.model.markov(50), atol=1e-9)
    assert res.n_steps == ref.n_steps
