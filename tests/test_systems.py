"""CanonicalSystem against first principles: state recursion, matrix powers, scipy.signal."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from learnlds import CanonicalSystem, load
from learnlds.errors import (
    DataError,
    FileFormatError,
    LayoutWarning,
    ParameterError,
    UnstableSystemWarning,
    UnsupportedShapeError,
)

FAST = settings(max_examples=40, deadline=None)

orders = st.integers(1, 8)
seeds = st.integers(0, 2**32 - 1)


def state_recursion(A, B, C, D, u):
    """Reference: h_{t+1} = A h_t + B u_t, y_t = C h_t + D u_t, h_1 = 0 (u: (T, nu))."""
    h = np.zeros(A.shape[0])
    out = []
    for ut in u:
        out.append(C @ h + D @ ut)
        h = A @ h + B @ ut
    return np.array(out)


def random_system(n: int, rng: np.random.Generator, radius: float = 0.95) -> CanonicalSystem:
    """Random stable system scaled to unit H2 gain, so outputs are O(1) and the absolute
    tolerances below mean machine precision rather than luck with the gain."""
    m = CanonicalSystem.random_stable(n, radius, rng, d=float(rng.normal()))
    gain = np.linalg.norm(m.markov(3000)[1:])
    return m.with_params(c=m.c / gain)


def rel_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# --------------------------------------------------------------------------- simulate
@FAST
@given(n=orders, T=st.integers(1, 80), N=st.integers(1, 4), seed=seeds)
def test_simulate_matches_state_recursion(n, T, N, seed):
    rng = np.random.default_rng(seed)
    m = random_system(n, rng)
    A, B, C, D = m.to_state_space()
    u = rng.normal(size=(N, T))
    y = m.simulate(u, sequences=True)
    assert y.shape == (N, T)
    for i in range(N):
        ref = state_recursion(A, B, C, D, u[i][:, None])[:, 0]
        assert np.max(np.abs(y[i] - ref)) < 1e-10
    # a single (T,) sequence gives the same as row 0 of the batch
    np.testing.assert_array_equal(m.simulate(u[0]), y[0])


@FAST
@given(n=orders, T=st.integers(1, 40), ny=st.integers(1, 3), nu=st.integers(1, 3), seed=seeds)
def test_simulate_mimo_matches_state_recursion(n, T, ny, nu, seed):
    rng = np.random.default_rng(seed)
    base = random_system(n, rng)  # unit H2 gain per channel keeps outputs O(1)
    m = CanonicalSystem(base.a, rng.normal(size=(n, ny, nu)), rng.normal(size=(ny, nu)))
    m = m.with_params(c=m.c * np.linalg.norm(base.c) / np.linalg.norm(m.c, axis=0))
    A, B, C, D = m.to_state_space()
    assert A.shape == (n * nu, n * nu) and B.shape == (n * nu, nu) and C.shape == (ny, n * nu)
    u = rng.normal(size=(2, T, nu))
    y = m.simulate(u)
    assert y.shape == (2, T, ny)
    for i in range(2):
        assert np.max(np.abs(y[i] - state_recursion(A, B, C, D, u[i]))) < 1e-10
    np.testing.assert_allclose(m.simulate(u[1]), y[1], rtol=0, atol=1e-14)


def test_simulate_noise_is_reproducible_and_has_the_right_scale():
    m = CanonicalSystem([0.5], [1.0])
    u = np.zeros(20_000)
    y1 = m.simulate(u, noise_std=0.3, random_state=7)
    y2 = m.simulate(u, noise_std=0.3, random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(y1, y2)
    assert abs(np.std(y1) - 0.3) < 0.01
    with pytest.raises(ParameterError, match="noise_std"):
        m.simulate(u, noise_std=-1.0)
    with pytest.raises(ParameterError, match="random_state"):
        m.simulate(u, noise_std=0.1, random_state="seven")


# --------------------------------------------------------------------------- conversions
@FAST
@given(n=orders, seed=seeds)
def test_state_space_round_trip_and_similarity(n, seed):
    rng = np.random.default_rng(seed)
    m = random_system(n, rng)
    back = CanonicalSystem.from_state_space(*m.to_state_space())
    assert rel_err(back.a, m.a) < 1e-12 and rel_err(back.c, m.c) < 1e-10
    assert float(back.d) == float(m.d)
    A, B, C, D = m.to_state_space()
    # a well-conditioned random similarity transform: orthogonal times a mild scaling
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    Tm = Q @ np.diag(rng.uniform(0.5, 2.0, size=n))
    Ti = np.linalg.inv(Tm)
    sim = CanonicalSystem.from_state_space(Tm @ A @ Ti, Tm @ B, C @ Ti, D)
    assert rel_err(sim.a, m.a) < 1e-8
    assert rel_err(sim.c, m.c) < 1e-8
    assert float(sim.d) == float(m.d)


def test_uncontrollable_system_is_refused():
    A = np.diag([0.5, 0.3])
    B = np.array([[1.0], [0.0]])  # the second mode is never excited
    C = np.array([[1.0, 1.0]])
    with pytest.raises(DataError, match="controllable"):
        CanonicalSystem.from_state_space(A, B, C, 0.0)
    with pytest.raises(DataError, match="controllable"):
        CanonicalSystem.from_state_space(np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)))


def test_from_state_space_shape_errors():
    with pytest.raises(ValueError, match="A"):
        CanonicalSystem.from_state_space(np.ones((2, 3)), np.ones((2, 1)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="B"):
        CanonicalSystem.from_state_space(np.eye(2), np.ones((3, 1)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="C"):
        CanonicalSystem.from_state_space(np.eye(2), np.ones((2, 1)), np.ones((1, 3)))


@FAST
@given(n=orders, seed=seeds)
def test_markov_equals_matrix_powers(n, seed):
    rng = np.random.default_rng(seed)
    m = random_system(n, rng)
    A, B, C, D = m.to_state_space()
    k = 3 * n + 5
    r = m.markov(k)
    assert r.shape == (k,)
    assert r[0] == float(m.d)
    ref = [(C @ np.linalg.matrix_power(A, j - 1) @ B).item() for j in range(1, k)]
    # matrix powers of a companion matrix with clustered roots lose ~1e-11 (checked against
    # 50-digit arithmetic: markov itself stays within ~1e-14), hence the relative tolerance
    assert np.max(np.abs(r[1:] - ref)) < 1e-9 * np.max(np.abs(ref))
    # impulse response through simulate
    imp = np.zeros(k)
    imp[0] = 1.0
    np.testing.assert_allclose(m.simulate(imp), r, rtol=1e-10, atol=1e-12)


def test_markov_mimo_equals_matrix_powers():
    rng = np.random.default_rng(3)
    m = CanonicalSystem([0.2, -0.1, 0.05], rng.normal(size=(3, 2, 3)), rng.normal(size=(2, 3)))
    A, B, C, D = m.to_state_space()
    r = m.markov(9)
    assert r.shape == (9, 2, 3)
    np.testing.assert_array_equal(r[0], m.d)
    for j in range(1, 9):
        np.testing.assert_allclose(r[j], C @ np.linalg.matrix_power(A, j - 1) @ B, atol=1e-12)
    with pytest.raises(ParameterError, match="k"):
        m.markov(0)


@FAST
@given(n=orders, seed=seeds)
def test_frequency_response_equals_resolvent(n, seed):
    rng = np.random.default_rng(seed)
    m = random_system(n, rng)
    A, B, C, D = m.to_state_space()
    w = rng.uniform(0, 2 * np.pi, size=7)
    G = m.frequency_response(w)
    for wk, g in zip(w, G, strict=True):
        ref = (C @ np.linalg.solve(np.exp(1j * wk) * np.eye(n) - A, B) + D).item()
        assert abs(g - ref) < 1e-9 * max(1.0, abs(ref))
    # agrees with scipy.signal.freqz on the transfer function
    num, den = m.to_tf()
    _, H = signal.freqz(num, den, worN=w)
    np.testing.assert_allclose(G, H, rtol=1e-9, atol=1e-12)


def test_frequency_response_mimo():
    rng = np.random.default_rng(4)
    m = CanonicalSystem([-0.4, 0.2], rng.normal(size=(2, 3, 2)), rng.normal(size=(3, 2)))
    A, B, C, D = m.to_state_space()
    w = np.array([0.0, 0.3, 2.0])
    G = m.frequency_response(w)
    assert G.shape == (3, 3, 2)
    for wk, g in zip(w, G, strict=True):
        ref = C @ np.linalg.solve(np.exp(1j * wk) * np.eye(4) - A, B) + D
        np.testing.assert_allclose(g, ref, atol=1e-12)


@FAST
@given(n=orders, seed=seeds)
def test_tf_round_trip_and_scipy_agreement(n, seed):
    rng = np.random.default_rng(seed)
    m = random_system(n, rng)
    num, den = m.to_tf()
    back = CanonicalSystem.from_tf(num, den)
    # c comes back through the numerator minus d times the denominator: its rounding
    # error grows with the size of the denominator coefficients (poles near z = 1)
    tol_c = (
        1e-13
        * (1.0 + np.abs(m.a).sum())
        * (1.0 + abs(float(m.d)))
        * (1.0 + np.linalg.norm(num) / max(np.linalg.norm(m.c), 1e-300))
    )
    assert rel_err(back.a, m.a) < 1e-14 and rel_err(back.c, m.c) < tol_c
    assert abs(float(back.d) - float(m.d)) < 1e-14
    # scaled numerator and denominator describe the same system
    again = CanonicalSystem.from_tf(3.0 * num, 3.0 * den)
    assert rel_err(again.c, m.c) < tol_c and rel_err(again.a, m.a) < 1e-14
    k = 4 * n + 3
    _, (h,) = signal.dimpulse(signal.dlti(num, den, dt=1), n=k)
    np.testing.assert_allclose(m.markov(k), h[:, 0], rtol=1e-9, atol=1e-12)


def test_from_tf_errors():
    with pytest.raises(ValueError, match="proper"):
        CanonicalSystem.from_tf([1.0, 0.0, 0.0], [1.0, 0.5])
    with pytest.raises(ValueError, match="den"):
        CanonicalSystem.from_tf([1.0], [2.0])


@FAST
@given(n=orders, seed=seeds)
def test_h2_norm_poles_and_random_stable(n, seed):
    rng = np.random.default_rng(seed)
    radius = float(rng.uniform(0.3, 0.9))
    m = random_system(n, rng, radius)
    assert m.spectral_radius() < radius
    assert m.is_stable()
    r = m.markov(4000)  # radius <= 0.9: the tail after 4000 terms is far below 1e-100
    assert abs(m.h2_norm() - np.sqrt(np.sum(r**2))) < 1e-9 * m.h2_norm()
    A = m.A
    np.testing.assert_allclose(
        np.sort_complex(m.poles()), np.sort_complex(np.linalg.eigvals(A)), atol=1e-8
    )
    assert np.isclose(m.spectral_radius(), np.max(np.abs(np.linalg.eigvals(A))), atol=1e-6)


def test_unstable_system():
    m = CanonicalSystem([-2.5, 1.0], [1.0, 0.0])  # roots 2 and 0.5
    assert not m.is_stable()
    assert m.spectral_radius() == pytest.approx(2.0)
    assert m.h2_norm() == float("inf")


def test_h2_norm_mimo_includes_d():
    rng = np.random.default_rng(5)
    m = CanonicalSystem([0.5, 0.1], rng.normal(size=(2, 2, 2)), rng.normal(size=(2, 2)))
    r = m.markov(3000)
    assert m.h2_norm() == pytest.approx(np.sqrt(np.sum(r**2)), rel=1e-10)


def test_random_stable_arguments():
    with pytest.raises(ParameterError, match="order"):
        CanonicalSystem.random_stable(0)
    with pytest.raises(ParameterError, match="order"):
        CanonicalSystem.random_stable(2.5)
    for radius in (0.0, -0.5, 1.0, 1.5, float("nan")):
        with pytest.raises(ParameterError, match="radius"):
            CanonicalSystem.random_stable(2, radius=radius)
    with pytest.raises(ParameterError, match="random_state"):
        CanonicalSystem.random_stable(2, 0.5, random_state=1.5)
    a = CanonicalSystem.random_stable(5, 0.9, 11)
    b = CanonicalSystem.random_stable(5, 0.9, 11)
    assert a == b
    assert CanonicalSystem.random_stable(order=5, radius=0.9, random_state=11) == a


def test_random_stable_deprecated_keywords():
    ref = CanonicalSystem.random_stable(3, 0.8, 4)
    with pytest.warns(DeprecationWarning, match="'n'"):
        assert CanonicalSystem.random_stable(n=3, radius=0.8, random_state=4) == ref
    with pytest.warns(DeprecationWarning, match="'rng'"):
        assert CanonicalSystem.random_stable(3, 0.8, rng=4) == ref
    with pytest.raises(ParameterError, match="order"):
        CanonicalSystem.random_stable(order=3, n=3)


# --------------------------------------------------------------------------- persistence
def test_save_load_round_trip_exact(tmp_path):
    rng = np.random.default_rng(6)
    m = CanonicalSystem(rng.normal(size=4) / 7, rng.normal(size=4) / 3, np.pi)
    path = m.save(tmp_path / "m.json", note="hello")
    back = load(path)
    assert back == m
    assert np.array_equal(back.a, m.a) and np.array_equal(back.c, m.c)
    mimo = CanonicalSystem([0.1], rng.normal(size=(1, 2, 3)), rng.normal(size=(2, 3)))
    assert load(mimo.save(tmp_path / "mimo.json")) == mimo


def test_load_rejects_bad_files(tmp_path):
    bad = tmp_path / "corrupt.json"
    bad.write_text('{"format": "learnlds.CanonicalSystem", "version": 1, "a": [0.')
    with pytest.raises(ValueError, match="invalid JSON"):
        load(bad)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"name": "something else", "a": [1]}))
    with pytest.raises(ValueError, match="not a learnlds model"):
        load(foreign)
    foreign.write_text(json.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="not a learnlds model"):
        load(foreign)
    m = CanonicalSystem([0.5], [1.0])
    for version in (2, "1", True, None):
        data = m.to_dict()
        data["version"] = version
        p = tmp_path / "ver.json"
        p.write_text(json.dumps(data))
        with pytest.raises(ValueError, match="version"):
            load(p)
    data = m.to_dict()
    del data["c"]
    p = tmp_path / "missing.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="missing field"):
        load(p)
    data = m.to_dict()
    data["a"] = ["x"]
    p.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="a:"):
        load(p)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load(tmp_path / "does-not-exist.json")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("a", "c", "d", "name"),
    [
        ([np.nan], [1.0], 0.0, "a"),
        ([0.1], [np.inf], 0.0, "c"),
        ([0.1], [1.0], np.nan, "d"),
        ([0.1 + 1j], [1.0], 0.0, "a"),
        ([0.1], [1.0 + 2j], 0.0, "c"),
        ([], [], 0.0, "a"),
        ([0.1, 0.2], [1.0], 0.0, "c"),
        ([[0.1]], [1.0], 0.0, "a"),
        ([0.1], [1.0], [1.0, 2.0], "d"),
        ([0.1], np.ones((1, 2, 2)), np.ones((3, 3)), "d"),
        (["x"], [1.0], 0.0, "a"),
    ],
)
def test_constructor_rejects_bad_input(a, c, d, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        CanonicalSystem(a, c, d)


@pytest.mark.parametrize(
    "u",
    [
        np.array([1.0, np.nan, 0.0]),
        np.array([1.0, np.inf]),
        np.array([1.0, 1j]),
        np.zeros((2, 3, 4)),
        np.zeros((2, 3, 4, 1)),
        np.zeros(0),
        np.zeros((3, 0)),
        np.zeros(()),
    ],
)
def test_simulate_rejects_bad_input(u):
    with pytest.raises(DataError, match=r"^u:"):
        CanonicalSystem([0.5], [1.0]).simulate(u)


def test_simulate_mimo_rejects_bad_input():
    m = CanonicalSystem([0.5], np.ones((1, 2, 3)))
    with pytest.raises(DataError, match=r"^u:"):
        m.simulate(np.zeros((10, 2)))  # 2 inputs where 3 are expected
    with pytest.raises(DataError, match=r"^u:"):
        m.simulate(np.zeros(10))
    with pytest.raises(DataError, match=r"^u:"):
        m.simulate(np.zeros((0, 3)))
    with pytest.raises(DataError, match=r"^u:"):
        m.simulate(np.zeros((2, 10, 3)), sequences=False)


def test_model_is_immutable_and_copies_inputs():
    a = np.array([0.5])
    m = CanonicalSystem(a, [1.0])
    a[0] = 0.9
    assert m.a[0] == 0.5
    with pytest.raises(ValueError):
        m.a[0] = 1.0


# --------------------------------------------------------------------------- front door (issue 9)
def test_simulate_layouts_siso():
    m = CanonicalSystem([-0.5], [1.0], 0.3)
    u = np.random.default_rng(0).normal(size=(3, 20))
    rows = np.array([m.simulate(ui) for ui in u])
    # (N, T) with T > 1 columns: N sequences (the issue-2 contract) unless told otherwise
    np.testing.assert_array_equal(m.simulate(u), rows)
    np.testing.assert_array_equal(m.simulate(u, sequences=True), rows)
    np.testing.assert_array_equal(m.simulate(u[..., None], sequences=True), rows[..., None])
    # (T, 1): one record, returned as (T, 1)
    col = m.simulate(u[0][:, None])
    assert col.shape == (20, 1)
    np.testing.assert_array_equal(col[:, 0], rows[0])
    # sequences=False forces the record reading: (T, m) with m > 1 is refused for SISO
    with pytest.raises(DataError, match="sequences=True"):
        m.simulate(u.T, sequences=False)
    # sequences=True: N sequences of one sample each (T = 1 is not a record of N samples)
    single = m.simulate(np.ones((4, 1)), sequences=True)
    np.testing.assert_array_equal(single, np.full((4, 1), 0.3))
    assert m.simulate(np.ones((4, 1)))[1, 0] == pytest.approx(1.3)  # record: state carried
    with pytest.raises(ParameterError, match="sequences"):
        m.simulate(u, sequences="yes")


def test_simulate_layouts_mimo():
    rng = np.random.default_rng(1)
    m = CanonicalSystem([0.2, -0.1], rng.normal(size=(2, 3, 2)), rng.normal(size=(3, 2)))
    u = rng.normal(size=(4, 15, 2))
    y = m.simulate(u)
    assert y.shape == (4, 15, 3)
    assert m.simulate(u[2]).shape == (15, 3)
    np.testing.assert_allclose(m.simulate(u[2]), y[2], atol=1e-14)
    np.testing.assert_allclose(m.simulate(u, sequences=True), y, atol=0)
    with pytest.raises(DataError, match=r"^u:"):
        m.simulate(u[0], sequences=True)  # (N, T) single-channel sequences for 2 inputs


def test_simulate_deprecated_keywords():
    m = CanonicalSystem([-0.5], [1.0])
    u = np.ones(10)
    with pytest.warns(DeprecationWarning, match="'x'"):
        np.testing.assert_array_equal(m.simulate(x=u), m.simulate(u))
    with pytest.warns(DeprecationWarning, match="'rng'"):
        y = m.simulate(u, noise_std=0.1, rng=3)
    np.testing.assert_array_equal(y, m.simulate(u, noise_std=0.1, random_state=3))
    with pytest.raises(ParameterError, match="x"):
        m.simulate(u=u, x=u)


def test_simulate_unstable_warns_once_and_says_why():
    unstable = CanonicalSystem([-2.5, 1.0], [1.0, 0.0])  # pole at 2
    with pytest.warns(UnstableSystemWarning) as record:
        y = unstable.simulate(np.ones((3, 30)), sequences=True)
    assert len(record) == 1
    text = str(record[0].message)
    assert "spectral radius 2" in text and "grow" in text
    assert np.abs(y).max() > 1e6
    with pytest.warns(UnstableSystemWarning):
        CanonicalSystem([-1.0], [1.0]).simulate(np.ones(5))  # an integrator: rho = 1
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CanonicalSystem([-0.99], [1.0]).simulate(np.ones(5))  # stable: silent


def _explicit(A, B, C, D, u):
    """Simulation of a state-space system by its recursion, u: (T, m)."""
    return state_recursion(A, B, C, np.atleast_2d(D), u)


@pytest.mark.parametrize("order", [1, 3, 8, 20])
def test_from_state_space_matches_explicit_simulation_siso(order):
    rng = np.random.default_rng(order)
    m = CanonicalSystem.random_stable(order, 0.95, rng, d=0.4)
    A, B, C, D = m.to_state_space()
    Q, _ = np.linalg.qr(rng.normal(size=(order, order)))
    Tm = Q @ np.diag(rng.uniform(0.5, 2.0, size=order))
    Ti = np.linalg.inv(Tm)
    As, Bs, Cs = Tm @ A @ Ti, Tm @ B, C @ Ti
    sys_ = CanonicalSystem.from_state_space(As, Bs, Cs, D)
    assert sys_.is_siso and sys_.order == order
    u = rng.normal(size=200)
    ref = _explicit(As, Bs, Cs, D, u[:, None])[:, 0]
    np.testing.assert_allclose(sys_.simulate(u), ref, rtol=0, atol=1e-8 * np.abs(ref).max())
    # 1-D B and C are a column and a row
    again = CanonicalSystem.from_state_space(As, Bs.ravel(), Cs.ravel(), float(D[0, 0]))
    np.testing.assert_allclose(again.c, sys_.c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("states", "p", "m"), [(1, 2, 1), (3, 1, 2), (4, 2, 3)])
def test_from_state_space_matches_explicit_simulation_mimo(states, p, m):
    rng = np.random.default_rng(10 * states + p + m)
    A = rng.normal(size=(states, states))
    A *= 0.9 / np.max(np.abs(np.linalg.eigvals(A)))
    B, C, D = rng.normal(size=(states, m)), rng.normal(size=(p, states)), rng.normal(size=(p, m))
    sys_ = CanonicalSystem.from_state_space(A, B, C, D)
    assert not sys_.is_siso and sys_.order == states
    assert (sys_.n_outputs, sys_.n_inputs) == (p, m)
    u = rng.normal(size=(60, m))
    np.testing.assert_allclose(sys_.simulate(u), _explicit(A, B, C, D, u), atol=1e-10)
    # a scalar D is broadcast
    zero_d = CanonicalSystem.from_state_space(A, B, C)
    np.testing.assert_array_equal(zero_d.d, np.zeros((p, m)))


def test_from_state_space_controllability_is_scale_free():
    """The test is on orthogonally reduced data: a badly scaled but controllable system passes."""
    rng = np.random.default_rng(7)
    m = CanonicalSystem.random_stable(12, 0.99, rng)
    A, B, C, D = m.to_state_space()
    S = np.diag(np.logspace(-4, 4, 12))
    Si = np.diag(1.0 / np.diag(S))
    sys_ = CanonicalSystem.from_state_space(S @ A @ Si, S @ B, C @ Si, D)
    np.testing.assert_allclose(sys_.a, m.a, atol=1e-8)
    # nearly uncontrollable: refused by default, accepted with rtol=0
    A2 = np.diag([0.5, 0.3])
    B2 = np.array([[1.0], [1e-13]])
    with pytest.raises(DataError, match="controllable"):
        CanonicalSystem.from_state_space(A2, B2, np.ones((1, 2)))
    ok = CanonicalSystem.from_state_space(A2, B2, np.ones((1, 2)), rtol=0.0)
    assert ok.order == 2
    with pytest.raises(ParameterError, match="rtol"):
        CanonicalSystem.from_state_space(A2, B2, np.ones((1, 2)), rtol=-1.0)


def test_typed_errors():
    mimo = CanonicalSystem([0.5], np.ones((1, 2, 2)))
    with pytest.raises(UnsupportedShapeError, match="to_tf"):
        mimo.to_tf()
    with pytest.raises(DataError, match=r"^D:"):
        CanonicalSystem.from_state_space(np.eye(2), np.ones((2, 1)), np.ones((1, 2)), np.ones(3))


def test_load_errors_are_file_format_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(FileFormatError, match="invalid JSON"):
        load(bad)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load(tmp_path / "missing.json")


def test_as_real_array_is_kept_as_an_alias():
    from learnlds import systems
    from learnlds._boundary import as_float_array

    assert systems.as_real_array is as_float_array
    assert "as_real_array" not in systems.__all__


# --------------------------------------------------------------------------- sample time (issue 13)
def test_dt_is_validated_kept_and_compared():
    sys_ = CanonicalSystem([-0.5], [1.0], 0.2, dt=0.08)
    assert sys_.dt == 0.08 and CanonicalSystem([-0.5], [1.0]).dt is None
    assert sys_.with_params(c=[2.0]).dt == 0.08
    assert sys_.with_dt(None).dt is None and sys_.with_dt(1).dt == 1.0
    assert "dt=0.08" in repr(sys_) and "dt" not in repr(sys_.with_dt(None))
    assert sys_ == CanonicalSystem([-0.5], [1.0], 0.2, dt=0.08)
    assert sys_ != sys_.with_dt(None) and sys_ != sys_.with_dt(0.1)
    for bad in (0.0, -1.0, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ParameterError, match="dt"):
            CanonicalSystem([-0.5], [1.0], dt=bad)
        with pytest.raises(ParameterError, match="dt"):
            sys_.with_dt(bad)
    with pytest.raises(TypeError):  # keyword-only: no positional dt after d
        CanonicalSystem([-0.5], [1.0], 0.0, 0.1)


def test_dt_through_conversions():
    A = np.array([[0.5, 1.0], [0.0, 0.2]])
    assert CanonicalSystem.from_state_space(A, [0.0, 1.0], [1.0, 0.0], dt=0.5).dt == 0.5
    assert CanonicalSystem.from_tf([1.0], [1.0, -0.5], dt=2.0).dt == 2.0
    with pytest.raises(ParameterError, match="dt"):
        CanonicalSystem.from_tf([1.0], [1.0, -0.5], dt=-2.0)
    from learnlds.reduce import reduce

    big = CanonicalSystem.random_stable(4, 0.8, random_state=0).with_dt(0.25)
    assert reduce(big, 2).dt == 0.25


def test_frequency_axis_in_rad_per_second_when_dt_is_known():
    w = np.linspace(0.0, np.pi, 5)
    known = CanonicalSystem([-0.5], [1.0], dt=0.1)
    unknown = known.with_dt(None)
    np.testing.assert_allclose(known.frequency_axis(w), w / 0.1)
    np.testing.assert_array_equal(unknown.frequency_axis(w), w)
    assert known.frequency_unit == "rad/s" and unknown.frequency_unit == "rad/sample"
    # the frequency response itself is always taken in rad/sample
    np.testing.assert_array_equal(known.frequency_response(w), unknown.frequency_response(w))


def test_save_load_keeps_dt_and_reads_old_files(tmp_path):
    sys_ = CanonicalSystem([-0.5, 0.1], [1.0, 0.3], 0.2, dt=0.08)
    assert load(sys_.save(tmp_path / "m.json")) == sys_
    assert load(sys_.with_dt(None).save(tmp_path / "n.json")).dt is None
    mimo = CanonicalSystem([0.1], np.ones((1, 2, 3)), np.zeros((2, 3)), dt=1e-3)
    assert load(mimo.save(tmp_path / "mimo.json")) == mimo
    # a file written before the sample time existed (no "dt" key) loads with dt unknown
    old = {"format": "learnlds.CanonicalSystem", "version": 1, "a": [-0.5], "c": [1.0], "d": 0.0}
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert load(tmp_path / "old.json") == CanonicalSystem([-0.5], [1.0])
    for bad in (-1.0, "fast", 0):
        (tmp_path / "bad.json").write_text(json.dumps(dict(old, dt=bad)))
        with pytest.raises(FileFormatError, match="dt"):
            load(tmp_path / "bad.json")


def test_save_is_atomic(tmp_path, monkeypatch):
    """A save that fails at the last step leaves the previous file intact and no temporary."""
    import learnlds._files as files_mod

    path = tmp_path / "m.json"
    first = CanonicalSystem([-0.5], [1.0], dt=0.1)
    first.save(path)

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_mod.os, "replace", full_disk)
    with pytest.raises(OSError, match="space"):
        CanonicalSystem([0.3], [2.0]).save(path)
    monkeypatch.undo()
    assert load(path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_save_names_a_missing_folder_or_a_folder_target(tmp_path):
    """Not the temporary file's OSError ('.m.json.x1y2.tmp'), and nothing left behind."""
    from learnlds.statespace import StateSpaceSystem

    for model in (CanonicalSystem([-0.5], [1.0]), StateSpaceSystem([[0.5]], [[1.0]], [[1.0]])):
        with pytest.raises(
            ParameterError, match=r"folder .*nodir does not exist \(for .*m\.json\)"
        ):
            model.save(tmp_path / "nodir" / "m.json")
        with pytest.raises(ParameterError, match="is a folder, expected a file name"):
            model.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_saved_files_get_the_umask_permissions_and_keep_their_own(tmp_path):
    """Atomic writes went through mkstemp's 0600: a model (or prediction, checkpoint,
    figure) was unreadable by anyone else. New files now follow the umask; a replaced
    file keeps its mode."""
    import os
    import stat

    mask = os.umask(0o022)
    try:
        path = CanonicalSystem([-0.5], [1.0]).save(tmp_path / "m.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o640)
        CanonicalSystem([-0.3], [1.0]).save(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(mask)


# --------------------------------------------------------------------------- layout warning
def _layout_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [w for w in caught if issubclass(w.category, LayoutWarning)]


@pytest.mark.parametrize("kind", ["canonical", "state-space", "loss"])
def test_a_tall_array_read_as_siso_sequences_is_said(kind):
    """A (T, 2) record given to a single-input model was silently 300 sequences of 2."""
    from learnlds.risk import loss
    from learnlds.statespace import StateSpaceSystem

    model = CanonicalSystem([-0.5, 0.1], [1.0, 0.3], 0.2)
    ss = StateSpaceSystem.from_canonical(model)
    u = np.random.default_rng(0).normal(size=(300, 2))
    call = {
        "canonical": lambda x, **kw: model.simulate(x, **kw),
        "state-space": lambda x, **kw: ss.simulate(x, **kw),
        "loss": lambda x, **kw: loss(model, x, model.simulate(x, sequences=True), **kw),
    }[kind]
    out, said = _layout_warnings(lambda: call(u))
    assert len(said) == 1 and said[0].filename == __file__  # points at the caller
    assert "(300, 2) array is read as 300 sequences of 2 sample(s)" in str(said[0].message)
    assert "sequences=True" in str(said[0].message)
    same, quiet = _layout_warnings(lambda: call(u, sequences=True))
    assert not quiet and np.array_equal(out, same)  # the reading did not change
    _, wide = _layout_warnings(lambda: call(u.T.copy()))  # 2 sequences of 300: no doubt
    assert not wide
    with pytest.raises(DataError, match="u: "):
        call(u, sequences=False)  # one record needs one input column


def test_state_space_simulate_takes_the_sequences_flag_like_canonical():
    from learnlds.statespace import StateSpaceSystem

    model = CanonicalSystem([-0.5, 0.1], [1.0, 0.3], 0.2)
    ss = StateSpaceSystem.from_canonical(model)
    u = np.random.default_rng(1).normal(size=(4, 50))
    for x, seq in [(u, True), (u, None), (u[0], None), (u[0], False), (u[0][:, None], False)]:
        np.testing.assert_allclose(
            ss.simulate(x, sequences=seq), model.simulate(x, sequences=seq), atol=1e-12
        )
    with pytest.raises(DataError, match=r"sequences=True needs"):
        ss.simulate(u[0], sequences=True)
    mimo = StateSpaceSystem([[0.5]], [[1.0, 1.0]], [[1.0], [2.0]])
    with pytest.raises(DataError, match=r"sequences=False needs"):
        mimo.simulate(np.ones((3, 50, 2)), sequences=False)


def test_training_batches_are_sequences_without_a_layout_warning():
    """A batch source returns (N, T) sequences by contract, tall or not."""
    from learnlds import projected_sgd
    from learnlds.train import sequence_batches

    truth = CanonicalSystem([-0.5], [1.0])
    u = np.random.default_rng(2).normal(size=(64, 20))  # 64 sequences of 20: tall
    y = truth.simulate(u, sequences=True)
    _, said = _layout_warnings(lambda: projected_sgd(sequence_batches(u, y), order=1, steps=3))
    assert not said
