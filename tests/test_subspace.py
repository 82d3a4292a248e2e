"""Tests for learnlds.subspace: subspace_id, starts, fit_best, select_order."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import daisy_path, loop_simulate, random_system

from learnlds.datasets import load_daisy
from learnlds.errors import DataError, ParameterError
from learnlds.statespace import StateSpaceSystem
from learnlds.subspace import (
    _bic,
    _geometric_sums,
    _holdout_sums,
    _jackknife_fits,
    _paired_se,
    _startup_covariance,
    fit_best,
    initial_system,
    select_order,
    subspace_id,
    subspace_singular_values,
)
from learnlds.validate import channel_fits, holdout


def rel_markov_error(model, truth, k=60):
    return np.linalg.norm(model.markov(k) - truth.markov(k)) / np.linalg.norm(truth.markov(k))


def daisy_record(name: str) -> tuple[np.ndarray, np.ndarray]:
    return load_daisy(name).u1, load_daisy(name).y1


@pytest.fixture(scope="module")
def mimo_data():
    truth = random_system(4, 3, 2, 1)
    u = np.random.default_rng(0).normal(size=(1, 3000, 3))
    return truth, u, truth.simulate(u)


def test_subspace_recovers_noiseless_mimo(mimo_data):
    truth, u, y = mimo_data
    model = subspace_id(u, y, 4)
    assert model.is_stable()
    assert rel_markov_error(model, truth) < 1e-5


def test_singular_values_show_the_order(mimo_data):
    _, u, y = mimo_data
    s = subspace_singular_values(u, y)
    assert s[3] > 1e-3 * s[0] and s[4] < 1e-9 * s[0]


def test_subspace_on_several_sequences(mimo_data):
    truth, u, y = mimo_data
    u2, y2 = u.reshape(3, 1000, 3), y.reshape(3, 1000, 2)
    assert rel_markov_error(subspace_id(u2, y2, 4), truth) < 1e-4


def test_flutter_coloured_input_does_not_blow_up():
    u, y = daisy_record("flutter")
    cut = len(u) // 2
    u3 = (u[:cut] - u[:cut].mean()).reshape(1, -1, 1)
    y3 = (y[:cut] - y[:cut].mean()).reshape(1, -1, 1)
    for order in range(1, 9):
        model = subspace_id(u3, y3, order)
        assert model.is_stable()
        assert np.all(np.isfinite(model.A)) and np.all(np.isfinite(model.B))
        assert np.all(np.isfinite(holdout(model, u, y).yhat_validation))
    for order in (2, 3):  # the orders the data support (higher ones overfit this record)
        assert holdout(subspace_id(u3, y3, order), u, y).validation_fit > 0


@pytest.mark.parametrize("kind", ["subspace", "arx", "zero"])
def test_every_start_is_stable_and_of_the_order(mimo_data, kind):
    _, u, y = mimo_data
    s = initial_system(u, y, 3, kind=kind)
    assert s.is_stable() and (s.order, s.n_inputs, s.n_outputs) == (3, 3, 2)


def test_fit_best_recovers_and_reports(mimo_data):
    truth, u, y = mimo_data
    model, info = fit_best(u, y, 4)
    assert rel_markov_error(model, truth) < 1e-6
    assert info["start_losses"].shape == (6,) and info["start_scores"].shape == (6,)
    assert 0 <= info["start"] < 3 and info["x0_mode"] in ("zero", "estimate")
    chosen = info["candidates"][int(np.argmax(info["start_scores"]))]
    assert chosen == (info["start"], info["x0_mode"], info["criterion"])


def test_fit_best_fixed_treatment_and_loss_rule(mimo_data):
    truth, u, y = mimo_data
    model, info = fit_best(u, y, 4, x0="zero", holdout=0.0, starts=("subspace", "arx"))
    assert info["candidates"] == [(0, "zero", "simulation"), (1, "zero", "simulation")]
    np.testing.assert_allclose(info["start_scores"], -info["start_losses"])
    assert rel_markov_error(model, truth) < 1e-6


def test_fit_best_auto_criterion_adds_prediction_candidates(mimo_data):
    truth, u, y = mimo_data
    model, info = fit_best(u[:, :1500], y[:, :1500], 4, criterion="auto", x0="zero")
    assert [c[2] for c in info["candidates"]].count("prediction") == 1
    assert info["criterion"] in ("simulation", "prediction")
    assert rel_markov_error(model, truth) < 1e-6
    _, by_loss = fit_best(u[:, :600], y[:, :600], 2, criterion="auto", holdout=0.0)
    is_pred = np.array([c[2] == "prediction" for c in by_loss["candidates"]])
    assert np.all(np.isneginf(by_loss["start_scores"][is_pred]))  # losses not comparable


def _estimation_half(u: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cut = len(u) // 2
    u3, y3 = u[:cut].reshape(cut, -1), y[:cut].reshape(cut, -1)
    return (u3 - u3.mean(axis=0))[None], (y3 - y3.mean(axis=0))[None]


_VALIDATION_FITS: dict[str, dict[int, float]] = {}


def _validation_fits(name: str, u: np.ndarray, y: np.ndarray) -> dict[int, float]:
    """Outer validation fit of ``fit_best`` at orders 1..8 (first half estimates), cached."""
    if name not in _VALIDATION_FITS:
        _VALIDATION_FITS[name] = {
            k: holdout(fit_best(*_estimation_half(u, y), k)[0], u, y).validation_fit
            for k in range(1, 9)
        }
    return _VALIDATION_FITS[name]


_DAISY_COLUMNS = {  # name -> (input columns, output columns)
    "dryer": ([0], [1]),
    "flutter": ([0], [1]),
    "ballbeam": ([0], [1]),
    "cstr": ([1], [2, 3]),
}


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("dryer", "bic"),
        ("flutter", "bic"),
        ("ballbeam", "bic"),
        ("cstr", "bic"),
        ("dryer", "holdout"),
        ("ballbeam", "holdout"),
        ("cstr", "holdout"),
    ],
)
def test_select_order_within_one_and_a_half_points_of_the_best_order(name, method):
    """Issue 10's target where each rule meets it. The hold-out misses flutter (order 1,
    5.3 points short: its inner hold-out ranks orders against the validation half);
    the zero-state inner score chose order 1 on ballbeam (15 points short)."""
    raw = np.loadtxt(daisy_path(name))
    cols_u, cols_y = _DAISY_COLUMNS[name]
    u, y = raw[:, cols_u], raw[:, cols_y]
    order, scores = select_order(*_estimation_half(u, y), method=method)
    fits = _validation_fits(name, u, y)
    assert set(scores) == set(fits)
    assert fits[order] >= max(fits.values()) - 1.5


def test_bic_against_an_explicit_computation():
    """``rows log det(S) + d log(rows)`` from loops: ``S`` the covariance of the simulation
    error from each sequence's least-squares initial state (outputs divided by their
    RMS), unbiased for the ``d = n (m + p) + m p + N n`` fitted values, plus the centred
    start-up error covariance ``(sum_t G_t P G_t' - (sum_t G_t) P (sum_t G_t)' / T) / T``
    of a zero-state start from a state of covariance ``P`` (``G_t = C A^t``)."""
    truth = random_system(3, 2, 2, 8)
    rng = np.random.default_rng(1)
    u = rng.normal(size=(2, 150, 2))
    y = truth.simulate(u, x0=rng.normal(size=3)) + 0.2 * rng.normal(size=(2, 150, 2))
    model = random_system(3, 2, 2, 9, radius=0.8)
    scale = np.sqrt(np.mean(y.reshape(-1, 2) ** 2, axis=0))
    errs, states = [], []
    for i in range(2):
        free = np.stack([loop_simulate(model, 0 * u[i], e) / scale for e in np.eye(3)], axis=2)
        forced = y[i] / scale - loop_simulate(model, u[i], np.zeros(3)) / scale
        x0 = np.linalg.lstsq(free.reshape(300, 3), forced.ravel(), rcond=None)[0]
        errs.append(y[i] / scale - loop_simulate(model, u[i], x0) / scale)
        x, xs = x0.copy(), []
        for t in range(150):
            xs.append(x)
            x = model.A @ x + model.B @ u[i, t]
        states.append(np.array(xs))
    err, X = np.concatenate(errs), np.concatenate(states)
    P = X.T @ X / 300
    G = [np.diag(1 / scale) @ model.C @ np.linalg.matrix_power(model.A, t) for t in range(150)]
    total = sum(g @ P @ g.T for g in G)
    startup = (total - sum(G) @ P @ sum(G).T / 150) / 150
    d = 3 * (2 + 2) + 2 * 2 + 2 * 3
    unbiased = err.T @ err / 300 * (600 / (600 - d))  # 600 values, d fitted
    logdet = np.log(np.linalg.det(unbiased + startup + 1e-10 * np.eye(2)))
    assert _bic(model, u, y) == pytest.approx(300 * logdet + d * np.log(300), rel=1e-8)
    blown = StateSpaceSystem(np.array([[1.5]]), [[1.0, 0.0]], [[1.0], [1.0]])
    assert _bic(blown, np.full((1, 3000, 2), 1.0), y[:1].repeat(20, axis=1)) == np.inf


@pytest.mark.parametrize("radius", [0.5, 0.95, 1.0])
def test_startup_covariance_by_monte_carlo(radius):
    """The start-up term is the mean centred squared free response ``C A^t x0`` over
    ``T`` samples, ``x0`` drawn with covariance ``P``: Monte Carlo over 4000 draws
    (also with a unit pole, where the doubling sums have no closed form)."""
    model = random_system(3, 1, 2, 4, radius=radius)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1, 500, 3)) @ np.diag([1.0, 0.5, 2.0])
    P = X[0].T @ X[0] / 500
    T = 80
    x0 = rng.multivariate_normal(np.zeros(3), P, size=4000)
    free = np.stack([model.C @ np.linalg.matrix_power(model.A, t) @ x0.T for t in range(T)])
    free = free - free.mean(axis=0)  # (T, p, draws), each draw centred over time
    monte_carlo = np.einsum("tpk,tqk->pq", free, free) / (T * 4000)
    exact = _startup_covariance(model, X, T)
    assert np.allclose(exact, monte_carlo, rtol=0.1, atol=0.02 * np.trace(exact))


def test_geometric_sums_match_the_loop():
    A = random_system(4, 1, 1, 3, radius=1.02).A  # also when A is not stable
    P = np.diag([1.0, 2.0, 0.5, 3.0])
    for T in (1, 2, 7, 64, 100):
        quad, lin = _geometric_sums(A, P, T)
        powers = [np.linalg.matrix_power(A, t) for t in range(T)]
        assert np.allclose(quad, sum(Ak @ P @ Ak.T for Ak in powers), rtol=1e-10)
        assert np.allclose(lin, sum(powers), rtol=1e-10)


def _noisy_order2_record(seed: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """A random stable order-2 SISO plant (with feedthrough) driven by white noise, its
    output noise 30 % of its spread: the short-record cases of order selection."""
    from learnlds import CanonicalSystem

    rng = np.random.default_rng(seed)
    r, th = rng.uniform(0.5, 0.95), rng.uniform(0.2, 2.5)
    truth = CanonicalSystem([-2 * r * np.cos(th), r * r], rng.normal(size=2), d=rng.normal())
    u = rng.normal(size=length)
    y = truth.simulate(u)
    return u, y + 0.3 * y.std() * rng.normal(size=length)


@pytest.mark.parametrize("seed", [102, 106])
def test_bic_on_thirty_samples_uses_the_unbiased_error_covariance(seed):
    """30 samples of a noisy order-2 plant: with the biased error covariance the
    criterion chose order 4 (fresh-data fit 60 and 27 % against 67 and 57 % at 2)."""
    from learnlds import LDSRegressor

    u, y = _noisy_order2_record(seed, 30)
    assert LDSRegressor(order="auto").fit(u, y).order_ == 2


def test_bic_counts_initial_states_for_every_order():
    """Four sequences of an order-2 plant: the order-2 fit that estimated its initial
    states is not charged for them alone (an order-3 fit from zero state won then)."""
    from learnlds import CanonicalSystem

    truth = CanonicalSystem([-0.6, 0.2], [1.0, -0.5], d=0.3)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(4, 300))
    y = np.stack([truth.simulate(x) for x in u]) + 0.05 * rng.normal(size=(4, 300))
    best, bics = select_order((u - u.mean())[..., None], (y - y.mean())[..., None])
    assert best == 2 and min(bics, key=bics.get) == 2


def test_holdout_score_and_jackknife_against_explicit_loops():
    """Block sums (initial state and an offset per output fitted by least squares, the
    squared error charged rows / (rows - fitted)), leave-one-block-out fits and the
    paired SE, recomputed by hand."""
    truth = random_system(3, 2, 2, 4)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(1, 137, 2))
    y = truth.simulate(u, x0=rng.normal(size=3)) + 0.3 * rng.normal(size=(1, 137, 2))
    model = random_system(3, 2, 2, 5, radius=0.7)
    sums = _holdout_sums(model, u, y)
    scale = np.sqrt(np.mean(y[0] ** 2, axis=0))
    free = np.stack([loop_simulate(model, 0 * u[0], e) / scale for e in np.eye(3)], axis=-1)
    offsets = np.stack([np.tile(e, (137, 1)) for e in np.eye(2)], axis=-1)  # one per output
    X = np.concatenate((free, offsets), axis=-1).reshape(-1, 5)
    forced = loop_simulate(model, u[0], np.zeros(3)) / scale
    coef = np.linalg.lstsq(X, (y[0] / scale - forced).ravel(), rcond=None)[0]
    err = y[0] - loop_simulate(model, u[0], coef[:3]) - coef[3:] * scale  # state and offsets
    assert _holdout_sums(model, u[:, :2], y[:, :2]) is None  # 4 rows, 5 fitted values
    edges = np.linspace(0, 137, 11).astype(int)
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    full, left_out = _jackknife_fits(sums)

    charge = np.sqrt(137 * 2 / (137 * 2 - 5))  # 5 fitted values: 3 states, 2 offsets

    def fit(keep):
        ratio = np.linalg.norm(err[keep], axis=0) / np.linalg.norm(y[0][keep], axis=0)
        return np.mean(100 * (1 - charge * ratio))

    assert full == pytest.approx(fit(np.ones(137, bool)), abs=1e-9)
    for b, blk in enumerate(blocks):
        keep = np.ones(137, bool)
        keep[blk] = False
        assert left_out[b] == pytest.approx(fit(keep), abs=1e-9)
    other = rng.normal(size=10)
    d = left_out - other
    assert _paired_se(left_out, other) == pytest.approx(np.sqrt(0.9 * np.sum((d - d.mean()) ** 2)))


def test_select_order_scores_from_the_holdouts_initial_state():
    """A lightly damped plant: its state at the cut is far from zero, and from zero the
    transient dominates the hold-out even for the right model."""
    r, th = 0.97, 0.5
    A = r * np.array([[np.cos(th), np.sin(th)], [-np.sin(th), np.cos(th)]])
    truth = StateSpaceSystem(A, [[1.0], [0.0]], [[1.0, 0.0]])
    rng = np.random.default_rng(2)
    u = rng.normal(size=(1, 600, 1))
    y = truth.simulate(u) + 0.05 * rng.normal(size=(1, 600, 1))
    u, y = u - u.mean(), y - y.mean()
    _, scores = select_order(u, y, orders=[2], method="holdout")
    model = fit_best(u, y, 2, refine=False)[0]  # the model select_order scores
    assert np.allclose(np.abs(model.poles()), r, atol=2e-3)
    uv, yv = u[:, 420:] - u[:, 420:].mean(), y[:, 420:] - y[:, 420:].mean()
    from_zero = np.mean(channel_fits(yv, model.simulate(uv), sequences=True))
    assert scores[2] > 95 and from_zero < 60


def test_select_order_rule():
    """``tolerance=0, n_se=0`` takes the best score; a huge ``n_se`` the smallest order."""
    truth = random_system(3, 1, 1, 7, radius=0.8)
    rng = np.random.default_rng(1)
    u = rng.normal(size=(1, 800, 1))
    y = truth.simulate(u) + 0.5 * rng.normal(size=(1, 800, 1))
    rule = {"orders": [1, 2, 3, 4], "method": "holdout"}
    greedy, scores = select_order(u, y, tolerance=0.0, n_se=0.0, **rule)
    assert greedy == max(scores, key=scores.get)
    assert select_order(u, y, n_se=1e6, **rule)[0] == 1
    best, bics = select_order(u, y, orders=[1, 2, 3, 4])
    assert best == min(bics, key=bics.get)


@pytest.mark.parametrize("seed", [5, 7])
def test_select_order_on_a_short_record_charges_the_fitted_initial_state(seed):
    """100 samples of a noisy order-2 plant: a 30-sample hold-out with the initial state
    fitted favours long states unless the fitted values are charged (both chose 4)."""
    u, y = _noisy_order2_record(seed, 100)
    u3, y3 = (a.reshape(1, -1, 1) - a.mean() for a in (u, y))
    assert select_order(u3, y3, method="holdout")[0] <= 3
    assert select_order(u3, y3)[0] == 2  # the information criterion


def test_fit_best_holdout_beats_lowest_loss_on_ballbeam():
    """The lowest estimation loss is not the best model on this plant; the hold-out is."""
    d = load_daisy("ballbeam")
    u, y = d.u1[:500], d.y1[:500]
    u3, y3 = (u - u.mean()).reshape(1, -1, 1), (y - y.mean()).reshape(1, -1, 1)
    held = fit_best(u3, y3, 6)[0]
    lowest = fit_best(u3, y3, 6, x0="zero", holdout=0.0)[0]
    assert holdout(held, d.u1, d.y1).validation_fit > holdout(lowest, d.u1, d.y1).validation_fit + 5


def test_select_order_finds_the_true_order():
    truth = random_system(3, 1, 2, 7, radius=0.8)
    rng = np.random.default_rng(3)
    u = rng.normal(size=(1, 1500, 1))
    y = truth.simulate(u) + 0.05 * rng.normal(size=(1, 1500, 2))
    for method in ("bic", "holdout"):
        best, scores = select_order(u, y, orders=range(1, 6), method=method)
        assert best == 3
        assert set(scores) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda u, y: subspace_id(u, y, 0), "order"),
        (lambda u, y: subspace_id(u, y, 3, horizon=2), "horizon"),
        (lambda u, y: subspace_id(u, y, 2, ridge=-1.0), "ridge"),
        (lambda u, y: initial_system(u, y, 2, kind="magic"), "kind"),
        (lambda u, y: fit_best(u, y, 2, starts=()), "starts"),
        (lambda u, y: fit_best(u, y, 2, screen_iter=-1), "screen_iter"),
        (lambda u, y: fit_best(u, y, 2, holdout=1.0), "holdout"),
        (lambda u, y: fit_best(u, y, 2, x0="guess"), "x0"),
        (lambda u, y: fit_best(u, y, 2, criterion="guess"), "criterion"),
        (lambda u, y: fit_best(u, y, 2, tol="tight"), "tol"),
        (lambda u, y: fit_best(u, y, 2, refine="yes"), "refine"),
        (lambda u, y: select_order(u, y, orders=[]), "orders"),
        (lambda u, y: select_order(u, y, holdout=1.5), "holdout"),
        (lambda u, y: select_order(u, y, tolerance=-1), "tolerance"),
        (lambda u, y: select_order(u, y, n_se=-1), "n_se"),
        (lambda u, y: select_order(u, y, method="aic"), "method"),
    ],
)
def test_parameters_checked(call, name):
    u = np.random.default_rng(0).normal(size=(1, 300, 1))
    with pytest.raises(ParameterError, match=name):
        call(u, u)


@pytest.fixture(scope="module")
def target_data():
    """The issue's target: random stable MIMO, 2 outputs, 3 inputs, order 4, T = 5000."""
    truth = random_system(4, 3, 2, 11)
    rng = np.random.default_rng(5)
    u = rng.normal(size=(1, 5000, 3))
    y = truth.simulate(u)
    return truth, u, y, y + 0.3 * y.std(axis=1) * rng.normal(size=y.shape)


