"""Data that needs no files: a binary test signal and a synthetic hair dryer with a known system.

:func:`prbs` draws the random binary input the DaISy dryer was excited with;
:func:`synthetic_dryer` is a clearly labelled synthetic imitation of that record
whose true system (:func:`synthetic_dryer_system`) is known, for tests and demos
that must run anywhere.

Examples
--------
>>> prbs(8, 0.5, (0.0, 1.0), random_state=0).shape
(8,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._boundary import (
    as_float_array,
    check_float,
    check_int,
    check_random_state,
    renamed_parameters,
)
from ..errors import ParameterError
from ..systems import CanonicalSystem
from .iodata import IOData

__all__ = [
    "SYNTHETIC_DRYER_DT",
    "SYNTHETIC_DRYER_LEVELS",
    "SYNTHETIC_DRYER_NOISE",
    "SYNTHETIC_DRYER_U_REF",
    "SYNTHETIC_DRYER_Y_OFFSET",
    "prbs",
    "synthetic_dryer",
    "synthetic_dryer_system",
]

SYNTHETIC_DRYER_DT = 0.08
"""Sampling time of :func:`synthetic_dryer` in seconds (as the real dryer)."""
SYNTHETIC_DRYER_LEVELS = (3.41, 6.41)
"""The two heater voltages of the synthetic dryer's input."""
SYNTHETIC_DRYER_U_REF = 4.91
"""Mid level: the true system maps ``u - U_REF`` to ``y - Y_OFFSET``."""
SYNTHETIC_DRYER_Y_OFFSET = 4.89
"""Output level of the synthetic dryer at rest."""
SYNTHETIC_DRYER_NOISE = 0.02
"""Default output noise standard deviation of the synthetic dryer."""


@renamed_parameters(rng="random_state")
def prbs(
    T: int,
    p_switch: float = 0.2,
    levels: tuple[float, float] = (-1.0, 1.0),
    random_state: Any = None,
    *,
    start: int | None = None,
) -> np.ndarray:
    """Random binary signal of length ``T`` that switches level with probability ``p_switch``.

    At every step after the first the signal flips between ``levels[0]`` and
    ``levels[1]`` with probability ``p_switch`` (the DaISy dryer input). The old
    keyword ``rng`` still works for one release, with a ``DeprecationWarning``.

    Parameters
    ----------
    T : int
        Number of samples, ``>= 1``.
    p_switch : float, default 0.2
        Probability of a level change at each step, in ``[0, 1]``.
    levels : tuple of two floats, default (-1.0, 1.0)
        The low and high levels (distinct).
    random_state : None, int or numpy.random.Generator, optional
        Source of randomness; the same seed gives the same signal.
    start : {0, 1, None}, optional
        Index of the first level; drawn at random when ``None``.

    Returns
    -------
    numpy.ndarray
        The signal, shape ``(T,)``.

    Raises
    ------
    ParameterError
        A bad ``T``, ``p_switch``, ``levels``, ``start`` or ``random_state``.

    Examples
    --------
    >>> prbs(6, 1.0, (0.0, 1.0), start=0)
    array([0., 1., 0., 1., 0., 1.])
    >>> u = prbs(1000, 0.2, (3.41, 6.41), random_state=0)
    >>> sorted(set(u.tolist()))
    [3.41, 6.41]
    """
    T = check_int(T, "T", low=1)
    p = check_float(p_switch, "p_switch", low=0.0, high=1.0)
    lv = as_float_array(levels, "levels", ndim=(1,))
    if lv.shape != (2,):
        raise ParameterError(f"levels: must be two numbers (low, high), got {lv.shape[0]}")
    if lv[0] == lv[1]:
        raise ParameterError(f"levels: the two levels must differ, got {tuple(lv)}")
    if start is not None and (isinstance(start, bool) or start not in (0, 1)):
        raise ParameterError(f"start: must be 0, 1 or None, got {start!r}")
    gen = check_random_state(random_state)
    first = int(gen.integers(2)) if start is None else int(start)
    flips = gen.random(T - 1) < p
    state = (first + np.concatenate(([0], np.cumsum(flips)))) % 2
    return lv[state]


