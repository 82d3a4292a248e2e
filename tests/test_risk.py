"""Losses, gradients and risks against independent computations (SPEC section 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnlds import CanonicalSystem, _kernels, idealized_risk, loss, loss_and_grad, population_risk
from learnlds.errors import DataError, ParameterError, UnsupportedShapeError
from learnlds.risk import Gradient

FAST = settings(max_examples=30, deadline=None)
ENGINES = ["numba", "scipy"] if _kernels.HAVE_NUMBA else ["scipy"]

orders = st.integers(1, 8)
seeds = st.integers(0, 2**32 - 1)


def make_problem(n: int, N: int, T: int, seed: int, noise: float = 0.3):
    """A random model, a different random truth, inputs and noisy outputs."""
    rng = np.random.default_rng(seed)
    truth = CanonicalSystem.random_stable(n, 0.8, rng, d=float(rng.normal()))
    model = CanonicalSystem.random_stable(n, 0.8, rng, d=float(rng.normal()))
    x = rng.normal(size=(N, T))
    y = truth.simulate(x, sequences=True) + noise * rng.normal(size=(N, T))
    return model, truth, x, y


def explicit_loss(model: CanonicalSystem, x: np.ndarray, y: np.ndarray, b: int) -> float:
    """Mean squared residual after the burn-in, from ``simulate`` (independent of the kernels)."""
    res = model.simulate(x, sequences=True) - y
    return float(np.mean(res[..., b:] ** 2))


def fd_gradient(model: CanonicalSystem, x, y, b: int, h: float = 1e-6) -> np.ndarray:
    """Five-point central differences of :func:`explicit_loss` in (a, c, d).

    Truncation error O(h^4): two-point differences (O(h^2)) missed by ~2e-6 on an
    order-6 model whose loss curves steeply (poles that a coefficient step of 1e-4
    pushes out of the unit circle); rounding error stays O(eps f / h), ~1e-11 here.
    """
    theta = np.concatenate((model.a, model.c, [float(model.d)]))
    n = model.order

    def f(th: np.ndarray) -> float:
        return explicit_loss(CanonicalSystem(th[:n], th[n : 2 * n], th[-1]), x, y, b)

    g = np.empty_like(theta)
    for i in range(theta.size):
        step = h * max(1.0, abs(theta[i]))
        e = np.zeros_like(theta)
        e[i] = step
        g[i] = (8 * (f(theta + e) - f(theta - e)) - (f(theta + 2 * e) - f(theta - 2 * e))) / (
            12 * step
        )
    return g


# --------------------------------------------------------------------------- gradient
@FAST
@given(n=orders, T=st.integers(2, 150), N=st.integers(1, 3), seed=seeds, data=st.data())
def test_gradient_matches_finite_differences_both_engines(n, T, N, seed, data):
    b = data.draw(st.integers(0, T - 1), label="burn_in")
    model, _, x, y = make_problem(n, N, T, seed)
    ref = fd_gradient(model, x, y, b)
    results = {}
    for engine in ENGINES:
        val, g = loss_and_grad(model, x, y, burn_in=b, engine=engine, sequences=True)
        assert isinstance(g, Gradient)
        assert g.a.shape == (n,) and g.c.shape == (n,) and np.ndim(g.d) == 0
        flat = g.flat()
        err = np.linalg.norm(flat - ref) / np.linalg.norm(ref)
        assert err < 1e-6, (engine, err)
        assert val == pytest.approx(explicit_loss(model, x, y, b), rel=1e-10)
        results[engine] = (val, flat)
    if len(results) == 2:
        (v1, g1), (v2, g2) = results.values()
        assert abs(v1 - v2) <= 1e-10 * abs(v2)
        assert np.linalg.norm(g1 - g2) <= 1e-10 * np.linalg.norm(g2)


@pytest.mark.parametrize("engine", ENGINES)
def test_long_sequences_cross_kernel_chunks(engine):
    """T spans several kernel chunks, with a burn-in past the first chunk boundary."""
    T = 3 * _kernels._CHUNK + 17
    model, _, x, y = make_problem(8, 2, T, 12)
    b = _kernels._CHUNK + 5
    val, g = loss_and_grad(model, x, y, burn_in=b, engine=engine)
    assert val == pytest.approx(explicit_loss(model, x, y, b), rel=1e-10)
    assert loss(model, x, y, burn_in=b, engine=engine) == pytest.approx(val, rel=1e-12)
    _, g_ref = loss_and_grad(model, x, y, burn_in=b, engine="scipy")
    assert np.linalg.norm(g.flat() - g_ref.flat()) <= 1e-10 * np.linalg.norm(g_ref.flat())
    # c and d enter linearly: check those components against finite differences too
    ref = fd_gradient(model, x[:, : 2 * _kernels._CHUNK], y[:, : 2 * _kernels._CHUNK], b)
    _, g_short = loss_and_grad(
        model, x[:, : 2 * _kernels._CHUNK], y[:, : 2 * _kernels._CHUNK], b, engine=engine
    )
    assert np.linalg.norm(g_short.flat() - ref) < 1e-6 * np.linalg.norm(ref)


def test_gradient_vanishes_at_the_truth_without_noise():
    model, truth, x, y = make_problem(3, 2, 200, 5, noise=0.0)
    for engine in ENGINES:
        val, g = loss_and_grad(truth, x, y, burn_in=0, engine=engine)
        assert val < 1e-25
        assert g.norm() < 1e-12


def test_batch_loss_is_mean_over_sequences_and_1d_equals_2d():
    model, _, x, y = make_problem(4, 5, 80, 9)
    per_seq = [loss(model, x[i], y[i], burn_in=10) for i in range(5)]
    assert loss(model, x, y, burn_in=10) == pytest.approx(np.mean(per_seq), rel=1e-12)
    v1, g1 = loss_and_grad(model, x[2], y[2], burn_in=10)
    v2, g2 = loss_and_grad(model, x[2:3], y[2:3], burn_in=10)
    assert v1 == v2 and np.array_equal(g1.flat(), g2.flat())


# --------------------------------------------------------------------------- loss
@FAST
@given(n=orders, T=st.integers(1, 200), N=st.integers(1, 4), seed=seeds)
def test_loss_equals_explicit_mean_and_default_burn_in(n, T, N, seed):
    model, _, x, y = make_problem(n, N, T, seed)
    for engine in ENGINES:
        kw = {"engine": engine, "sequences": True}
        default = loss(model, x, y, **kw)
        assert default == pytest.approx(explicit_loss(model, x, y, T // 4), rel=1e-10)
        assert default == loss(model, x, y, burn_in=T // 4, **kw)
        assert loss_and_grad(model, x, y, **kw)[0] == pytest.approx(default, rel=1e-12)
        assert loss(model, x, y, burn_in=0, **kw) == pytest.approx(
            explicit_loss(model, x, y, 0), rel=1e-10
        )


@pytest.mark.parametrize("burn_in", [10, 11, 100, -1, True, False, 2.0, "3"])
def test_bad_burn_in(burn_in):
    model, _, x, y = make_problem(2, 1, 10, 0)
    with pytest.raises(ValueError, match="burn_in"):
        loss(model, x, y, burn_in=burn_in)
    with pytest.raises(ValueError, match="burn_in"):
        loss_and_grad(model, x, y, burn_in=burn_in)


def test_bad_data():
    model, _, x, y = make_problem(2, 2, 10, 0)
    with pytest.raises(DataError, match=r"u and y"):
        loss(model, x, y[:, :9])
    with pytest.raises(DataError, match=r"u and y"):
        loss_and_grad(model, x[0], y)
    with pytest.raises(DataError, match=r"^u:"):
        loss(model, x[None], y[None])
    with pytest.raises(DataError, match=r"^y:|u and y"):
        loss_and_grad(model, x, y[None])
    bad = y.copy()
    bad[1, 3] = np.nan
    with pytest.raises(DataError, match=r"^y:.*NaN"):
        loss_and_grad(model, x, bad)
    bad = x.copy()
    bad[0, 0] = np.inf
    with pytest.raises(DataError, match=r"^u:.*inf"):
        loss(model, bad, y)
    with pytest.raises(DataError, match=r"^u:"):
        loss(model, np.zeros((2, 0)), np.zeros((2, 0)))
    with pytest.raises(DataError, match=r"^u:"):
        loss(model, x + 1j, y)
    with pytest.raises(ParameterError, match="engine"):
        loss(model, x, y, engine="torch")
    mimo = CanonicalSystem([0.5], np.ones((1, 2, 2)))
    with pytest.raises(DataError, match="model"):
        loss_and_grad(mimo, x, y)
    with pytest.raises(ParameterError, match="model"):
        loss("not a model", x, y)
    with pytest.raises(DataError, match=r"^y:"):
        loss(model, x, None)


# --------------------------------------------------------------------------- risks
@pytest.mark.parametrize("burn_in", [0, "quarter"])
def test_population_risk_matches_monte_carlo(burn_in):
    rng = np.random.default_rng(2024)
    T, N, sigma = 40, 40_000, 0.5
    truth = CanonicalSystem.random_stable(3, 0.95, rng, d=0.7)  # slow: transients matter
    model = CanonicalSystem.random_stable(3, 0.5, rng, d=0.5)
    b = 0 if burn_in == 0 else T // 4
    x = rng.normal(size=(N, T))
    y = truth.simulate(x, noise_std=sigma, random_state=rng, sequences=True)
    per_seq = np.mean((model.simulate(x, sequences=True) - y)[:, b:] ** 2, axis=1)
    mc, se = per_seq.mean(), per_seq.std(ddof=1) / np.sqrt(N)
    exact = population_risk(model, truth, T, burn_in=b, noise_std=sigma)
    assert abs(exact - mc) < 3 * se, (exact, mc, se)
    assert loss(model, x, y, burn_in=b, sequences=True) == pytest.approx(mc, rel=1e-10)
    # the noise enters additively; the check has power: the other burn-in is rejected
    assert exact - population_risk(model, truth, T, burn_in=b) == pytest.approx(sigma**2)
    other = population_risk(model, truth, T, burn_in=T // 4 if b == 0 else 0, noise_std=sigma)
    assert abs(other - mc) > 10 * se


def test_population_risk_closed_form_small_case():
    """Hand-checkable: FIR-like truths with one pole at 0 (r_1 = c_1, r_k = 0 after)."""
    truth = CanonicalSystem([0.0], [1.0], 0.5)
    model = CanonicalSystem([0.0], [0.0], 0.0)
    # E err_t^2 = 0.25 + [t >= 2] * 1 + sigma^2; average over t = 1..4 -> 0.25 + 0.75 + 0.01
    assert population_risk(model, truth, 4, burn_in=0, noise_std=0.1) == pytest.approx(1.01)
    assert population_risk(model, truth, 4, burn_in=1, noise_std=0.1) == pytest.approx(1.26)
    assert population_risk(model, truth, 4, burn_in=None) == pytest.approx(1.25)
    with pytest.raises(ParameterError, match="T"):
        population_risk(model, truth, 0)
    with pytest.raises(ParameterError, match="noise_std"):
        population_risk(model, truth, 4, noise_std=-1.0)
    with pytest.raises(ValueError, match="burn_in"):
        population_risk(model, truth, 4, burn_in=4)


@FAST
@given(n=orders, m=orders, seed=seeds)
def test_idealized_risk_time_equals_frequency(n, m, seed):
    rng = np.random.default_rng(seed)
    truth = CanonicalSystem.random_stable(n, 0.97, rng, d=1.0)
    model = CanonicalSystem.random_stable(m, 0.97, rng, d=-3.0)
    g_time = idealized_risk(model, truth, method="time")
    g_freq = idealized_risk(model, truth, method="frequency")
    assert g_time > 0
    assert abs(g_time - g_freq) <= 1e-8 * g_time
    # the d's do not enter: this is the idealized risk without the convex (dhat - d)^2 term
    assert idealized_risk(model.with_params(d=5.0), truth) == pytest.approx(g_time, rel=1e-14)
    # and it equals the Markov-parameter sum computed here
    r = model.markov(3000) - truth.markov(3000)
    assert g_time == pytest.approx(np.sum(r[1:] ** 2), rel=1e-10)


def test_population_risk_tends_to_idealized_plus_convex_terms():
    rng = np.random.default_rng(8)
    truth = CanonicalSystem.random_stable(4, 0.8, rng, d=0.3)
    model = CanonicalSystem.random_stable(4, 0.8, rng, d=-0.4)
    sigma = 0.2
    limit = (-0.4 - 0.3) ** 2 + idealized_risk(model, truth) + sigma**2
    big = population_risk(model, truth, 1_000_000, burn_in=0, noise_std=sigma)
    assert big == pytest.approx(limit, rel=1e-5)
    small = population_risk(model, truth, 10, burn_in=0, noise_std=sigma)
    assert abs(small - limit) > 1e-3 * limit  # finite T really differs


def test_idealized_risk_of_unstable_model_is_inf():
    truth = CanonicalSystem([0.5], [1.0])
    unstable = CanonicalSystem([-1.5], [1.0])  # pole at 1.5
    assert idealized_risk(unstable, truth) == float("inf")
    assert idealized_risk(unstable, truth, method="frequency") == float("inf")
    assert idealized_risk(truth, unstable) == float("inf")
    assert idealized_risk(truth, truth) == 0.0
    with pytest.raises(ParameterError, match="method"):
        idealized_risk(truth, truth, method="laplace")


def test_mimo_loss_and_grad_match_finite_differences_and_simulate():
    rng = np.random.default_rng(12)
    n, p, m = 3, 2, 2
    model = CanonicalSystem([-0.4, 0.1, 0.05], rng.normal(size=(n, p, m)), rng.normal(size=(p, m)))
    x = rng.normal(size=(3, 40, m))
    y = rng.normal(size=(3, 40, p))
    value, grad = loss_and_grad(model, x, y, burn_in=5)
    resid = (model.simulate(x) - y)[:, 5:]
    assert value == pytest.approx(np.sum(resid**2) / (3 * 35), rel=1e-12)
    theta = np.concatenate([model.a, model.c.ravel(), model.d.ravel()])

    def f(th):
        sys_ = CanonicalSystem(
            th[:n], th[n : n + n * p * m].reshape(n, p, m), th[-p * m :].reshape(p, m)
        )
        return loss(sys_, x, y, burn_in=5)

    eps = 1e-6
    fd = np.array(
        [(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)]
    )
    np.testing.assert_allclose(grad.flat(), fd, rtol=1e-6, atol=1e-8)
    with pytest.raises(DataError, match="input"):
        loss(model, x[..., :1], y)
    # one (T, m) record is the first sequence alone
    assert loss(model, x[0], y[0], burn_in=5) == pytest.approx(
        np.sum(resid[0] ** 2) / 35, rel=1e-12
    )


# --------------------------------------------------------------------------- front door (issue 9)
def test_deprecated_x_keyword():
    model, _, x, y = make_problem(2, 2, 30, 1)
    with pytest.warns(DeprecationWarning, match="'x'"):
        v = loss(model, x=x, y=y)
    assert v == loss(model, x, y)
    with pytest.warns(DeprecationWarning, match="'x'"):
        v2, g2 = loss_and_grad(model, x=x, y=y, burn_in=3)
    v3, g3 = loss_and_grad(model, u=x, y=y, burn_in=3)
    assert v2 == v3 and np.array_equal(g2.flat(), g3.flat())


def test_layouts_follow_simulate():
    model, _, x, y = make_problem(3, 3, 40, 2)
    # (T,) and (T, 1) are one record; (N, T) are N sequences (issue-2 contract)
    v_rec = loss(model, x[0], y[0], burn_in=4)
    assert loss(model, x[0][:, None], y[0][:, None], burn_in=4) == v_rec
    assert loss(model, x[0][None], y[0][None], burn_in=4) == v_rec
    assert loss(model, x, y, burn_in=4) == loss(model, x, y, burn_in=4, sequences=True)
    assert loss(model, x[..., None], y[..., None], burn_in=4) == loss(model, x, y, burn_in=4)
    # N sequences of one sample each need sequences=True
    u1, y1 = x[:, :1], y[:, :1]
    assert loss(model, u1, y1, burn_in=0, sequences=True) == pytest.approx(
        np.mean((float(model.d) * u1 - y1) ** 2)
    )
    with pytest.raises(DataError, match="sequences=True"):
        loss(model, x.T, y.T, sequences=False)


def test_typed_errors_and_moved_helpers():
    from learnlds import _boundary, risk

    assert risk.resolve_burn_in is _boundary.resolve_burn_in
    assert not hasattr(risk, "check_mimo_pair")
    mimo = CanonicalSystem([0.5], np.ones((1, 2, 2)))
    siso = CanonicalSystem([0.5], [1.0])
    with pytest.raises(UnsupportedShapeError, match="model"):
        population_risk(mimo, siso, 10)
    with pytest.raises(UnsupportedShapeError, match="truth"):
        idealized_risk(siso, mimo)
    with pytest.raises(ParameterError, match="T"):
        population_risk(siso, siso, 2.5)
