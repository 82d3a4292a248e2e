"""Quasi-convexity tools (moved from region to analysis): idealized risk gradient, ratios, tau."""

from __future__ import annotations

import numpy as np
import pytest

from learnlds import CanonicalSystem, idealized_risk
from learnlds.analysis import (
    TauProfile,
    convexity_gap,
    estimate_tau,
    idealized_risk_and_grad,
    quasi_convexity_gap,
    quasi_convexity_ratios,
    segment_profile,
    tau_along_directions,
)
from learnlds.errors import DataError, ParameterError, UnsupportedShapeError
from learnlds.region import PacmanRegion

POST = PacmanRegion()


# --------------------------------------------------------------------------- idealized risk and tau
def _theta(sys: CanonicalSystem) -> np.ndarray:
    return np.concatenate((sys.a, sys.c))


def test_idealized_risk_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(80)
    for n in (1, 3, 5):
        truth = CanonicalSystem(POST.sample(n, 1, rng)[0], rng.normal(size=n))
        model = CanonicalSystem(POST.sample(n, 1, rng)[0], rng.normal(size=n))
        g, grad = idealized_risk_and_grad(model, truth)
        assert g == pytest.approx(idealized_risk(model, truth), rel=1e-12)
        th = _theta(model)

        def f(v: np.ndarray, n: int = n, truth: CanonicalSystem = truth) -> float:
            return idealized_risk(CanonicalSystem(v[:n], v[n:]), truth)

        eps = 1e-6
        fd = np.array([(f(th + eps * e) - f(th - eps * e)) / (2 * eps) for e in np.eye(2 * n)])
        np.testing.assert_allclose(np.concatenate((grad.a, grad.c)), fd, rtol=1e-6, atol=1e-6)
    g, grad = idealized_risk_and_grad(truth, truth)
    assert g == 0.0 and np.all(grad.a == 0) and np.all(grad.c == 0)


def test_estimate_tau_positive_for_targets_in_region() -> None:
    rng = np.random.default_rng(90)
    for n in (2, 3):
        for _ in range(2):
            target = CanonicalSystem(POST.sample(n, 1, rng)[0], rng.normal(size=n))
            tau, ratios = estimate_tau(
                target, POST, samples=60, random_state=rng, return_ratios=True
            )
            assert tau > 0
            assert ratios.shape == (60,) and tau == np.nanmin(ratios)


def test_target_outside_region_breaks_quasi_convexity() -> None:
    """Documented counter-example.

    Target ``p(z) = (z - 0.9 e^{0.6i})(z - 0.9 e^{-0.6i})``, ``c* = (0, 1)``: stable but
    outside the Pac-Man region (margin ~ -0.92). At the model point ``ahat = (0.06, 0.63)``
    (inside the region), ``chat = (0.32, 0.7)`` the ratio ``<grad g, theta - theta*> / g`` is
    about -0.061 < 0, and along the segment towards ``theta*`` the risk first *rises* above
    its value at both ends: ``g`` is not quasi-convex there.
    """
    a_star = np.poly([0.9 * np.exp(0.6j), 0.9 * np.exp(-0.6j)])[1:].real
    target = CanonicalSystem(a_star, [0.0, 1.0])
    assert not POST.contains(a_star)
    ahat, chat = np.array([0.06, 0.63]), np.array([0.32, 0.7])
    assert POST.contains(ahat)
    ratios, gs = quasi_convexity_ratios(target, ahat, chat)
    assert ratios[0] < -0.05
    # the gradient there is right (so the sign is not a gradient bug)
    th = np.concatenate((ahat, chat))

    def f(v: np.ndarray) -> float:
        return idealized_risk(CanonicalSystem(v[:2], v[2:]), target)

    t, vals = segment_profile(f, th, _theta(target), num=201)
    assert t[0] == 0 and t[-1] == 1
    assert vals[-1] == pytest.approx(0.0, abs=1e-20)
    assert np.max(vals) > vals[0] + 1e-3  # a bump above max(f(theta), f(theta*))
    # the same model point against a target inside the region behaves
    inside = CanonicalSystem([0.3, 0.1], [0.0, 1.0])
    assert quasi_convexity_ratios(inside, ahat, chat)[0][0] > 0