def test_fit_best_meets_the_issue_target(target_data):
    truth, u, y, noisy = target_data
    assert rel_markov_error(fit_best(u, y, 4)[0], truth) <= 1e-6
    err = rel_markov_error(fit_best(u, noisy, 4)[0], truth)
    assert err <= 1.2 * rel_markov_error(subspace_id(u, noisy, 4), truth)


def test_fit_best_on_short_or_degenerate_data():
    truth = random_system(2, 1, 1, 0)
    rng = np.random.default_rng(0)
    u = rng.normal(size=(1, 40, 1))
    with pytest.raises(DataError, match="order"):
        fit_best(u, truth.simulate(u), 8)
    u = rng.normal(size=(1, 300, 1))
    flat_end = np.r_[rng.normal(size=200), np.zeros(100)][None, :, None]
    y = np.concatenate((truth.simulate(u), flat_end), axis=2)  # constant in the hold-out
    model, info = fit_best(u, y, 2)
    assert info["selected_by"] == "loss" and model.is_stable()
    with pytest.raises(DataError, match="hold-out"):
        select_order(u, y, orders=[1, 2], method="holdout")


def _late_step_record() -> tuple[StateSpaceSystem, np.ndarray, np.ndarray]:
    """A two-input step test: input 0 steps all along, input 1 once, at 80 % of it."""
    truth = random_system(2, 2, 2, 5)
    rng = np.random.default_rng(5)
    u = np.zeros((1, 500, 2))
    for t0 in range(0, 500, 50):
        u[0, t0:, 0] += rng.choice([-1.0, 1.0])
    u[0, 400:, 1] = 1.0
    y = truth.simulate(u) + 0.01 * rng.normal(size=(1, 500, 2))
    return truth, u - u.mean(axis=(0, 1)), y - y.mean(axis=(0, 1))


