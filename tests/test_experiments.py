"""Each example experiment's claim, in a small version (the scripts themselves, imported)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from conftest import REPO

from learnlds import PacmanRegion
from learnlds.analysis import convexity_gap, quasi_convexity_gap

sys.path.insert(0, str(REPO / "examples"))
overparam = pytest.importorskip("overparam_experiment")
tau_experiment = pytest.importorskip("tau_experiment")
identify = pytest.importorskip("identify_a_plant")


def test_overparameterization_recovers_a_system_outside_the_region():
    """Experiment (d), small: order 20 outside the region; learning at 30 then reducing wins."""
    truth = overparam.target(0)
    assert PacmanRegion().margin(truth.a) < 0  # roots on |z| = 0.95: outside the region
    lines: list[str] = []
    res = overparam.run(systems=1, orders=(20, 30), steps=300, sequences=8, log=lines.append)
    fast = res["fast solver"]
    base, over = fast[20]["ir_error"][0], fast[30]["ir_error"][0]
    assert base > 0.3  # the order-20 model in the region cannot represent the target
    assert over < 0.5 * base  # order 30 in the region, reduced to 20, is far closer
    assert fast[30]["excess_risk"][0] < 0.5 * fast[20]["excess_risk"][0]
    sgd = res["projected SGD"]
    assert sgd[30]["ir_error"][0] < sgd[20]["ir_error"][0]
    assert "fast solver" in overparam.table(res) and "(baseline)" in overparam.table(res)


def test_tau_positive_in_region_and_over_parameterized_negative_outside():
    """Experiment (e), small: the measured tau on the learned problems."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = tau_experiment.run(directions=6, sequences=8, over=30, log=lambda _m: None)
    by = {r["problem"].split(" (")[0]: r for r in rows}
    assert by["in the region"]["tau"] > 0
    assert by["outside, on the domain"]["tau"] < 0  # quasi-convexity fails off the region
    over = by["over-parameterized"]
    assert over["tau"] > 0
    assert over["g0"] < by["outside, in the region"]["g0"]  # and it fits far better
    assert "tau" in tau_experiment.table(rows)


def test_convexity_gaps_tell_convex_quasi_convex_and_neither():
    t = np.linspace(0.0, 1.0, 41)
    assert convexity_gap(t, (t - 0.3) ** 2) == pytest.approx(0.0, abs=1e-12)
    assert quasi_convexity_gap((t - 0.3) ** 2) == 0.0
    sig = np.sqrt(np.abs(t - 0.5))  # quasi-convex, not convex
    assert convexity_gap(t, sig) > 0.1 and quasi_convexity_gap(sig) == 0.0
    wave = np.cos(4 * np.pi * t)  # neither
    assert quasi_convexity_gap(wave) > 0.5


def test_older_experiments_run_on_tiny_settings():
    """The paper's experiments (a)-(c) keep working with the current API (no deprecations)."""
    import warnings

    import paper_experiment
    import population_experiment
    import rates_experiment

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        truth = rates_experiment.CanonicalSystem([-0.5, 0.1, 0.0], [1.0, 0.5, 0.2], 0.5)
        assert rates_experiment.excess(truth, 10, 100, 0) < 0.05
        ratio, _ = population_experiment.one_run(3, 0, 200, 0.05)
        assert np.isfinite(ratio)
        curves = paper_experiment.run(60, 0, 0.05, T=100)
        assert "projected SGD" in curves


def test_identify_a_plant_workflow(tmp_path):
    """The end-to-end example: on flutter an estimated initial state can only raise the
    fit (least squares); on the step-tested 2x2 plant the model scores as the true
    plant does under the protocol, its step responses within 5 %, and the report is
    written."""
    lines: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rank of J^T J at high orders
        fl = identify.flutter(log=lines.append)
        dr = identify.dryer_dead_time(log=lines.append)
        st = identify.step_test(tmp_path, log=lines.append)
    assert 1 <= fl["order"] <= 8 and fl["validation"] > 45
    assert fl["x0"] >= fl["zero"] - 1e-9
    assert dr["delay"] >= 2 and dr["order 2, delay auto"] > dr["order 2"] + 2
    assert dr["order 2, delay auto"] > dr["order 3"] - 0.5
    assert abs(st["validation"] - st["truth"]) < 2 and st["step_error"] < 0.05
    assert (tmp_path / "step-test-report" / "index.html").exists()
    assert any("compare:" in line for line in lines)
