"""Checkpoint and resume: an interrupted run, resumed, ends where an uninterrupted one does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import learnlds.train as train
from learnlds.errors import FileFormatError, ParameterError
from learnlds.systems import CanonicalSystem
from learnlds.train import (
    fresh_batches,
    gauss_newton,
    projected_sgd,
    sequence_batches,
    window_batches,
)

TRUTH = CanonicalSystem([-0.5, 0.2], [1.0, 0.3], 0.1)
SGD = {"order": 2, "steps": 300, "lr": 0.02, "random_state": 5, "snapshot_every": 50}


def _assert_same(res, ref, tol=1e-12):
    """Same final and best models, losses, snapshots and bookkeeping."""
    for got, want in ((res.model, ref.model), (res.best_model, ref.best_model)):
        np.testing.assert_allclose(got.a, want.a, rtol=0, atol=tol)
        np.testing.assert_allclose(got.c, want.c, rtol=0, atol=tol)
        np.testing.assert_allclose(got.d, want.d, rtol=0, atol=tol)
    np.testing.assert_allclose(res.loss_history, ref.loss_history, rtol=0, atol=tol)
    assert res.best_loss == pytest.approx(ref.best_loss, abs=tol)
    assert [s for s, _ in res.snapshots] == [s for s, _ in ref.snapshots]
    for (_, got), (_, want) in zip(res.snapshots, ref.snapshots, strict=True):
        np.testing.assert_allclose(got.a, want.a, rtol=0, atol=tol)
    assert (res.n_steps, res.stop_reason, res.projections, res.converged) == (
        ref.n_steps,
        ref.stop_reason,
        ref.projections,
        ref.converged,
    )


def _interrupt_at(step):
    def callback(k, model, value):
        if k == step:
            raise KeyboardInterrupt

    return callback


def _saved_meta(path):
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["__meta__"]))


def _sources():
    rng = np.random.default_rng(3)
    u = rng.normal(size=(12, 80))
    y = TRUTH.simulate(u, sequences=True)
    record = rng.normal(size=2000)
    return {
        "fresh": fresh_batches(TRUTH, 60, 4, noise_std=0.1),
        "minibatch": sequence_batches(u, y, 3, sequences=True),
        "full": sequence_batches(u, y, sequences=True),
        "windows": window_batches(record, TRUTH.simulate(record), window=100, batch_size=4),
    }


@pytest.mark.parametrize("name", ["fresh", "minibatch", "full", "windows"])
@pytest.mark.parametrize("stop,every", [(0, 100), (137, 40), (299, 7), (300, 100)])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, name, stop, every):
    source = _sources()[name]
    ref = projected_sgd(source, **SGD)
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt) as info:
        projected_sgd(
            source, **SGD, checkpoint=path, checkpoint_every=every, callback=_interrupt_at(stop)
        )
    assert "checkpoint saved" in " ".join(getattr(info.value, "__notes__", []))
    assert _saved_meta(path)["k"] == stop
    _assert_same(projected_sgd(source, **SGD, checkpoint=path, resume=True), ref)


def test_twice_interrupted_and_schedule(tmp_path):
    settings = {**SGD, "lr": _schedule, "steps": 400}  # a schedule is fingerprinted by name
    source = fresh_batches(TRUTH, 50, 2, noise_std=0.2)
    ref = projected_sgd(source, **settings, clip=1.0)
    path = tmp_path / "run.npz"
    for stop in (90, 250):
        with pytest.raises(KeyboardInterrupt):
            projected_sgd(
                source, **settings, clip=1.0, checkpoint=path, resume=stop == 250,
                callback=_interrupt_at(stop),
            )  # fmt: skip
    _assert_same(projected_sgd(source, **settings, clip=1.0, checkpoint=path, resume=True), ref)


def _schedule(k):
    return 0.03 / np.sqrt(1.0 + k / 50.0)


class OwnGeneratorSource:
    """A source that ignores the generator it is handed and draws from its own."""

    def __init__(self, seed):
        self.gen = np.random.default_rng(seed)

    def __call__(self, random_state):
        u = self.gen.normal(size=(3, 60))
        return u, TRUTH.simulate(u, sequences=True)

    def get_state(self):
        return self.gen.bit_generator.state

    def set_state(self, state):
        self.gen.bit_generator.state = state

    def fingerprint(self):
        return "own generator"


def test_source_with_its_own_generator_is_restored(tmp_path):
    ref = projected_sgd(OwnGeneratorSource(1), **SGD)
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        projected_sgd(OwnGeneratorSource(1), **SGD, checkpoint=path, callback=_interrupt_at(180))
    # a fresh source object (a new process): its state comes from the checkpoint
    _assert_same(projected_sgd(OwnGeneratorSource(99), **SGD, checkpoint=path, resume=True), ref)


def test_periodic_checkpoints_and_a_finished_run(tmp_path):
    source = fresh_batches(TRUTH, 60, 4)
    path = tmp_path / "run.npz"
    ref = projected_sgd(source, **SGD, checkpoint=path, checkpoint_every=60)
    assert _saved_meta(path)["k"] == 300  # the start of the last step
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    _assert_same(projected_sgd(source, **SGD, checkpoint=path, resume=True), ref)


def test_checkpointing_does_not_change_the_run(tmp_path):
    source = fresh_batches(TRUTH, 60, 4, noise_std=0.1)
    ref = projected_sgd(source, **SGD)
    _assert_same(
        projected_sgd(source, **SGD, checkpoint=tmp_path / "c.npz", checkpoint_every=3), ref
    )


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        projected_sgd(
            fresh_batches(TRUTH, 60, 4), **SGD, checkpoint=path, callback=_interrupt_at(50)
        )
    return path


@pytest.mark.parametrize(
    "change,word",
    [
        ({"order": 3}, "order"),
        ({"lr": 0.03}, "lr"),
        ({"steps": 500}, "steps"),
        ({"burn_in": 10}, "burn_in"),
        ({"region": None}, "region"),
        ({"source": fresh_batches(TRUTH, 60, 5)}, "batch_shape"),
        ({"source": fresh_batches(CanonicalSystem([0.1, 0.0], [1.0, 0.0], 0.0), 60, 4)}, "data"),
    ],
)
def test_checkpoint_of_another_problem_is_refused(saved, change, word):
    kwargs = {**SGD, "source": fresh_batches(TRUTH, 60, 4), **change}
    with pytest.raises(ParameterError, match=f"different problem.*{word}"):
        projected_sgd(**kwargs, checkpoint=saved, resume=True)


def test_bad_checkpoint_arguments(tmp_path, saved):
    source = fresh_batches(TRUTH, 60, 4)
    with pytest.raises(ParameterError, match="resume: no checkpoint"):
        projected_sgd(source, **SGD, checkpoint=tmp_path / "missing.npz", resume=True)
    with pytest.raises(ParameterError, match="resume: needs a checkpoint"):
        projected_sgd(source, **SGD, resume=True)
    with pytest.raises(ParameterError, match="checkpoint: folder"):
        projected_sgd(source, **SGD, checkpoint=tmp_path / "nodir" / "c.npz")
    for every in (0, 2.5, -1):
        with pytest.raises(ParameterError, match="checkpoint_every"):
            projected_sgd(source, **SGD, checkpoint=saved, checkpoint_every=every)
    with pytest.raises(ParameterError, match="resume"):
        projected_sgd(source, **SGD, checkpoint=saved, resume="yes")
    with pytest.raises(ParameterError, match="checkpoint"):
        projected_sgd(source, **SGD, checkpoint=3)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(FileFormatError, match="not a learnlds checkpoint"):
        projected_sgd(source, **SGD, checkpoint=garbage, resume=True)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(FileFormatError, match="not a learnlds checkpoint"):
        projected_sgd(source, **SGD, checkpoint=other, resume=True)
    u = np.random.default_rng(0).normal(size=500)
    gauss_newton(u, TRUTH.simulate(u), order=2, checkpoint=tmp_path / "gn.npz")
    with pytest.raises(FileFormatError, match="'gauss_newton' checkpoint"):
        projected_sgd(source, **SGD, checkpoint=tmp_path / "gn.npz", resume=True)
    with pytest.raises(ParameterError, match="random_state"):
        gen = np.random.Generator(np.random.MT19937(0))
        projected_sgd(source, **{**SGD, "random_state": gen}, checkpoint=saved, resume=True)


def test_a_failed_checkpoint_write_keeps_the_previous_one(saved, monkeypatch):
    before = saved.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train.np, "savez", broken)
    with pytest.raises(OSError, match="No space"):
        projected_sgd(fresh_batches(TRUTH, 60, 4), **SGD, checkpoint=saved, checkpoint_every=10)
    assert saved.read_bytes() == before
    assert not list(saved.parent.glob(".*.tmp"))


SCRIPT = """
import time
from learnlds.systems import CanonicalSystem
from learnlds.train import fresh_batches, projected_sgd