def test_fit_best_chooses_by_loss_when_an_input_only_moves_in_the_hold_out():
    """Step tests: candidates fitted where input 1 never moves leave its columns free (they
    failed the hold-out by 1e15 % and the winner was one of them); the choice is then by
    loss on all data, and the model is right on a fresh record that moves both inputs."""
    truth, u, y = _late_step_record()
    model, info = fit_best(u, y, 2)
    assert info["selected_by"] == "loss"
    fresh = np.random.default_rng(6).normal(size=(1, 400, 2))
    assert (
        np.mean(channel_fits(truth.simulate(fresh), model.simulate(fresh), sequences=True)) > 90.0
    )
    moving = np.roll(u, -250, axis=1)  # the late step moved to the middle: hold-out kept
    assert fit_best(moving, truth.simulate(moving), 2)[1]["selected_by"] == "holdout"


def test_too_short_for_the_order_is_a_data_error():
    u = np.random.default_rng(0).normal(size=(1, 30, 2))
    with pytest.raises(DataError):
        subspace_id(u, u, 8)


def test_fit_best_long_records_screen_zero_state_only():
    """Beyond 5000 samples an estimated initial state is not screened (O(1/T) of the loss)."""
    truth = random_system(2, 1, 1, 3)
    u = np.random.default_rng(1).normal(size=(1, 6000, 1))
    _, info = fit_best(u, truth.simulate(u), 2)
    assert {c[1] for c in info["candidates"]} == {"zero"}
    _, short = fit_best(u[:, :5000], truth.simulate(u[:, :5000]), 2)
    assert {c[1] for c in short["candidates"]} == {"zero", "estimate"}


