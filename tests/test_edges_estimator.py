"""Input edges of the estimator, validation and plots found by the input audit: bad data
or arguments give a typed learnlds error naming the argument, never a raw numpy, sklearn
or matplotlib traceback, and never a silently wrong answer (a broadcast fit, an ignored
checkpoint); the valid case next to each still works."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from learnlds import CanonicalSystem, LDSRegressor, StateSpaceSystem, plots
from learnlds.errors import (
    DataError,
    LearnLDSError,
    NotFittedError,
    ParameterError,
    UnstableSystemWarning,
    UnsupportedShapeError,
)
from learnlds.validate import compare, extrapolation_note, holdout, residual_analysis

RNG = np.random.default_rng(0)
U = RNG.normal(size=300)
S = CanonicalSystem([-0.5, 0.06], [1.0, 0.3], 0.2)
Y = S.simulate(U)
Y2 = np.column_stack([Y, Y[::-1]])
U2 = np.column_stack([U, U[::-1]])
MIMO = StateSpaceSystem(np.diag([0.5, 0.3]), np.eye(2), np.eye(2), np.zeros((2, 2)))
UNSTABLE = CanonicalSystem([-2.5, 1.0], [1.0, 0.0])


@pytest.fixture(scope="module")
def fitted() -> LDSRegressor:
    return LDSRegressor(2).fit(U, Y)


# --------------------------------------------------------------------------- S1: channels
@pytest.mark.parametrize("x0", ["zero", "estimate"])
def test_compare_refuses_more_outputs_than_the_model(x0):
    with pytest.raises(
        DataError, match=r"y: has 2 output channel\(s\).*model has 1.*'CanonicalSystem'"
    ):
        compare(S, U, Y2, x0=x0)
    assert compare(S, U, Y, x0=x0)  # the valid record still scores


def test_compare_refuses_more_inputs_and_checks_estimators(fitted):
    with pytest.raises(DataError, match=r"u: has 2 input channel\(s\).*model has 1"):
        compare(S, U2, Y)
    with pytest.raises(DataError, match=r"y: has 2 output.*'LDSRegressor'"):
        compare(fitted, U, Y2)
    assert compare(fitted, U, Y)["LDSRegressor"][1] > 99


def test_compare_holdout_split_need_y():
    from learnlds.validate import split_centred

    for call in (lambda: compare(S, U, None), lambda: holdout(S, U, None)):
        with pytest.raises(DataError, match="y: the measured outputs are required"):
            call()
    with pytest.raises(DataError, match="y: the measured outputs are required"):
        split_centred(U, None)
    with pytest.raises(DataError, match="y_val are required"):
        holdout(S, U, Y, validation=(U, None))


def test_holdout_and_residual_analysis_check_the_model_channels():
    with pytest.raises(DataError, match=r"y: has 2 output.*model has 1"):
        holdout(S, U, Y2)
    with pytest.raises(DataError, match=r"u: has 1 input.*model has 2 .*'StateSpaceSystem'"):
        residual_analysis(MIMO, U, Y)
    with pytest.raises(DataError, match="model_or_residuals: .*got None"):
        residual_analysis(None, U, Y)
    assert holdout(S, U, Y).validation_fit > 90
    assert residual_analysis(S, U, Y + 0.1 * RNG.normal(size=300)).lags.size == 26


def test_residual_analysis_of_huge_values_does_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = residual_analysis(S, U * 1e300, Y * 1e300 + 1e299 * RNG.normal(size=300))
    assert np.isfinite(res.whiteness_stat) and np.isfinite(res.independence_stat)
    plain = residual_analysis(S, U, Y + 0.1 * RNG.normal(size=300))
    assert np.isfinite(plain.whiteness_stat)


def test_unstable_model_gets_its_finite_fit_with_a_warning():
    """Documented: a finite simulation is scored (hugely negative) with the warning."""
    with pytest.warns(UnstableSystemWarning):
        fits = holdout(UNSTABLE, U, Y).validation_fits
    assert np.all(np.isfinite(fits)) and fits[0] < -1e6
    with pytest.warns(UnstableSystemWarning):
        assert compare(UNSTABLE, U, Y)["CanonicalSystem"][1] < -1e6


# --------------------------------------------------------------------------- S3: checkpoint
def test_checkpoint_selects_the_paper_form_and_is_honoured(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(ParameterError, match="resume: no checkpoint"):
        LDSRegressor(2, resume=True, checkpoint=missing).fit(U, Y)
    est = LDSRegressor(2, checkpoint=tmp_path / "ck.npz").fit(U, Y)
    assert est.structure_ == "common-denominator" and (tmp_path / "ck.npz").exists()
    again = LDSRegressor(2, checkpoint=tmp_path / "ck.npz", resume=True).fit(U, Y)
    np.testing.assert_allclose(again.system_.a, est.system_.a, atol=1e-12)
    assert LDSRegressor(2).fit(U, Y).structure_ == "state-space"


def test_checkpoint_with_state_space_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="structure: 'state-space' cannot .* checkpoint"):
        LDSRegressor(2, structure="state-space", checkpoint=tmp_path / "c.npz").fit(U, Y)


def _cli(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "learnlds.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_fit_resume_errors_or_honours_the_checkpoint(tmp_path):
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([U, Y]), delimiter=",", header="u,y", comments="")
    common = ["fit", str(data), "--order", "2", "--quiet"]
    ck = ["--checkpoint", str(tmp_path / "ck.npz")]
    first = _cli([*common, *ck, "--resume", "--out", str(tmp_path / "a.json")], tmp_path)
    assert first.returncode != 0 and "resume: no checkpoint" in first.stderr
    assert "Traceback" not in first.stderr
    saved = _cli([*common, *ck, "--out", str(tmp_path / "b.json")], tmp_path)
    assert saved.returncode == 0 and (tmp_path / "ck.npz").exists(), saved.stderr
    resumed = _cli([*common, *ck, "--resume", "--out", str(tmp_path / "c.json")], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    refused = _cli(
        [*common, *ck, "--structure", "state-space", "--out", str(tmp_path / "d.json")], tmp_path
    )
    assert refused.returncode != 0 and "checkpoint" in refused.stderr
    alone = _cli([*common, "--resume", "--out", str(tmp_path / "e.json")], tmp_path)
    assert alone.returncode == 2 and "--resume: needs --checkpoint FILE" in alone.stderr


# --------------------------------------------------------------------------- R2, S12: data
BAD_DATA = {
    "scalar": (1.0, "u: a record is .* got the scalar 1.0"),
    "ragged": ([[1.0, 2.0], [3.0]], "u: cannot be read as an array"),
    "dict": ({"a": 1}, "u: must be an array of numbers, got dict"),
    "numeric strings": ([str(v) for v in U], r"u: must be numeric, got dtype <U"),
    "object strings": (np.array([str(v) for v in U], dtype=object), "u: must be numeric"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_fit_refuses_bad_u_with_a_data_error(case):
    value, message = BAD_DATA[case]
    with pytest.raises(DataError, match=message):
        LDSRegressor(2).fit(value, Y)


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_predict_score_predict_std_refuse_bad_u(fitted, case):
    value, message = BAD_DATA[case]
    for call in (
        lambda: fitted.predict(value),
        lambda: fitted.predict_std(value),
        lambda: fitted.score(value, Y),
    ):
        with pytest.raises(DataError, match=message):
            call()


def test_bad_y_is_named_y(fitted):
    with pytest.raises(DataError, match="y: must be numeric"):
        LDSRegressor(2).fit(U, [str(v) for v in Y])
    with pytest.raises(DataError, match="y: the measured outputs are required"):
        fitted.score(U, None)
    with pytest.raises(DataError, match="y: a record is"):
        fitted.score(U, 2.0)


def test_numbers_in_other_containers_still_work(fitted):
    """Object arrays of numbers and lists are read as scikit-learn reads them."""
    assert fitted.predict(U.astype(object)).shape == (300,)
    assert fitted.score(list(U), list(Y)) > 99
    assert LDSRegressor(2).fit(U.astype(object), Y).score(U, Y) > 99


def test_sparse_and_complex_data_are_data_errors():
    from scipy import sparse

    with pytest.raises(DataError, match="u: sparse input is not supported"):
        LDSRegressor(2).fit(sparse.csr_matrix(U[:, None]), Y)
    with pytest.raises(DataError, match="Complex data not supported"):
        LDSRegressor(2).fit(U + 1j, Y)


# --------------------------------------------------------------------------- R3: not fitted
@pytest.mark.parametrize(
    "method,args",
    [
        ("predict", (U,)),
        ("score", (U, Y)),
        ("predict_std", (U,)),
        ("frequency_response_std", ([0.1],)),
    ],
)
def test_unfitted_methods_raise_learnlds_not_fitted(method, args):
    with pytest.raises(NotFittedError, match=f"{method}: this LDSRegressor is not fitted"):
        getattr(LDSRegressor(2), method)(*args)
    assert issubclass(NotFittedError, LearnLDSError)
    assert issubclass(NotFittedError, SklearnNotFittedError)


def test_fitted_methods_still_work(fitted):
    assert fitted.predict(U).shape == (300,)
    assert fitted.predict_std(U).shape == (300,)
    assert fitted.frequency_response_std([0.1]).magnitude.shape == (1,)


# --------------------------------------------------------------------------- R8: arguments
@pytest.mark.parametrize("init", [np.ones(2), [1.0, 2.0], 3, None])
def test_init_that_is_not_an_option_is_a_parameter_error(init):
    with pytest.raises(ParameterError, match="init: must be 'zero', 'identity' or a Canonical"):
        LDSRegressor(2, init=init).fit(U, Y)


def test_valid_inits_still_fit():
    assert LDSRegressor(2, init="identity").fit(U, Y).structure_ == "common-denominator"
    assert LDSRegressor(2, init=S).fit(U, Y).score(U, Y) > 99


def test_extrapolation_note_checks_its_arguments():
    with pytest.raises(ParameterError, match="input_names: 1 name.* for 2 coverage"):
        extrapolation_note([0.1, 0.2], ["a"])
    with pytest.raises(DataError, match="coverage: must be real numbers"):
        extrapolation_note("x", ["a"])
    with pytest.raises(DataError, match=r"coverage: shares must lie in \[0, 1\]"):
        extrapolation_note([5.0], ["a"])
    assert extrapolation_note([0.1], "u1").startswith("validation input u1 has 90 %")
    assert extrapolation_note([np.nan, 0.9], ["a", "b"]) is None
    assert extrapolation_note(None, ["a"]) is None


# --------------------------------------------------------------------------- R4: plots
def test_response_plots_draw_a_fitted_estimator(fitted):
    assert len(plots.bode_plot(fitted, num=16).axes) == 2
    assert len(plots.bode_plot(fitted, num=16, covariance=fitted.covariance_).axes[0].collections)
    assert plots.impulse_plot(fitted, length=10).axes[0].get_ylabel() == "impulse response"
    assert plots.step_plot(fitted, length=10).axes[0].get_ylabel() == "step response"


@pytest.mark.parametrize("draw", [plots.bode_plot, plots.step_plot, plots.impulse_plot])
def test_response_plots_refuse_what_is_not_a_system(draw):
    with pytest.raises(ParameterError, match="models: 'LDSRegressor' is not fitted"):
        draw(LDSRegressor(2))
    with pytest.raises(ParameterError, match="models: 'str' has no simulate"):
        draw("abc")


def test_transfer_functions_takes_estimators_and_refuses_the_rest(fitted):
    assert len(plots.transfer_functions(S, [fitted], num=16).axes) == 2
    assert len(plots.transfer_functions(fitted, [S, fitted], num=16).axes) == 2
    with pytest.raises(ParameterError, match=r"models\[0\]: the estimator is not fitted"):
        plots.transfer_functions(S, [LDSRegressor(2)])
    for bad in (None, "abc", np.ones(3)):
        with pytest.raises(ParameterError, match=r"models\[0\]: must be a system"):
            plots.transfer_functions(S, [bad])
    for bad in (None, "abc"):
        with pytest.raises(ParameterError, match="models: must be a sequence"):
            plots.transfer_functions(S, bad)
    with pytest.raises(ParameterError, match="truth: must be a system"):
        plots.transfer_functions(None, [S])
    with pytest.raises(UnsupportedShapeError, match=r"models\[0\]: .*single-input"):
        plots.transfer_functions(S, [MIMO])


def test_save_figure_checks_formats_and_folder(tmp_path):
    fig = plots.step_plot(S, length=10)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ParameterError, match="path_stem: cannot create the folder"):
        plots.save_figure(fig, tmp_path / "afile" / "sub" / "fig")
    with pytest.raises(ParameterError, match="formats: 'foo' is not a format.*supported: .*png"):
        plots.save_figure(fig, tmp_path / "fig", formats=["foo"])
    for bad in ([], None):
        with pytest.raises(ParameterError, match="formats: "):
            plots.save_figure(fig, tmp_path / "fig", formats=bad)
    with pytest.raises(ParameterError, match="fig: must be a matplotlib Figure"):
        plots.save_figure(None, tmp_path / "fig")
    written = plots.save_figure(fig, tmp_path / "fig", formats="png")  # one format
    assert [p.name for p in written] == ["fig.png"] and written[0].exists()
    assert [p.suffix for p in plots.save_figure(fig, tmp_path / "new" / "f")] == [".png", ".svg"]
