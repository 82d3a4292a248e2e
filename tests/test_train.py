"""Projected SGD (Algorithms 1 and 2) and the fast Gauss-Newton solver."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from learnlds import errors
from learnlds.errors import (
    ConvergenceWarning,
    DataError,
    ParameterError,
    UnsupportedShapeError,
)
from learnlds.region import PacmanRegion
from learnlds.risk import population_risk
from learnlds.systems import CanonicalSystem
from learnlds.train import (
    DivergenceWarning,
    TrainingDiverged,
    fresh_batches,
    gauss_newton,
    levenberg_marquardt,
    projected_sgd,
    sequence_batches,
    tile_windows,
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
        random_state=0,
    )
    risk = population_risk(res.model, truth, 200, burn_in=50, noise_std=sigma)
    assert risk <= 1.01 * sigma**2
    assert not res.diverged and res.stop_reason == "max_steps" and res.converged


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
        random_state=3,
        callback=check,
    )
    assert len(seen) == 201 and res.projections > 0
    for m0, m1 in zip(seen[:-1], seen[1:], strict=True):
        step = np.sqrt(np.sum((m1.a - m0.a) ** 2) + np.sum((m1.c - m0.c) ** 2) + (m1.d - m0.d) ** 2)
        assert step <= lr * clip + 1e-9


def test_plain_sgd_divergence_is_reported_not_returned_as_nan():
    truth = CanonicalSystem([-1.5, 0.7], [1.0, 1.0], 0.0)
    source = fresh_batches(truth, 200, batch_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = projected_sgd(source, order=2, steps=500, lr=5.0, region=None, random_state=0)
    # one report: the divergence, not also the loss's overflow warning of the same step
    assert [type(w.message) for w in caught] == [DivergenceWarning]
    assert "diverged" in str(caught[0].message)
    assert res.diverged and res.stop_reason == "diverged" and not res.converged
    assert "diverged at step" in res.message
    assert np.all(np.isfinite(res.model.a)) and np.all(np.isfinite(res.model.c))
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        projected_sgd(
            source, order=2, steps=500, lr=5.0, region=None, random_state=0, on_divergence="raise"
        )


def test_deterministic_for_a_seed_and_snapshots():
    src = fresh_batches(SYNTH, 50, batch_size=2, noise_std=0.1)
    kw = dict(order=3, steps=60, lr=0.01, random_state=7, snapshot_every=20, init="identity")
    r1, r2 = projected_sgd(src, **kw), projected_sgd(src, **kw)
    assert r1.model == r2.model
    np.testing.assert_array_equal(r1.loss_history, r2.loss_history)
    assert [k for k, _ in r1.snapshots] == [0, 20, 40, 60]
    assert r1.snapshots[0][1] == CanonicalSystem(np.zeros(3), np.zeros(3), 1.0)
    assert r1.loss_history.shape == (61,)


def test_post_setting_gd_on_one_sequence_decreases_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    y = SYNTH.simulate(x, noise_std=0.05, random_state=rng)
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
    xb, _ = sequence_batches(xs, xs, batch_size=3, sequences=True)(np.random.default_rng(0))
    assert xb.shape == (3, 10) and len({tuple(r) for r in xb}) == 3
    src = sequence_batches(xs, xs, sequences=True)
    with pytest.raises(DataError, match="window"):
        window_batches(x, y, window=1000)
    with pytest.raises(ParameterError, match="batch_size"):
        sequence_batches(xs, xs, batch_size=0, sequences=True)
    with pytest.raises(ParameterError, match="order"):
        projected_sgd(src, steps=5)
    with pytest.raises(ParameterError, match="init"):
        projected_sgd(src, order=2, steps=5, init="random")
    with pytest.raises(ParameterError, match="lr"):
        projected_sgd(src, order=2, steps=5, lr=-1.0)
    with pytest.raises(ParameterError, match="lr"):
        projected_sgd(src, order=2, steps=5, lr=lambda k: float("nan"))


def test_algorithm2_windows_learn_from_one_long_record():
    rng = np.random.default_rng(5)
    truth = _in_region_target(2, 5)
    x = rng.normal(size=20_000)
    y = truth.simulate(x, noise_std=0.1, random_state=rng)
    res = projected_sgd(
        window_batches(x, y, window=80, batch_size=16),
        order=2,
        steps=1500,
        lr=lambda k: 0.03 / np.sqrt(1 + k / 300),
        burn_in=20,
        random_state=1,
    )
    r, rh = truth.markov(50), res.model.markov(50)
    assert np.linalg.norm(rh - r) / np.linalg.norm(r) < 0.05


@pytest.mark.parametrize("region", [None, "pacman"])
def test_gauss_newton_reaches_noise_floor(region):
    rng = np.random.default_rng(1)
    T = 100_000
    x = rng.normal(size=T)
    y = SYNTH.simulate(x, noise_std=0.1, random_state=rng)
    res = gauss_newton(x, y, order=3, region=region)
    r, rh = SYNTH.markov(200), res.model.markov(200)
    err = np.linalg.norm(rh - r) / np.linalg.norm(r)
    floor = 0.1 * np.sqrt(7 / T) / np.linalg.norm(r)
    assert err < 3 * floor
    assert res.converged and res.stop_reason in ("tol", "no_decrease")
    assert np.all(np.diff(res.loss_history) <= 1e-15)


def test_gauss_newton_region_keeps_a_inside_for_outside_truth():
    truth = CanonicalSystem([-1.7, 1.0, -0.22], [0.07, 0.0, 0.0], 0.0)
    rng = np.random.default_rng(2)
    x = rng.normal(size=2000)
    with pytest.warns(ConvergenceWarning, match="max_iter=30"):  # slow along the boundary
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
    res = gauss_newton(x, y, order=n, region=None, sequences=True)
    np.testing.assert_allclose(res.model.markov(30), truth.markov(30), atol=1e-7)
    assert not res.model.is_siso and res.model.c.shape == (n, p, m)


def test_gauss_newton_too_little_data():
    with pytest.raises(DataError, match="order: 3 is larger than the data supports"):
        gauss_newton(np.ones(5) * [1, -1, 1, -1, 1], np.ones(5), order=3)


def test_warnings_clean_on_normal_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        projected_sgd(fresh_batches(SYNTH, 30), order=3, steps=10, lr=0.001, random_state=0)
        src = fresh_batches(SYNTH, 100, batch_size=4, noise_std=0.1)
        res = projected_sgd(src, order=3, steps=400, lr=0.01, random_state=1)
        assert res.converged and res.stop_reason == "max_steps"
        u = np.random.default_rng(0).normal(size=3000)
        gauss_newton(u, SYNTH.simulate(u), order=3)  # exact fit: no LinAlgWarning either


def test_projected_sgd_learns_mimo_in_region():
    """SPEC section 6: one scalar denominator projected, S and D free."""
    rng = np.random.default_rng(8)
    a = PacmanRegion().sample(2, 1, rng)[0]
    truth = CanonicalSystem(a, rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3)))
    x = rng.normal(size=(40, 120, 3))
    y = truth.simulate(x, noise_std=0.01, random_state=rng)
    res = projected_sgd(
        sequence_batches(x, y, batch_size=8, sequences=True),
        order=2,
        steps=1500,
        lr=lambda k: 0.02 / np.sqrt(1 + k / 500),
        burn_in=30,
        random_state=0,
    )
    assert res.model.c.shape == (2, 2, 3) and res.model.d.shape == (2, 3)
    assert PacmanRegion().contains(res.model.a)
    np.testing.assert_allclose(res.model.markov(20), truth.markov(20), atol=0.02)


# --------------------------------------------------------------------------- front door
def _record(T=400, seed=0):
    u = np.random.default_rng(seed).normal(size=T)
    return u, SYNTH.simulate(u)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(max_iter=-3), "max_iter"),
        (dict(max_iter=2.5), "max_iter"),
        (dict(max_iter=True), "max_iter"),
        (dict(tol=-1.0), "tol"),
        (dict(tol=float("nan")), "tol"),
        (dict(stability_margin=1.5), "stability_margin"),
        (dict(coarse=-1), "coarse"),
        (dict(learn_d="yes"), "learn_d"),
        (dict(burn_in=-1), "burn_in"),
        (dict(burn_in=400), "burn_in"),
        (dict(region="square"), "region"),
        (dict(order=0), "order"),
        (dict(order=2.0), "order"),
        (dict(init="random"), "init"),
        (dict(init=CanonicalSystem([0.1], [1.0]), order=3), "init"),
        (dict(sequences="no"), "sequences"),
    ],
)
def test_gauss_newton_checks_every_argument(kwargs, name):
    u, y = _record()
    kw = dict(order=3) | kwargs
    with pytest.raises(ParameterError, match=f"^{name}"):
        gauss_newton(u, y, **kw)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(steps=-1), "steps"),
        (dict(steps=1.5), "steps"),
        (dict(lr=0.0), "lr"),
        (dict(lr="fast"), "lr"),
        (dict(clip=-1.0), "clip"),
        (dict(burn_in=-2), "burn_in"),
        (dict(tol=-1.0), "tol"),
        (dict(snapshot_every=-1), "snapshot_every"),
        (dict(on_divergence="ignore"), "on_divergence"),
        (dict(divergence_factor=0.5), "divergence_factor"),
        (dict(learn_d=1), "learn_d"),
        (dict(progress="yes"), "progress"),
        (dict(callback=3), "callback"),
        (dict(objective=None), "objective"),
        (dict(random_state=-1), "random_state"),
        (dict(random_state=1.5), "random_state"),
        (dict(region=3), "region"),
    ],
)
def test_projected_sgd_checks_every_argument(kwargs, name):
    u, y = _record()
    kw = dict(order=2, steps=3) | kwargs
    with pytest.raises(ParameterError, match=f"^{name}"):
        projected_sgd(sequence_batches(u, y), **kw)


def test_batch_sources_check_their_arguments():
    u, y = _record()
    with pytest.raises(ParameterError, match="^source"):
        projected_sgd("not a source", order=2)
    with pytest.raises(ParameterError, match="^window"):
        window_batches(u, y, window=0)
    with pytest.raises(ParameterError, match="^batch_size"):
        window_batches(u, y, window=10, batch_size=2.5)
    with pytest.raises(ParameterError, match="^window"):
        tile_windows(u, y, window="10", burn_in=2)
    with pytest.raises(ParameterError, match="^burn_in"):
        tile_windows(u, y, window=10, burn_in=10)
    with pytest.raises(ParameterError, match="^T"):
        fresh_batches(SYNTH, 0)
    with pytest.raises(ParameterError, match="^noise_std"):
        fresh_batches(SYNTH, 10, noise_std=-1.0)
    with pytest.raises(ParameterError, match="^truth"):
        fresh_batches("system", 10)
    with pytest.raises(DataError, match="NaN"):
        sequence_batches(np.full(10, np.nan), np.zeros(10))
    with pytest.raises(DataError, match="differ"):
        gauss_newton(u, y[:-1], order=2)


def test_siso_only_sources_refuse_mimo_records():
    u = np.zeros((100, 2))
    with pytest.raises(UnsupportedShapeError, match="window_batches"):
        window_batches(u, np.zeros(100), window=10)
    with pytest.raises(UnsupportedShapeError, match="tile_windows"):
        tile_windows(u, np.zeros((100, 1)), window=10, burn_in=2)
    with pytest.raises(UnsupportedShapeError, match="window_batches"):  # (N, T) is no record
        window_batches(np.zeros((3, 50)), np.zeros((3, 50)), window=10)


def test_layout_rule_records_and_sequences():
    """(T, m) is one record; sequences only with sequences=True; never guessed."""
    rng = np.random.default_rng(4)
    truth = CanonicalSystem([-0.5, 0.1], rng.normal(size=(2, 1, 2)), np.zeros((1, 2)))
    u = rng.normal(size=(600, 2))  # one record with two inputs
    res = gauss_newton(u, truth.simulate(u), order=2, region=None)
    np.testing.assert_allclose(res.model.markov(10), truth.markov(10), atol=1e-7)
    us = rng.normal(size=(3, 200))
    ys = SYNTH.simulate(us)
    seq = gauss_newton(us, ys, order=3, sequences=True)
    assert seq.model.is_siso and seq.model.order == 3
    with pytest.raises(DataError, match="sequences=True"):
        gauss_newton(us[..., None], ys[..., None], order=3)
    ub, _ = sequence_batches(us[..., None], ys[..., None], sequences=True)(rng)
    assert ub.shape == (3, 200)  # one input and output: the loss's SISO batch layout


def test_deprecated_keywords_still_work():
    u, y = _record()
    with pytest.warns(DeprecationWarning, match="'x' is deprecated"):
        old = gauss_newton(x=u, y=y, order=3)
    new = gauss_newton(u, y, order=3)
    np.testing.assert_array_equal(old.model.a, new.model.a)
    src = sequence_batches(u, y)
    with pytest.warns(DeprecationWarning, match="'rng' is deprecated"):
        r1 = projected_sgd(src, order=3, steps=5, rng=1)
    r2 = projected_sgd(src, order=3, steps=5, random_state=1)
    np.testing.assert_array_equal(r1.loss_history, r2.loss_history)
    with pytest.warns(DeprecationWarning):
        sequence_batches(x=u, y=y)
    with pytest.raises(ParameterError, match="pass only"):
        projected_sgd(src, order=3, steps=5, rng=1, random_state=1)


def test_errors_are_the_library_types():
    assert DivergenceWarning is errors.DivergenceWarning
    assert TrainingDiverged is errors.TrainingDiverged


def test_gauss_newton_at_max_iter_warns_and_says_so():
    rng = np.random.default_rng(1)
    u = rng.normal(size=2000)
    y = SYNTH.simulate(u, noise_std=0.1, random_state=rng)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        res = gauss_newton(u, y, order=3, max_iter=1)
    assert not res.converged and res.stop_reason == "max_iter" and res.n_steps == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = gauss_newton(u, y, order=3)
    assert ok.converged and ok.stop_reason == "tol" and "tol" in ok.message


def test_levenberg_marquardt_checks_and_renamed_keywords():
    from learnlds.train import LeastSquaresProblem, initial_model

    u = np.random.default_rng(0).normal(size=(1, 200, 1))
    prob = LeastSquaresProblem(u, 0.5 * u, 0, 1, True)
    start = initial_model("zero", 1)
    with pytest.raises(ParameterError, match="^max_iter"):
        levenberg_marquardt(prob, start, None, 0, 1e-10, 1e-6, True)
    with pytest.warns(DeprecationWarning, match="'reg' is deprecated"):
        res = levenberg_marquardt(
            prob, start, reg=None, max_iter=20, tol=1e-12, stability_margin=1e-6, siso=True
        )
    assert float(res.model.d) == pytest.approx(0.5)


def _scripted(losses):
    """An objective replaying given losses with a zero gradient (the model never moves)."""
    from learnlds.risk import Gradient

    it = iter(losses)

    def objective(model, u, y, burn_in):
        return float(next(it)), Gradient(np.zeros(model.order), np.zeros(model.order), 0.0)

    return objective


def test_oscillation_is_detected_and_warned():
    u, y = _record()
    losses = [2.0 if k % 2 else 1.0 for k in range(201)]
    with pytest.warns(ConvergenceWarning, match="oscillates between"):
        res = projected_sgd(sequence_batches(u, y), order=2, steps=200, objective=_scripted(losses))
    assert res.stop_reason == "oscillation" and not res.converged


def test_stagnation_far_above_the_best_is_detected():
    u, y = _record()
    losses = np.concatenate((np.linspace(5.0, 0.1, 100), np.full(101, 3.0)))
    with pytest.warns(ConvergenceWarning, match="far above the best"):
        res = projected_sgd(sequence_batches(u, y), order=2, steps=200, objective=_scripted(losses))
    assert res.stop_reason == "stagnation" and not res.converged


def test_noisy_settled_losses_are_not_flagged():
    """Minibatch noise around a floor (the normal end of SGD) is no oscillation or stagnation."""
    u, y = _record()
    for seed in range(20):
        noise = np.random.default_rng(seed).gamma(4.0, 0.25, size=801)
        losses = np.concatenate((np.linspace(10.0, 1.0, 200), noise[200:]))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = projected_sgd(
                sequence_batches(u, y), order=2, steps=800, objective=_scripted(losses)
            )
        assert res.converged, (seed, res.message)


def test_unmet_tol_warns():
    u, y = _record()
    with pytest.warns(ConvergenceWarning, match="did not reach tol"):
        res = projected_sgd(sequence_batches(u, y), order=3, steps=5, lr=1e-4, tol=1e-12)
    assert not res.converged and res.stop_reason == "max_steps"
    done = projected_sgd(sequence_batches(u, y), order=3, steps=5, tol=1e6)
    assert done.converged and done.stop_reason == "tol" and done.n_steps == 0


# --------------------------------------------------------------------------- progress, cost
def test_progress_lines_go_to_stderr(capsys):
    src = fresh_batches(CanonicalSystem([-0.5], [1.0]), 40, 2)
    projected_sgd(src, order=1, steps=100, lr=0.05, random_state=0, progress="lines")
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.startswith("projected SGD: step")]
    assert out == "" and len(lines) == 50 and lines[-1].startswith("projected SGD: step 100/100")
    u = np.random.default_rng(0).normal(size=400)
    res = gauss_newton(u, SYNTH.simulate(u), order=3, progress="lines")
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.startswith("Gauss-Newton: iteration")]
    assert out == "" and len(lines) == res.n_steps and "loss" in lines[-1]


def test_progress_true_without_a_terminal_prints_lines(capsys):
    u = np.random.default_rng(0).normal(size=400)
    gauss_newton(u, SYNTH.simulate(u), order=3, progress=True)  # pytest's stderr is no tty
    assert "Gauss-Newton: iteration 1/100" in capsys.readouterr().err


def test_progress_is_off_by_default_and_checked(capsys):
    u = np.random.default_rng(0).normal(size=400)
    gauss_newton(u, SYNTH.simulate(u), order=3)
    assert capsys.readouterr().err == ""
    with pytest.raises(ParameterError, match="progress"):
        gauss_newton(u, SYNTH.simulate(u), order=3, progress="loud")
    with pytest.raises(ParameterError, match="progress"):
        projected_sgd(fresh_batches(SYNTH, 20), order=3, steps=2, progress=2)


def test_estimate_cost_scales_and_checks_its_arguments():
    from learnlds.train import estimate_cost

    small = estimate_cost("gauss_newton", order=2, n_samples=1000, iterations=10)
    assert 0 < small < 1.0
    assert estimate_cost("gauss_newton", order=2, n_samples=1000, iterations=20) == pytest.approx(
        2 * small
    )
    assert estimate_cost("projected_sgd", order=2000, n_samples=40_000, iterations=10**6) > 3600
    for bad in ({"order": 0}, {"n_samples": -1}, {"iterations": 2.5}, {"n_inputs": 0}):
        kwargs = {"order": 2, "n_samples": 10, "iterations": 1, **bad}
        with pytest.raises(ParameterError, match=next(iter(bad))):
            estimate_cost("gauss_newton", **kwargs)
    with pytest.raises(ParameterError, match="method"):
        estimate_cost("newton", order=2, n_samples=10, iterations=1)


def test_enormous_runs_are_refused_with_the_estimate():
    u = np.random.default_rng(0).normal(size=1_000_000)
    with pytest.raises(errors.TooExpensiveError, match=r"gauss_newton: estimated .* hours.*force"):
        gauss_newton(u, u, order=2000, coarse=None)
    src = fresh_batches(CanonicalSystem([0.5], [1.0]), 5000, 8)
    with pytest.raises(errors.TooExpensiveError, match=r"projected_sgd: estimated .* hours"):
        projected_sgd(src, order=2000, steps=10**6)
    assert issubclass(errors.TooExpensiveError, ParameterError)
    with pytest.raises(ParameterError, match="force"):
        gauss_newton(u[:100], u[:100], order=1, force="yes")
