"""Tests of the Pac-Man region: exact membership, projection, sampling."""

from __future__ import annotations

import clarabel
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from learnlds import errors
from learnlds.errors import DataError, ParameterError
from learnlds.region import PacmanRegion, ProjectionError

POST = PacmanRegion()
REGIONS = [
    POST,
    PacmanRegion(alpha=0.8),
    PacmanRegion(alpha=0.9, tau0=0.5, tau1=0.2, tau2=3.0),
]


# --------------------------------------------------------------------------- independent references
def brute_margin(region: PacmanRegion, a: np.ndarray, M: int = 2**16) -> float:
    """Minimum slack over ``M`` points of the whole circle, straight from the definition."""
    w = 2 * np.pi * np.arange(M) / M
    z = region.alpha * np.exp(1j * w)
    q = 1.0 + np.polyval(np.concatenate((a[::-1], [0.0])), 1.0 / z)  # 1 + sum a_k z^-k
    s = 1.0 + region.tau0
    u = 1.0 / np.sqrt(1.0 + s * s)
    slacks = [u * (q.real - s * np.abs(q.imag)), q.real - region.tau1]
    if np.isfinite(region.tau2):
        slacks.append(region.tau2 - q.real)
    return float(min(v.min() for v in slacks))


def brute_gap(region: PacmanRegion, a: np.ndarray, M: int = 2**16) -> float:
    """How far a 2^M-point grid minimum can sit above the true minimum (M2 h^2 / 8)."""
    k = np.arange(1, a.shape[0] + 1)
    M2 = np.sum(k**2 * np.abs(a) * region.alpha ** (-k.astype(float)))
    return M2 * (2 * np.pi / M) ** 2 / 8


def dense_qp_projection(region: PacmanRegion, a: np.ndarray, m: int = 4096) -> np.ndarray:
    """Projection onto the relaxation on ``m`` angles of [0, pi], solved by Clarabel."""
    n = a.shape[0]
    w = np.linspace(0, np.pi, m)
    k = np.arange(1, n + 1)
    E = np.exp(-1j * np.outer(w, k)) * region.alpha ** (-k.astype(float))  # q - 1 = E @ a
    s = 1.0 + region.tau0
    rows = [E.real - s * E.imag, E.real + s * E.imag, E.real]  # Re q -+ s Im q >= 0, Re q >= tau1
    rhs = [-np.ones(m), -np.ones(m), (region.tau1 - 1.0) * np.ones(m)]
    if np.isfinite(region.tau2):
        rows.append(-E.real)
        rhs.append((1.0 - region.tau2) * np.ones(m))
    G = np.vstack(rows)
    h = np.concatenate(rhs)
    settings_ = clarabel.DefaultSettings()
    settings_.verbose = False
    settings_.tol_gap_abs = settings_.tol_gap_rel = 1e-12
    settings_.tol_feas = 1e-12
    solver = clarabel.DefaultSolver(
        sparse.csc_matrix(np.eye(n)),
        -a,
        sparse.csc_matrix(-G),
        -h,
        [clarabel.NonnegativeConeT(G.shape[0])],
        settings_,
    )
    sol = solver.solve()
    return np.array(sol.x)


def outside_point(rng: np.random.Generator, n: int, region: PacmanRegion = POST) -> np.ndarray:
    while True:
        a = rng.normal(size=n) * rng.uniform(0.3, 2.0)
        if region.margin(a) < -1e-3:
            return a


vectors = st.integers(1, 12).flatmap(
    lambda n: st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=n, max_size=n)
)


# --------------------------------------------------------------------------- membership facts
@settings(max_examples=150, deadline=None)
@given(vectors, st.floats(0.0, 1.0))
def test_l1_ball_is_inside_post_region(v: list[float], frac: float) -> None:
    a = np.array(v)
    norm = np.abs(a).sum()
    if norm == 0:
        return
    a = a / norm * (np.sqrt(2) / 2) * frac
    assert POST.contains(a, tol=1e-12)  # the ball's rim lies on the region's rim: rounding
    assert POST.margin(a) >= -1e-12


@settings(max_examples=200, deadline=None)
@given(vectors, st.floats(0.0, 2.5), st.sampled_from([0, 1, 2]))
def test_contains_implies_roots_inside(v: list[float], scale: float, which: int) -> None:
    region = REGIONS[which]
    a = np.array(v) * scale
    if region.contains(a, tol=0.0):
        roots = np.roots(np.concatenate(([1.0], a)))
        assert np.max(np.abs(roots), initial=0.0) < region.alpha


