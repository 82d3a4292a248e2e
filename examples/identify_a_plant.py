"""Identify a plant end to end: order choice, validation, uncertainty, report.

Two records, each taken through the workflow a control engineer follows:

* the DaISy wing-flutter record (shipped with the package): ``order="auto"``, the
  project's validation protocol (:func:`learnlds.holdout`), the same models compared
  from zero state and from an estimated initial state (MATLAB's ``compare``), and the
  frequency response with its standard error;
* the DaISy hair-dryer record (shipped): its dead time estimated
  (``input_delay="auto"``), so that a second-order model fits as well as a third-order
  one without it;
* a two-input, two-output plant tested one input at a time with a few steps, the
  kind of record a plant test produces (simulated here from a known plant, so the
  model can be checked against it): the same steps, plus the HTML model report.

Usage::

    python examples/identify_a_plant.py [--out identify-output]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from learnlds import LDSRegressor, StateSpaceSystem, holdout
from learnlds.datasets import IOData, load_daisy
from learnlds.model_report import write_model_report
from learnlds.validate import compare


def flutter(log: Callable[[str], None] = print) -> dict[str, float]:
    """``order='auto'`` on the flutter record, validated zero-state and with ``x0``."""
    data = load_daisy("flutter")
    res = holdout(LDSRegressor(order="auto"), data.u1, data.y1)
    model = res.model
    log(f"flutter: order {model.order_} chosen; criterion per order:")
    log("  " + ", ".join(f"{k}: {v:.0f}" for k, v in model.order_scores_.items()))
    log(f"  validation fit {res.validation_fit:.1f} % (zero state, second half)")
    half = len(data) // 2  # the validation half, centred as the protocol does
    u_val, y_val = (a[half:] - a[half:].mean() for a in (data.u1, data.y1))
    zero = compare({"auto": model.system_}, u_val, y_val)["auto"][1]
    x0 = compare({"auto": model.system_}, u_val, y_val, x0="estimate")
    x0 = x0["auto (x0 estimated)"][1]
    log(f"  compare: {zero:.1f} % from zero state, {x0:.1f} % with the initial state estimated")
    w = np.array([0.1, 0.5, 1.0])
    fr = model.frequency_response_std(w)
    for wi, g, sd in zip(w, np.abs(fr.response), fr.magnitude, strict=True):
        log(f"  |G| at {wi:.1f} rad/sample: {g:.3f} +- {sd:.3f}")
    return {"order": model.order_, "validation": res.validation_fit, "zero": zero, "x0": x0}


def dryer_dead_time(log: Callable[[str], None] = print) -> dict[str, float]:
    """Order 2 with and without the estimated dead time, order 3 without, on the dryer."""
    data = load_daisy("dryer")
    fits = {}
    for label, est in (
        ("order 2", LDSRegressor(order=2)),
        ("order 3", LDSRegressor(order=3)),
        ("order 2, delay auto", LDSRegressor(order=2, input_delay="auto")),
    ):
        res = holdout(est, data.u1, data.y1)
        fits[label] = res.validation_fit
        delay = res.model.input_delay_[0]
        log(f"dryer, {label}: validation fit {res.validation_fit:.1f} % (delay {delay})")
    return {"delay": int(delay), **fits}


def step_test_plant(seed: int = 0) -> tuple[StateSpaceSystem, IOData]:
    """A stable 2x2 plant of order 3 and a step test: one input moves at a time."""
    rng = np.random.default_rng(seed)
    plant = StateSpaceSystem(
        np.diag([0.95, 0.85, 0.6]), rng.normal(size=(3, 2)), rng.normal(size=(2, 3))
    )
    u = np.zeros((2400, 2))
    for t0 in range(0, 2400, 100):  # 24 steps, inputs in turn
        u[t0:, t0 // 100 % 2] += rng.choice([-1.0, 1.0])
    y = plant.simulate(u)
    y = y + 0.05 * y.std(axis=0) * rng.normal(size=y.shape)
    data = IOData(u=u, y=y, input_names=["valve", "heater"], output_names=["flow", "temp"])
    return plant, data


def step_test(out: Path | None, log: Callable[[str], None] = print) -> dict[str, float]:
    """The step-tested plant: order choice, validation against the true plant's own score,
    and the error of the learned step responses."""
    plant, data = step_test_plant()
    res = holdout(LDSRegressor(order="auto"), data.u, data.y)
    model = res.model
    log(f"step test 2x2: order {model.order_} chosen (true order {plant.order})")
    log("  validation fit per output: " + ", ".join(f"{f:.1f} %" for f in res.validation_fits))
    ceiling = holdout(plant, data.u, data.y).validation_fit  # the true plant, same protocol
    log(f"  (the true plant scores {ceiling:.1f} % under the same protocol)")
    truth, learned = (np.cumsum(m.markov(60), axis=0) for m in (plant, model.system_))
    error = float(np.linalg.norm(learned - truth) / np.linalg.norm(truth))
    log(f"  relative error of the step responses over 60 samples: {error:.3f}")
    if out is not None:
        page = write_model_report(
            out / "step-test-report", data=data, model=model.system_, log=lambda _m: None
        )
        log(f"  report: {page}")
    return {
        "order": model.order_,
        "validation": res.validation_fit,
        "truth": ceiling,
        "step_error": error,
    }


def main() -> None:
    """Run the three workflows and write the step test's report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("identify-output"))
    args = parser.parse_args()
    flutter()
    dryer_dead_time()
    step_test(args.out)


if __name__ == "__main__":
    main()
