"""Balanced truncation: exactness on padded systems, the error bound, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from learnlds.errors import ParameterError, UnsupportedShapeError
from learnlds.reduce import gramians, hankel_singular_values, reduce
from learnlds.systems import CanonicalSystem


def test_reduce_removes_a_cancelled_pole_exactly():
    """G * (z - 0.3)/(z - 0.3) is order n+1 but G; truncation to n recovers G."""
    g = CanonicalSystem.random_stable(3, 0.8, np.random.default_rng(0), d=0.2)
    num, den = g.to_tf()
    padded = CanonicalSystem.from_tf(np.polymul(num, [1, -0.3]), np.polymul(den, [1, -0.3]))
    assert padded.order == 4
    hsv = hankel_singular_values(padded)
    assert hsv[-1] < 1e-7 * hsv[0]  # sqrt of a rounding-level eigenvalue
    r = reduce(padded, 3)
    np.testing.assert_allclose(r.markov(60), g.markov(60), atol=1e-7)


def test_error_bound_twice_the_tail_of_hankel_singular_values():
    g = CanonicalSystem.random_stable(6, 0.9, np.random.default_rng(1))
    hsv = hankel_singular_values(g)
    w = np.linspace(0, np.pi, 4000)
    for k in (2, 4):
        r = reduce(g, k)
        err = np.max(np.abs(g.frequency_response(w) - r.frequency_response(w)))
        assert err <= 2 * hsv[k:].sum() * (1 + 1e-6)


def test_gramians_solve_their_lyapunov_equations():
    g = CanonicalSystem.random_stable(4, 0.9, np.random.default_rng(2))
    A, B, C, _ = g.to_state_space()
    P, Q = gramians(g)
    np.testing.assert_allclose(A @ P @ A.T + B @ B.T, P, atol=1e-10)
    np.testing.assert_allclose(A.T @ Q @ A + C.T @ C, Q, atol=1e-10)
    np.testing.assert_allclose(
        np.sort(hankel_singular_values(g)),
        np.sort(np.sqrt(np.abs(linalg.eigvals(P @ Q)))),
        rtol=1e-6,
    )


def test_reduce_errors():
    g = CanonicalSystem([-0.5, 0.1], [1.0, 0.5])
    for bad in (3, 0, 1.5, True, None):
        with pytest.raises(ParameterError, match="^order:"):
            reduce(g, bad)
    with pytest.raises(ParameterError, match="stable"):
        reduce(CanonicalSystem([-2.5, 1.0], [1.0, 0.0]), 1)
    with pytest.raises(ParameterError, match="^system:"):
        reduce("g", 1)
    with pytest.raises(UnsupportedShapeError, match="system"):
        reduce(CanonicalSystem([-0.5, 0.1], np.ones((2, 2, 2))), 1)
    assert reduce(g, 2) is g


def test_reduced_system_simulates_like_the_truncated_realisation():
    """The canonical form of the balanced truncation has the same response as that realisation."""
    g = CanonicalSystem.random_stable(6, 0.9, np.random.default_rng(4), d=0.3)
    r = reduce(g, 3)
    u = np.random.default_rng(5).normal(size=300)
    # error bound in the time domain: ||y - y_r||_2 <= ||G - G_r||_inf ||u||_2
    hsv = hankel_singular_values(g)
    err = np.linalg.norm(g.simulate(u) - r.simulate(u))
    assert err <= 2 * hsv[3:].sum() * np.linalg.norm(u) * (1 + 1e-6)