@pytest.mark.parametrize("which", [0, 1, 2])
def test_sampled_points_have_roots_strictly_inside(which: int) -> None:
    region = REGIONS[which]
    rng = np.random.default_rng(1)
    for n in (2, 5, 9):
        for a in region.sample(n, 30, rng):
            assert region.contains(a, tol=0.0)
            assert np.max(np.abs(np.roots(np.concatenate(([1.0], a))))) < region.alpha


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2]))
def test_midpoint_of_members_is_member(n: int, seed: int, which: int) -> None:
    region = REGIONS[which]
    rng = np.random.default_rng(seed)
    # boundary points are the hardest case for convexity
    p = region.boundary_point(rng.normal(size=n))
    q = region.boundary_point(rng.normal(size=n))
    assert region.contains(p) and region.contains(q)
    assert region.contains(0.5 * (p + q))
    assert region.margin(0.5 * (p + q)) >= 0.5 * (region.margin(p) + region.margin(q)) - 1e-12


def test_zero_inside_and_known_outside_points() -> None:
    for region in REGIONS:
        for n in (1, 4, 20):
            assert region.contains(np.zeros(n), tol=0.0)
    # p(z) = z^2 - 1.486 z + 0.81: roots 0.9 e^{+-0.6i}, stable but q leaves the wedge
    a = np.array([-1.486, 0.81])
    assert np.max(np.abs(np.roots([1.0, *a]))) < 1
    assert not POST.contains(a)
    assert POST.margin(a) == pytest.approx(brute_margin(POST, a), abs=1e-8)
    assert POST.margin(a) < -0.9
    # q = 1 + 2 e^{-iw}: wedge slack (1 + 2 cos w - 2 |sin w|) / sqrt 2, least at w = 3 pi / 4
    assert not POST.contains([2.0])
    assert POST.margin([2.0]) == pytest.approx(1 / np.sqrt(2) - 2, abs=1e-14)


def test_margin_along_ray_is_exactly_zero_on_the_boundary() -> None:
    rng = np.random.default_rng(5)
    for region in REGIONS:
        for n in (1, 3, 20):
            d = rng.normal(size=n)
            p = region.boundary_point(d)
            assert abs(region.margin(p)) < 1e-12
            assert region.contains(p, tol=0.0) or region.margin(p) > -1e-15
            assert not region.contains(p * (1 + 1e-6), tol=0.0)
            assert region.contains(p * (1 - 1e-6), tol=0.0)


# ----------------------------------------------------------------------- exactness vs brute force
@pytest.mark.parametrize("which", [0, 1, 2])
def test_margin_matches_brute_force(which: int) -> None:
    region = REGIONS[which]
    rng = np.random.default_rng(10 + which)
    for n in (1, 2, 3, 5, 8):
        for _ in range(15):
            a = rng.normal(size=n) * rng.uniform(0.05, 1.0)
            m = region.margin(a)
            b = brute_margin(region, a)
            # the brute force is a grid minimum: never below the exact one, and close above it
            assert m <= b + 1e-12
            assert b - m <= brute_gap(region, a) + 1e-12


def test_contains_never_accepts_what_a_fine_grid_rejects() -> None:
    rng = np.random.default_rng(11)
    for region in REGIONS:
        for n in (2, 6, 12, 20):
            pts = [region.project(outside_point(rng, n, region)) for _ in range(3)]
            pts += [region.boundary_point(rng.normal(size=n)) * (1 + e) for e in (1e-9, 1e-7)]
            for p in pts:
                if region.contains(p):
                    assert brute_margin(region, p) >= -1e-9
                # and the other direction for points the fine grid proves inside
                if brute_margin(region, p) - brute_gap(region, p) > 0:
                    assert region.contains(p, tol=0.0)


