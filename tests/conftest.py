"""Shared fixtures: the real DaISy data folder (never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def daisy_dir() -> Path | None:
    """``LEARNLDS_DATA`` or ``<repo>/../shared/data/daisy`` when it exists."""
    for cand in (os.environ.get("LEARNLDS_DATA"), REPO.parent / "shared" / "data" / "daisy"):
        if cand and (Path(cand) / "dryer.dat").exists():
            return Path(cand)
    return None


@pytest.fixture
def dryer_halves():
    """Dryer estimation/validation halves, each centred on its own means."""
    folder = daisy_dir()
    if folder is None:
        pytest.skip("DaISy data not found (set LEARNLDS_DATA)")
    d = np.loadtxt(folder / "dryer.dat")
    u, y = d[:, 0], d[:, 1]
    halves = []
    for sl in (slice(0, 500), slice(500, 1000)):
        halves.append((u[sl] - u[sl].mean(), y[sl] - y[sl].mean()))
    return halves