def synthetic_dryer_system() -> CanonicalSystem:
    """The known system behind :func:`synthetic_dryer` (order 4 canonical form).

    ``G(z) = (0.028 z + 0.01925) / (z^2 (z - 0.85)(z - 0.65))``, i.e.
    ``(0.028 q^-3 + 0.01925 q^-4) / ((1 - 0.85 q^-1)(1 - 0.65 q^-1))``: a two-pole
    thermal low-pass with three samples of delay (two of dead time on top of the
    canonical form's one) and DC gain 0.9 V/V. The two poles at 0 are the dead time.

    Returns
    -------
    CanonicalSystem
        ``G`` in controllable canonical form.

    Examples
    --------
    >>> G = synthetic_dryer_system()
    >>> round(float(G.frequency_response(0.0).real), 6)
    0.9
    """
    p1, p2 = 0.85, 0.65
    gain = 0.9
    b_sum = gain * (1 - p1) * (1 - p2)  # 0.04725
    b0, b1 = 0.028, b_sum - 0.028  # q^-3 and q^-4 coefficients
    a = np.array([-(p1 + p2), p1 * p2, 0.0, 0.0])  # p_a(z) = z^2 (z - p1)(z - p2)
    c = np.array([b1, b0, 0.0, 0.0])  # c(z) = b1 + b0 z
    return CanonicalSystem(a, c, 0.0)


@renamed_parameters(rng="random_state")
def synthetic_dryer(
    T: int = 1000, random_state: Any = 0, *, noise_std: float = SYNTHETIC_DRYER_NOISE
) -> IOData:
    """Synthetic hair-dryer-like data that needs no files (labelled synthetic).

    Input: :func:`prbs` with levels 3.41/6.41 V switching with probability 0.2.
    Output: ``y_t = 4.89 + G(q)(u_t - 4.91) + e_t`` with ``G`` from
    :func:`synthetic_dryer_system` and ``e_t ~ N(0, noise_std^2)``; ``dt = 0.08`` s.
    ``.truth`` holds ``G`` (it relates the detrended signals). The old keyword
    ``rng`` still works for one release, with a ``DeprecationWarning``.

    Parameters
    ----------
    T : int, default 1000
        Number of samples, ``>= 1``.
    random_state : None, int or numpy.random.Generator, default 0
        Source of randomness; the same seed gives the same data.
    noise_std : float, default 0.02
        Standard deviation of the output noise in volts, ``>= 0``.

    Returns
    -------
    IOData
        The synthetic record (``synthetic=True``, ``truth`` set).

    Examples
    --------
    >>> d = synthetic_dryer(200, random_state=1)
    >>> d.synthetic, len(d), d.dt
    (True, 200, 0.08)
    """
    T = check_int(T, "T", low=1)
    noise = check_float(noise_std, "noise_std", low=0.0)
    gen = check_random_state(random_state)
    sys = synthetic_dryer_system()
    u = prbs(T, 0.2, SYNTHETIC_DRYER_LEVELS, gen)
    y = SYNTHETIC_DRYER_Y_OFFSET + sys.simulate(u - SYNTHETIC_DRYER_U_REF)
    if noise > 0:
        y = y + gen.normal(scale=noise, size=y.shape)
    return IOData(
        u=u,
        y=y,
        dt=SYNTHETIC_DRYER_DT,
        input_names=("heater voltage",),
        output_names=("outlet air temperature",),
        input_units=("V",),
        output_units=("V",),
        name="synthetic-dryer",
        description=(
            "SYNTHETIC data imitating the DaISy hair dryer (not a measurement): PRBS heater "
            "voltage 3.41/6.41 V switching with probability 0.2, a known two-pole thermal "
            "low-pass (poles 0.85, 0.65, DC gain 0.9) with three samples of delay, output "
            f"offset {SYNTHETIC_DRYER_Y_OFFSET} V and Gaussian noise of std {noise:g} V, "
            f"dt = {SYNTHETIC_DRYER_DT} s."
        ),
        synthetic=True,
        truth=sys,
    )