# --------------------------------------------------------------------------- arguments
def test_argument_validation() -> None:
    with pytest.raises(DataError, match="theta1"):
        segment_profile(np.sum, [0.0, 1.0], [1.0])
    with pytest.raises(ParameterError, match="num"):
        segment_profile(np.sum, [0.0], [1.0], num=1)
    with pytest.raises(ParameterError, match="^f:"):
        segment_profile("sum", [0.0], [1.0])
    with pytest.raises(ParameterError, match="target"):
        estimate_tau("not a system")
    truth = CanonicalSystem([0.3], [1.0])
    mimo = CanonicalSystem([0.3], np.ones((1, 2, 2)))
    with pytest.raises(UnsupportedShapeError, match="target"):
        estimate_tau(mimo)
    with pytest.raises(UnsupportedShapeError, match="model"):
        idealized_risk_and_grad(mimo, truth)
    with pytest.raises(ParameterError, match="samples"):
        estimate_tau(truth, samples=0)
    with pytest.raises(ParameterError, match="region"):
        estimate_tau(truth, region="post")
    with pytest.raises(ParameterError, match="return_ratios"):
        estimate_tau(truth, samples=2, return_ratios=1)
    with pytest.raises(DataError, match="ahat, chat"):
        quasi_convexity_ratios(truth, [[0.1, 0.2]], [[0.1, 0.2]])


def test_estimate_tau_deprecated_rng_and_reproducible() -> None:
    truth = CanonicalSystem([-0.5], [1.0])
    ref = estimate_tau(truth, samples=5, random_state=3)
    with pytest.warns(DeprecationWarning, match="'rng'"):
        assert estimate_tau(truth, samples=5, rng=3) == ref


def test_analysis_lives_apart_from_the_region() -> None:
    """The quasi-convexity tools moved to analysis; region keeps only the region."""
    import learnlds
    from learnlds import analysis, region

    for name in analysis.__all__:
        assert not hasattr(region, name)
    assert learnlds.estimate_tau is analysis.estimate_tau


def test_tau_along_directions_in_region_positive_and_checks() -> None:
    rng = np.random.default_rng(5)
    truth = CanonicalSystem(POST.sample(4, 1, rng)[0], rng.normal(size=4))
    prof = tau_along_directions(truth, truth, directions=8, random_state=1)
    assert isinstance(prof, TauProfile) and prof.ratios.shape == (8, 5)
    assert prof.admissible.all() and prof.reference == 0.0 and prof.tau > 0
    again = tau_along_directions(truth, truth, directions=8, random_state=1)
    np.testing.assert_array_equal(prof.ratios, again.ratios)  # reproducible
    # over-parameterized reference (order 6 for an order-4 truth): it runs, g0 >= 0
    over = CanonicalSystem(np.concatenate((truth.a, [0.0, 0.0])), np.r_[truth.c, 0.0, 0.0])
    p6 = tau_along_directions(truth, over, directions=3, region=None, random_state=0)
    assert p6.ratios.shape == (3, 5) and p6.reference >= 0.0
    for kwargs, name in (
        ({"directions": 0}, "directions"),
        ({"fractions": (0.0, 0.5)}, "fractions"),
        ({"fractions": (1.5,)}, "fractions"),
        ({"region": "bogus"}, "region"),
    ):
        with pytest.raises(ParameterError, match=name):
            tau_along_directions(truth, truth, **kwargs)
    with pytest.raises(ParameterError, match="reference"):
        tau_along_directions(over, truth)


def test_convexity_gap_checks() -> None:
    t = np.linspace(0.0, 1.0, 5)
    assert convexity_gap(t, np.ones(5)) == 0.0 and quasi_convexity_gap(np.ones(5)) == 0.0
    with pytest.raises(DataError, match="t"):
        convexity_gap(t[::-1], t)
    with pytest.raises(DataError, match="values"):
        quasi_convexity_gap([1.0, 2.0])