truth = CanonicalSystem([-0.5, 0.2], [1.0, 0.3], 0.1)
projected_sgd(
    fresh_batches(truth, 60, 4, noise_std=0.1), order=2, steps={steps}, lr=0.02,
    random_state=5, checkpoint={path!r}, checkpoint_every=25,
    callback=lambda k, model, value: time.sleep(0.002),
)
print("finished")
"""


def test_real_sigint_during_a_checkpointed_run(tmp_path):
    """SIGINT a training process after its first checkpoint; resuming here gives the same model."""
    steps, path = 3000, tmp_path / "run.npz"
    script = tmp_path / "train_script.py"
    script.write_text(textwrap.dedent(SCRIPT.format(steps=steps, path=str(path))))
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert path.exists(), "no checkpoint was written"
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "finished" not in out
    assert "KeyboardInterrupt" in err and "checkpoint saved" in err
    stopped = _saved_meta(path)["k"]
    assert 25 <= stopped < steps
    settings = {"order": 2, "steps": steps, "lr": 0.02, "random_state": 5}
    source = fresh_batches(TRUTH, 60, 4, noise_std=0.1)
    ref = projected_sgd(source, **settings)
    _assert_same(projected_sgd(source, **settings, checkpoint=path, resume=True), ref)


# --------------------------------------------------------------------------- Gauss-Newton
@pytest.fixture
def record():
    rng = np.random.default_rng(0)
    truth = CanonicalSystem([-0.5, 0.2, 0.1], [1.0, 0.3, -0.2], 0.1)
    u = rng.normal(size=5000)
    return u, truth.simulate(u) + 0.1 * rng.normal(size=5000)


GN = {"order": 3, "coarse": 1000, "tol": 1e-14, "max_iter": 30}


@pytest.mark.parametrize("stage,it", [("coarse", 0), ("coarse", 2), ("full", 0), ("full", 3)])
def test_gauss_newton_interrupted_then_resumed(tmp_path, record, monkeypatch, stage, it):
    u, y = record
    ref = gauss_newton(u, y, **GN)
    path = tmp_path / "gn.npz"
    original = train._LMWatch.step

    def step(self, state):
        original(self, state)
        if (self.stage, state.it) == (stage, it):
            raise KeyboardInterrupt

    monkeypatch.setattr(train._LMWatch, "step", step)
    with pytest.raises(KeyboardInterrupt) as info:
        gauss_newton(u, y, **GN, checkpoint=path, checkpoint_every=100)
    assert f"({stage} stage)" in " ".join(info.value.__notes__)
    monkeypatch.setattr(train._LMWatch, "step", original)
    res = gauss_newton(u, y, **GN, checkpoint=path, resume=True)
    np.testing.assert_allclose(res.model.a, ref.model.a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.model.c, ref.model.c, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.loss_history, ref.loss_history, rtol=0, atol=1e-12)
    assert (res.n_steps, res.stop_reason) == (ref.n_steps, ref.stop_reason)


def test_gauss_newton_checkpoint_of_other_data_is_refused(tmp_path, record):
    u, y = record
    path = tmp_path / "gn.npz"
    gauss_newton(u, y, **GN, checkpoint=path)
    assert os.path.getsize(path) > 0
    with pytest.raises(ParameterError, match="different problem.*data"):
        gauss_newton(u, 2 * y, **GN, checkpoint=path, resume=True)
    with pytest.raises(ParameterError, match="different problem.*order"):
        gauss_newton(u, y, **{**GN, "order": 2}, checkpoint=path, resume=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ParameterError, match="different problem.*max_iter"):
            gauss_newton(u, y, **{**GN, "max_iter": 5}, checkpoint=path, resume=True)