def test_fit_best_without_refinement_returns_the_screened_winner(mimo_data):
    """refine=False: the winner as screened (at most screen_iter iterations on the first
    part); refining it on all the data lowers the loss further."""
    truth, u, y = mimo_data
    screened, info = fit_best(u, y, 4, refine=False, screen_iter=3)
    assert info["n_iter"] <= 3 and info["selected_by"] == "holdout"
    refined, _ = fit_best(u, y, 4, screen_iter=3)
    assert rel_markov_error(refined, truth) < 1e-6
    assert rel_markov_error(refined, truth) <= rel_markov_error(screened, truth)


def test_restart_fits_against_explicit_segments():
    """Eight zero-state restarts on centred 30 % segments, scored as the protocol does."""
    from learnlds.subspace import _restart_fits

    truth = random_system(2, 1, 2, 3)
    rng = np.random.default_rng(4)
    u = rng.normal(size=(1, 200, 1))
    y = truth.simulate(u) + 0.2 * rng.normal(size=(1, 200, 2))
    model = random_system(2, 1, 2, 9, radius=0.5)
    expected = []
    for t0 in np.linspace(0, 140, 8).astype(int):
        us, ys = u[0, t0 : t0 + 60], y[0, t0 : t0 + 60]
        us, ys = us - us.mean(axis=0), ys - ys.mean(axis=0)
        yhat = loop_simulate(model, us, np.zeros(2))
        expected.append(
            np.mean(100 * (1 - np.linalg.norm(ys - yhat, axis=0) / np.linalg.norm(ys, axis=0)))
        )
    np.testing.assert_allclose(_restart_fits(model, u, y), np.maximum(expected, -100), atol=1e-9)