def test_contains_finds_violation_between_grid_points() -> None:
    """A dip between the FFT grid points of ``contains`` must still be caught."""
    rng = np.random.default_rng(12)
    n = 20
    M = 1024  # contains' full-circle grid for n = 20
    w = 2 * np.pi * np.arange(M // 2 + 1) / M
    k = np.arange(1, n + 1)
    caught = 0
    for _ in range(20):
        p = POST.boundary_point(rng.normal(size=n)) * (1 + 1e-5)
        q = 1 + np.exp(-1j * np.outer(w, k)) @ p
        grid_min = np.min((q.real - np.abs(q.imag)) / np.sqrt(2))
        assert POST.margin(p) < 0
        assert not POST.contains(p, tol=0.0)
        caught += grid_min > 0  # the coarse grid alone would have accepted it
    assert caught > 0


# --------------------------------------------------------------------------- projection
@pytest.mark.parametrize("which", [0, 1, 2])
def test_projection_properties(which: int) -> None:
    region = REGIONS[which]
    rng = np.random.default_rng(20 + which)
    for n in (1, 3, 10, 20):
        a, b = outside_point(rng, n, region), outside_point(rng, n, region)
        pa = region.project(a)
        info = region.last_projection
        assert info is not None and info.rounds >= 1 and abs(info.shrink - 1) < 1e-8
        pb = region.project(b)
        assert region.contains(pa) and region.contains(pb)
        assert brute_margin(region, pa) >= -1e-9
        assert region.margin(pa) >= 0.0
        # idempotent (exactly: inside points come back unchanged)
        np.testing.assert_array_equal(region.project(pa), pa)
        # non-expansive
        assert np.linalg.norm(pa - pb) <= np.linalg.norm(a - b) + 1e-7
        # the projection lands on the boundary
        assert region.margin(pa) < 1e-9


def test_inside_points_unchanged() -> None:
    rng = np.random.default_rng(30)
    for region in REGIONS:
        for a in region.sample(7, 10, rng):
            out = region.project(a)
            np.testing.assert_array_equal(out, a)
            assert out is not a


@pytest.mark.parametrize(
    "which, m, gap",
    [
        (0, 4096, 1e-6),
        (2, 4096, 1e-6),
        pytest.param(0, 32768, 5e-8, marks=pytest.mark.slow),
        pytest.param(2, 32768, 5e-8, marks=pytest.mark.slow),
    ],
)
def test_projection_is_optimal(which: int, m: int, gap: float) -> None:
    """Sandwich against Clarabel on an ``m``-angle relaxation of the region.

    The relaxation's projection ``x`` is at most as far from ``a`` as the true one, and by
    strong convexity ``||p - x||^2 <= ||p - a||^2 - ||x - a||^2`` for every feasible ``p``;
    an exact projection makes the gap vanish as the relaxation's grid is refined
    (it is ~1e-8 here; a grid of 4096 angles leaves ~5e-7).
    """
    region = REGIONS[which]
    rng = np.random.default_rng(40 + which)
    for n in (2, 4, 6):
        for _ in range(2):
            a = outside_point(rng, n, region)
            p = region.project(a)
            x = dense_qp_projection(region, a, m=m)
            d_ours, d_relax = np.linalg.norm(p - a), np.linalg.norm(x - a)
            assert d_ours >= d_relax - 1e-9  # the relaxation can only be closer
            assert d_ours <= d_relax + gap
            assert np.linalg.norm(p - x) ** 2 <= d_ours**2 - d_relax**2 + 1e-9
            np.testing.assert_allclose(p, x, atol=1e-3)
            # the relaxation's point is (slightly) outside or on the true region's boundary
            assert region.margin(x) < 1e-7


def test_projection_kkt() -> None:
    """a - P(a) is a non-negative combination of the active constraint normals."""
    from scipy.optimize import nnls

    rng = np.random.default_rng(50)
    for n in (3, 8):
        a = outside_point(rng, n)
        p = POST.project(a)
        M = 2**14
        w = np.pi * np.arange(M + 1) / M
        k = np.arange(1, n + 1)
        E = np.exp(-1j * np.outer(w, k))
        s = 1.0
        N = np.vstack([(E.real - s * E.imag), (E.real + s * E.imag)]) / np.sqrt(2)
        slack = N @ p + 1 / np.sqrt(2)
        active = N[slack < 1e-6]
        assert active.shape[0] > 0
        coef, resid = nnls(active.T, p - a)  # p - a = sum lambda_i grad_i, lambda >= 0
        assert resid <= 1e-5 * max(1.0, np.linalg.norm(p - a))


def test_projection_of_far_points() -> None:
    """Far points land where ~n angles touch the wedge: the hardest case for the cuts."""
    rng = np.random.default_rng(55)
    for region in REGIONS:
        for n in (5, 20, 40):
            for scale in (5.0, 50.0):
                a = rng.normal(size=n) * scale
                p = region.project(a)
                assert region.contains(p)
                assert region.margin(p) < 1e-9
                assert region.last_projection.rounds < 30


def test_projection_raises_when_not_converged() -> None:
    rng = np.random.default_rng(60)
    a = outside_point(rng, 20) * 3
    with pytest.raises(ProjectionError, match="max_rounds"):
        POST.project(a, max_rounds=1)


# --------------------------------------------------------------------------- sampling and curves
def test_sample_and_curve() -> None:
    rng = np.random.default_rng(70)
    S = POST.sample(6, 25, rng)
    assert S.shape == (25, 6)
    assert all(POST.contains(s, tol=0.0) for s in S)
    assert POST.sample(3, 0, rng).shape == (0, 3)
    a = np.array([0.3, -0.2])
    q = POST.curve(a, num=9)
    assert q.shape == (9,) and np.iscomplexobj(q)
    z = np.exp(1j * np.linspace(0, 2 * np.pi, 9))
    np.testing.assert_allclose(q, 1 + 0.3 / z - 0.2 / z**2)
    r = PacmanRegion(alpha=0.5).curve(a, num=5)
    z = 0.5 * np.exp(1j * np.linspace(0, 2 * np.pi, 5))
    np.testing.assert_allclose(r, 1 + 0.3 / z - 0.2 / z**2)


def test_ray_radius() -> None:
    d = np.array([1.0])
    # q = 1 + t e^{-iw}: the wedge edge is at distance 1/sqrt 2 from 1
    assert POST.ray_radius(d) == pytest.approx(np.sqrt(2) / 2, rel=1e-12)
    assert PacmanRegion(alpha=0.5).ray_radius(d) == pytest.approx(np.sqrt(2) / 4, rel=1e-12)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"alpha": "x"}, "alpha"),
        ({"tau0": -0.1}, "tau0"),
        ({"tau0": float("inf")}, "tau0"),
        ({"tau1": float("nan")}, "tau1"),
        ({"tau1": -0.5}, "tau1"),
        ({"tau1": 0.5, "tau2": 0.5}, "tau1"),
        ({"tau1": 1.0}, "tau1"),
        ({"tau2": 0.9}, "tau2"),
        ({"tau2": float("nan")}, "tau2"),
    ],
)
def test_parameter_validation(kwargs: dict, name: str) -> None:
    with pytest.raises(ParameterError, match=f"^{name}:"):
        PacmanRegion(**kwargs)


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 2)), [np.nan, 0.0], [np.inf], [1j, 0.0], [], "ab", 1.0]
)
def test_a_validation(bad) -> None:
    for method in (POST.contains, POST.margin, POST.project):
        with pytest.raises(DataError, match="^a:"):
            method(bad)


