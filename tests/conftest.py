"""Shared fixtures: real DaISy data.

The three small SISO records (dryer, ballbeam, flutter) ship with learnlds, so tests
that use them always run; the larger sets come from the folder named by
``LEARNLDS_DATA`` (or the user cache) and their tests skip when it is not set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from learnlds.datasets import DAISY, find_daisy, load_daisy
from learnlds.statespace import StateSpaceSystem

# Property tests draw the same examples on every run (CI stays reproducible; a failure
# seen once is seen again). HYPOTHESIS_PROFILE=explore draws fresh ones.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]

SHIPPED = tuple(name for name, entry in DAISY.items() if entry.shipped)
"""The DaISy sets that ship with the package (always available)."""


def daisy_dir() -> Path | None:
    """A folder holding ``dryer.dat``: ``$LEARNLDS_DATA`` when it has it, else the shipped data."""
    found = find_daisy("dryer")
    return None if found is None else found.parent


def daisy_path(name: str) -> Path:
    """The local file of DaISy set ``name``; skips the calling test when it is not available.

    The shipped sets are always found; a larger set needs ``LEARNLDS_DATA`` (or the cache).
    """
    found = find_daisy(name)
    if found is None:
        filename = DAISY[name].filename
        pytest.skip(
            f"DaISy {filename} not available: set LEARNLDS_DATA to a folder holding {filename}"
        )
    return found


@pytest.fixture
def daisy_file() -> Callable[[str], Path]:
    """``daisy_file(name)`` -> the local file of a DaISy set, skipping when it is missing."""
    return daisy_path


@pytest.fixture
def dryer_halves() -> list[tuple[np.ndarray, np.ndarray]]:
    """Dryer estimation/validation halves ``[(u, y), (u, y)]``, each centred on its own means.

    The same cut and centring as :func:`learnlds.validate.holdout` with ``split=0.5``.
    """
    data = load_daisy("dryer")
    u, y = data.u1, data.y1
    cut = len(data) // 2
    halves = []
    for sl in (slice(0, cut), slice(cut, None)):
        halves.append((u[sl] - u[sl].mean(), y[sl] - y[sl].mean()))
    return halves


def random_system(order: int, m: int, p: int, seed: int, radius: float = 0.9) -> StateSpaceSystem:
    """A random ``(A, B, C, D)`` with spectral radius ``radius`` (state-space tests)."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(order, order))
    A *= radius / np.max(np.abs(np.linalg.eigvals(A)))
    return StateSpaceSystem(
        A, rng.normal(size=(order, m)), rng.normal(size=(p, order)), rng.normal(size=(p, m))
    )


def loop_simulate(s: StateSpaceSystem, u: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """The explicit state loop ``y_t = C x_t + D u_t, x_{t+1} = A x_t + B u_t``."""
    x, out = x0.copy(), []
    for t in range(u.shape[0]):
        out.append(s.C @ x + s.D @ u[t])
        x = s.A @ x + s.B @ u[t]
    return np.array(out)