def test_fit_best_rejects_a_refinement_that_fails_restarts_on_flutter():
    """Flutter at order 4: refined on the whole estimation half, the model rang at
    |z| = 0.996 and validated at -64 %; restarted inside the estimation data it already
    lost ~66 points to the screened winner, so that winner is kept."""
    raw = np.loadtxt(daisy_path("flutter"))
    u, y = raw[:, 0], raw[:, 1]
    model, info = fit_best(*_estimation_half(u, y), 4)
    assert info["refined"] is False and "rejected" in info["stop_reason"]
    assert holdout(model, u, y).validation_fit > 40.0
    kept, kept_info = fit_best(*_estimation_half(u, y), 5)
    assert kept_info["refined"] is True and holdout(kept, u, y).validation_fit > 49.0


@pytest.mark.parametrize("call", ["fit_best", "select_order"])
def test_user_layout_arrays_get_a_named_error_from_the_canonical_functions(call):
    """(T,) arrays: a DataError naming the canonical shape (select_order raised a
    TypeError from deep inside)."""
    from learnlds import subspace

    u = np.random.default_rng(1).normal(size=200)
    args = (u, u) if call == "select_order" else (u, u, 2)
    with pytest.raises(DataError, match=r"must be canonical \(N, T, m\)"):
        getattr(subspace, call)(*args)