def test_other_argument_validation() -> None:
    with pytest.raises(ParameterError, match="num"):
        POST.curve([0.1], num=1)
    with pytest.raises(ParameterError, match="num"):
        POST.curve([0.1], num=2.5)
    with pytest.raises(ParameterError, match="order"):
        POST.sample(0, 3)
    with pytest.raises(ParameterError, match="size"):
        POST.sample(2, -1)
    with pytest.raises(ParameterError, match="random_state"):
        POST.sample(2, 3, random_state="x")
    for bad in (-1e-3, float("nan"), "1e-9"):
        with pytest.raises(ParameterError, match="tol"):
            POST.contains([0.1], tol=bad)
        with pytest.raises(ParameterError, match="tol"):
            POST.project([3.0], tol=bad)
    for bad in (0, -3, 2.5, None):
        with pytest.raises(ParameterError, match="max_rounds"):
            POST.project([3.0], max_rounds=bad)
    with pytest.raises(DataError, match="^direction:"):
        POST.ray_radius([])


def test_sample_deprecated_keywords() -> None:
    ref = POST.sample(3, 4, 7)
    assert np.array_equal(POST.sample(order=3, size=4, random_state=7), ref)
    with pytest.warns(DeprecationWarning, match="'n'"):
        assert np.array_equal(POST.sample(n=3, size=4, random_state=7), ref)
    with pytest.warns(DeprecationWarning, match="'rng'"):
        assert np.array_equal(POST.sample(3, 4, rng=7), ref)


def test_projection_error_is_the_typed_one() -> None:
    assert ProjectionError is errors.ProjectionError
    assert issubclass(ProjectionError, RuntimeError)


def test_tau2_accepts_inf_only_as_no_strip() -> None:
    assert PacmanRegion(tau2=np.inf).tau2 == float("inf")
    assert PacmanRegion(tau2=np.float64(2.0)).tau2 == 2.0
    with pytest.raises(ParameterError, match="tau2"):
        PacmanRegion(tau2=-np.inf)
    with pytest.raises(ParameterError, match="tau2"):
        PacmanRegion(tau2=True)


def test_every_function_is_at_most_80_lines() -> None:
    import ast
    import inspect

    from learnlds import _kernels, analysis, reduce, region, risk, systems

    for mod in (_kernels, analysis, reduce, region, risk, systems):
        tree = ast.parse(inspect.getsource(mod))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                assert length <= 80, f"{mod.__name__}.{node.name}: {length} lines"


def test_pacman_plot_smoke() -> None:
    import matplotlib.pyplot as plt

    from learnlds import plots

    fig = plots.pacman([-1.486, 0.81])
    assert "margin" in fig.axes[0].get_title()
    fig2 = plots.pacman([0.2, 0.1], region=PacmanRegion(tau0=0.5, tau1=0.2, tau2=3.0))
    assert "inside" in fig2.axes[0].get_title()
    plt.close("all")
