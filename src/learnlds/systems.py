"""Linear dynamical systems in controllable canonical form (SPEC sections 1 and 6).

Conventions (the one place they live):

* ``h_{t+1} = A h_t + B u_t``, ``y_t = C h_t + D u_t``, ``h_1 = 0``;
* ``A`` is the companion matrix with ones on the super-diagonal and last row
  ``(-a_n, ..., -a_1)``; ``B = e_n``; ``C = (c_1, ..., c_n)``; ``D = d``;
* ``G(z) = (c_1 + c_2 z + ... + c_n z^{n-1}) / p_a(z) + d`` with
  ``p_a(z) = z^n + a_1 z^{n-1} + ... + a_n``;
* as a filter in ``z^{-1}``: ``y = lfilter([0, c_n, ..., c_1], [1, a_1, ..., a_n], u) + d u``.

Multiple inputs/outputs use a common denominator: ``c`` has shape
``(order, n_outputs, n_inputs)`` (``c[k-1]`` is the matrix ``S_k``) and ``d`` has
shape ``(n_outputs, n_inputs)``. A SISO system keeps ``c`` of shape ``(order,)``
and a scalar ``d``.

A system may carry its sample time ``dt`` (seconds; ``None`` when unknown).
Frequencies stay in rad/sample everywhere (:meth:`CanonicalSystem.frequency_response`);
:meth:`CanonicalSystem.frequency_axis` turns them into rad/s when ``dt`` is known.
Exports to python-control (:meth:`CanonicalSystem.to_control`, optional extra
``pip install "learnlds[control]"``) and ``scipy.signal`` (:meth:`CanonicalSystem.to_dlti`)
carry ``dt`` (``True``, "discrete, unspecified", when unknown).

Data layout (see :mod:`learnlds._boundary`): time along axis 0 of a record.
A SISO system reads ``(T,)`` and ``(T, 1)`` as one record; for backward
compatibility (issue 2) a 2-D ``(N, T)`` array with ``T > 1`` columns is read as
``N`` sequences unless ``sequences`` says otherwise. MIMO data are ``(T, m)``
records or ``(N, T, m)`` sequences.

Examples
--------
>>> sys_ = CanonicalSystem([-0.5], [1.0])
>>> sys_.simulate([1.0, 0.0, 0.0])
array([0.  , 1.  , 0.5])
"""

from __future__ import annotations

import json
import numbers
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import linalg, signal

from ._boundary import (
    as_float_array,
    as_io,
    check_bool,
    check_float,
    check_int,
    check_random_state,
    renamed_parameters,
    user_stacklevel,
)
from ._files import atomic_write_text, read_json_object
from .errors import (
    DataError,
    FileFormatError,
    LayoutWarning,
    ParameterError,
    UnstableSystemWarning,
    UnsupportedShapeError,
)

__all__ = ["CanonicalSystem", "companion", "load", "markov_horizon"]

FORMAT_NAME = "learnlds.CanonicalSystem"
FORMAT_VERSION = 1

#: Deprecated alias of :func:`learnlds._boundary.as_float_array` (other modules still use it).
as_real_array = as_float_array


# --------------------------------------------------------------------------- helpers
def companion(a: Any) -> np.ndarray:
    """Companion matrix of ``p_a``: ones on the super-diagonal, last row ``(-a_n, ..., -a_1)``.

    Parameters
    ----------
    a : array_like, shape (order,)
        Coefficients of ``p_a(z) = z^n + a_1 z^{n-1} + ... + a_n``.

    Returns
    -------
    numpy.ndarray, shape (order, order)
        The companion matrix, whose eigenvalues are the roots of ``p_a``.

    Raises
    ------
    DataError
        ``a`` not a non-empty 1-D array of finite real numbers.

    Examples
    --------
    >>> companion([0.5, -0.25])
    array([[ 0.  ,  1.  ],
           [ 0.25, -0.5 ]])
    """
    if a is None:
        raise DataError("a: the coefficients are required, got None")
    a = as_float_array(a, "a", ndim=(1,))
    if a.size == 0:
        raise DataError("a: needs at least one coefficient (order >= 1), got none")
    A = np.eye(a.shape[0], k=1)
    A[-1, :] = -a[::-1]
    return A


def markov_horizon(rho: float, order: int, tol: float = 1e-17) -> int:
    """Number of Markov parameters after which ``rho^k`` is below ``tol`` (with margin).

    A crude 50 % margin plus 200 covers the polynomial factor of repeated roots.

    Parameters
    ----------
    rho : float
        Spectral radius of the system(s).
    order : int
        Model order (the horizon is never shorter than ``order + 2``).
    tol : float, default 1e-17
        Size of the geometric tail that may be neglected.

    Returns
    -------
    int
        The horizon, or ``-1`` when ``rho >= 1`` (the sum diverges).

    Raises
    ------
    ParameterError
        ``rho`` negative, NaN or not a real number; ``order`` not an integer ``>= 1``;
        ``tol`` not in ``(0, 1)``.

    Examples
    --------
    >>> markov_horizon(0.5, 2)
    285
    >>> markov_horizon(1.0, 2)
    -1
    """
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not rho >= 0.0:
        raise ParameterError(f"rho: must be a spectral radius (a real number >= 0), got {rho!r}")
    order = check_int(order, "order", low=1)  # type: ignore[assignment]
    tol = check_float(  # type: ignore[assignment]
        tol, "tol", low=0.0, high=1.0, low_open=True, high_open=True
    )
    if rho >= 1.0:
        return -1
    if rho == 0.0:
        return order + 2
    k = int(np.ceil(np.log(tol) / np.log(rho)))
    return max(order + 2, min(int(1.5 * k) + 200, 5_000_000))


def _horner(coef: np.ndarray, zinv: np.ndarray) -> np.ndarray:
    """``sum_k coef[k] zinv^k`` (ascending powers of ``z^{-1}``) by Horner's rule."""
    out = np.zeros(zinv.shape, dtype=complex)
    for ck in coef[::-1]:
        out = out * zinv + ck
    return out


def _sequences_flag(u: Any, siso: bool, sequences: Any, warn: bool = True) -> bool:
    """The layout rule for model data: ``sequences`` when given, else read from the shape.

    ``None``: a 3-D array holds sequences; for a SISO model a 2-D ``(N, T)`` array
    with ``T > 1`` columns holds ``N`` sequences (the issue-2 contract), ``(T, 1)``
    is one record. A tall such array (``N > T``) is read as sequences with a
    :class:`LayoutWarning` (``warn=False``: callers whose data are batches by contract).
    """
    if sequences is not None:
        return check_bool(sequences, "sequences")
    try:
        shape = np.shape(u)
    except ValueError:  # ragged: let as_io report it
        return False
    if len(shape) == 3:
        return True
    seq = siso and len(shape) == 2 and shape[1] > 1
    if seq and warn and shape[0] > shape[1]:
        _warn_layout(shape)
    return seq


def _warn_layout(shape: tuple[int, ...]) -> None:
    """Say how a tall array was read: a ``(T, channels)`` record with more channels than
    the model has is far likelier than more sequences than samples in each."""
    N, T = shape[0], shape[1]
    warnings.warn(
        f"u: the {shape} array is read as {N} sequences of {T} sample(s) (a SISO model "
        f"reads a 2-D (N, T) array as N sequences); if it is one record of {N} samples, "
        "it has more input channels than the model takes. Pass sequences=True to read it "
        "as sequences without this warning",
        LayoutWarning,
        stacklevel=user_stacklevel(),
    )


def _ss_markov(A: np.ndarray, B: np.ndarray, C: np.ndarray, count: int) -> np.ndarray:
    """``C A^{k-1} B`` for ``k = 1..count`` as a ``(count, p, m)`` array (count matrix products)."""
    out = np.empty((count, C.shape[0], B.shape[1]))
    V = B
    for k in range(count):  # a loop over the order, not over time
        out[k] = C @ V
        V = A @ V
    return out


def _controllable(A: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    """Single-input controllability from the controller-Hessenberg form (orthogonal steps).

    A Householder reflector maps ``b`` to ``beta e_1``; the Hessenberg reduction of
    the reflected ``A`` keeps ``e_1`` fixed, so the pair is controllable exactly when
    ``beta != 0`` and no sub-diagonal entry vanishes. Unlike the singular values of the
    controllability matrix (whose condition number grows geometrically with the order)
    these entries are computed backward-stably.
    """
    beta = float(np.linalg.norm(b))
    if beta == 0.0:
        return False
    v = b.copy()
    v[0] += np.copysign(beta, b[0])
    A1 = A - 2.0 * np.outer(v, v @ A) / (v @ v)
    A1 = A1 - 2.0 * np.outer(A1 @ v, v) / (v @ v)
    H = linalg.hessenberg(A1)
    scale = max(float(np.linalg.norm(A)), np.finfo(float).tiny)
    return bool(np.all(np.abs(np.diag(H, -1)) > rtol * scale))


def _ss_arrays(A: Any, B: Any, C: Any, D: Any) -> tuple[np.ndarray, ...]:
    """Validate ``(A, B, C, D)``: 1-D ``B``/``C`` are a column/row; scalar ``D`` is broadcast."""
    A = as_float_array(A, "A", ndim=(2,))
    n = A.shape[0]
    if n < 1 or A.shape != (n, n):
        raise DataError(f"A: must be square and non-empty, got shape {A.shape}")
    B = as_float_array(B, "B", ndim=(1, 2))
    B = B.reshape(-1, 1) if B.ndim == 1 else B
    if B.shape[0] != n or B.shape[1] < 1:
        raise DataError(f"B: must have shape ({n}, n_inputs) to match A, got {B.shape}")
    C = as_float_array(C, "C", ndim=(1, 2))
    C = C.reshape(1, -1) if C.ndim == 1 else C
    if C.shape[1] != n or C.shape[0] < 1:
        raise DataError(f"C: must have shape (n_outputs, {n}) to match A, got {C.shape}")
    D = as_float_array(D, "D", ndim=(0, 1, 2))
    shape = (C.shape[0], B.shape[1])
    if D.size == 1:
        D = np.full(shape, float(D.ravel()[0]))
    if D.shape != shape:
        raise DataError(
            f"D: must be a scalar or of shape (n_outputs, n_inputs) = {shape}, got {D.shape}"
        )
    return A, B, C, D


def _check_dt(dt: Any) -> float | None:
    """A sample time: ``None`` (unknown) or a positive finite number of seconds."""
    return check_float(dt, "dt", low=0.0, low_open=True, allow_none=True)


def _import_control() -> Any:
    """python-control, imported on first use (it is the optional extra ``learnlds[control]``)."""
    try:
        import control
    except ImportError as exc:
        raise ImportError(
            "python-control is needed to exchange models with it; install the optional "
            'extra: pip install "learnlds[control]" (or pip install "control>=0.10")'
        ) from exc
    return control


def _foreign_dt(dt: Any, name: str) -> float | None:
    """A foreign sample time as ours: ``True``/``None`` (discrete, unspecified) -> ``None``.

    ``0`` (python-control's and scipy's continuous time) is refused: the canonical form
    is a discrete-time model.
    """
    if dt is True or dt is None:
        return None
    if isinstance(dt, numbers.Real) and not isinstance(dt, bool) and float(dt) == 0.0:
        raise ParameterError(
            f"{name}: a continuous-time system; discretise it first "
            "(control.sample_system or scipy.signal.cont2discrete)"
        )
    return check_float(dt, f"{name}.dt", low=0.0, low_open=True)


def _tf_grid(nums: Any, dens: Any, dt: float | None) -> CanonicalSystem:
    """Common-denominator canonical form of a ``p x m`` grid of SISO transfer functions.

    Distinct denominators (equal up to 1e-12 relative) are multiplied together, so the
    input-output map is exact though the order may exceed the McMillan degree.
    """
    p, m = len(nums), len(nums[0])
    grid = [[as_float_array(dens[o][i], "den", ndim=(1,)) for i in range(m)] for o in range(p)]
    monic = [[np.trim_zeros(den, "f") / np.trim_zeros(den, "f")[0] for den in row] for row in grid]
    unique: list[np.ndarray] = []
    index = np.zeros((p, m), dtype=int)
    for o in range(p):
        for i in range(m):
            den = monic[o][i]
            hit = [
                j
                for j, q in enumerate(unique)
                if q.shape == den.shape and np.allclose(q, den, rtol=1e-12, atol=1e-14)
            ]
            if not hit:
                unique.append(den)
            index[o, i] = hit[0] if hit else len(unique) - 1
    common = np.ones(1)
    for q in unique:
        common = np.polymul(common, q)
    parts = []
    for o in range(p):
        for i in range(m):
            num = as_float_array(nums[o][i], "num", ndim=(1,)) / np.trim_zeros(grid[o][i], "f")[0]
            for j, q in enumerate(unique):
                if j != index[o, i]:
                    num = np.polymul(num, q)
            parts.append(CanonicalSystem.from_tf(num if np.any(num) else [0.0], common))
    c3 = np.stack([sub.c for sub in parts], axis=1).reshape(common.size - 1, p, m)
    d2 = np.array([float(sub.d) for sub in parts]).reshape(p, m)
    return CanonicalSystem(common[1:], c3, d2, dt=dt)


def _unstable_message(rho: float) -> str:
    return (
        f"simulate: the system is unstable (spectral radius {rho:.6g} >= 1): a pole on or "
        "outside the unit circle makes the state, and so the output, grow with time "
        "(geometrically, like rho^t, when rho > 1)"
    )


# --------------------------------------------------------------------------- the class
@dataclass(frozen=True, eq=False, init=False)
class CanonicalSystem:
    """A stable or unstable LDS in controllable canonical form (immutable).

    Parameters
    ----------
    a : array_like, shape (order,)
        Characteristic polynomial coefficients ``p_a(z) = z^n + a_1 z^{n-1} + ... + a_n``.
    c : array_like, shape (order,) or (order, n_outputs, n_inputs)
        Numerator coefficients ``c_1..c_n`` (ascending powers of ``z``).
    d : float or array_like of shape (n_outputs, n_inputs), default 0.0
        Direct feed-through (a MIMO system broadcasts a scalar).
    dt : float, optional
        Sample time in seconds (``None``: unknown; frequencies are then in rad/sample).

    Attributes
    ----------
    a, c, d : numpy.ndarray
        Read-only copies of the coefficients.
    dt : float or None
        The sample time.

    Raises
    ------
    DataError
        Non-numeric or non-finite coefficients, or shapes that do not fit together.
    ParameterError
        ``dt`` not a positive finite number (or ``None``).

    Examples
    --------
    >>> sys_ = CanonicalSystem([-0.5], [1.0], 0.2)
    >>> sys_.order, sys_.is_siso, sys_.is_stable()
    (1, True, True)
    >>> sys_.markov(3)
    array([0.2, 1. , 0.5])
    >>> CanonicalSystem([-0.5], [1.0], dt=0.1)
    CanonicalSystem(a=[-0.5], c=[1.], d=0.0, dt=0.1)
    """

    a: np.ndarray
    c: np.ndarray
    d: np.ndarray
    dt: float | None

    def __init__(self, a: Any, c: Any, d: Any = 0.0, *, dt: float | None = None) -> None:
        a_arr = as_float_array(a, "a", ndim=(1,))
        if a_arr.shape[0] < 1:
            raise DataError("a: the order must be at least 1 (got an empty coefficient vector)")
        n = a_arr.shape[0]
        c_arr = as_float_array(c, "c", ndim=(1, 3))
        if c_arr.shape[0] != n:
            raise DataError(
                f"c: must have {n} rows to match a (order {n}), got shape {c_arr.shape}"
            )
        d_arr = as_float_array(d, "d", ndim=(0, 2))
        if c_arr.ndim == 1:
            if d_arr.ndim != 0:
                raise DataError(f"d: a SISO system (c of shape ({n},)) needs a scalar d")
        else:
            if d_arr.ndim == 0:
                d_arr = np.full(c_arr.shape[1:], float(d_arr))
            if d_arr.shape != c_arr.shape[1:]:
                raise DataError(
                    f"d: must have shape (n_outputs, n_inputs) = {c_arr.shape[1:]}, "
                    f"got {d_arr.shape}"
                )
        for name, arr in (("a", a_arr), ("c", c_arr), ("d", d_arr)):
            arr = arr.copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "dt", _check_dt(dt))

    # ------------------------------------------------------------------ shape facts
    @property
    def order(self) -> int:
        """State dimension of the SISO canonical form (degree of ``p_a``)."""
        return int(self.a.shape[0])

    @property
    def is_siso(self) -> bool:
        """Whether the system has one input and one output (``c`` of shape ``(order,)``)."""
        return self.c.ndim == 1

    @property
    def n_inputs(self) -> int:
        """Number of input channels ``m``."""
        return 1 if self.is_siso else int(self.c.shape[2])

    @property
    def n_outputs(self) -> int:
        """Number of output channels ``p``."""
        return 1 if self.is_siso else int(self.c.shape[1])

    @property
    def n_states(self) -> int:
        """Dimension of the realisation returned by :meth:`to_state_space`."""
        return self.order * self.n_inputs

    # ------------------------------------------------------------------ matrices
    @property
    def A(self) -> np.ndarray:
        """State matrix: the companion matrix (MIMO: ``companion(a) kron I_m``)."""
        Ac = companion(self.a)
        return Ac if self.is_siso else np.kron(Ac, np.eye(self.n_inputs))

    @property
    def B(self) -> np.ndarray:
        """Input matrix ``e_n`` (MIMO: ``e_n kron I_m``)."""
        e = np.zeros((self.order, 1))
        e[-1, 0] = 1.0
        return e if self.is_siso else np.kron(e, np.eye(self.n_inputs))

    @property
    def C(self) -> np.ndarray:
        """Output matrix ``(c_1, ..., c_n)`` (MIMO: ``[S_1, ..., S_n]``)."""
        if self.is_siso:
            return self.c[None, :].copy()
        return np.concatenate(list(self.c), axis=1)

    @property
    def D(self) -> np.ndarray:
        """Feed-through as a 2-D ``(n_outputs, n_inputs)`` array."""
        return np.atleast_2d(self.d).astype(float).copy()

    def to_state_space(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The realisation ``(A, B, C, D)`` as 2-D arrays (MIMO: ``A = companion(a) kron I``).

        Returns
        -------
        A, B, C, D : numpy.ndarray
            Shapes ``(s, s)``, ``(s, m)``, ``(p, s)`` and ``(p, m)`` with ``s = n_states``.

        Examples
        --------
        >>> A, B, C, D = CanonicalSystem([0.1, 0.2], [1.0, 0.0]).to_state_space()
        >>> A.shape, B.ravel(), C, D
        ((2, 2), array([0., 1.]), array([[1., 0.]]), array([[0.]]))
        """
        return self.A, self.B, self.C, self.D

    def to_tf(self) -> tuple[np.ndarray, np.ndarray]:
        """Transfer function ``(num, den)`` in descending powers of ``z`` for ``scipy.signal``.

        ``num`` includes ``d``: ``G(z) = num(z) / den(z)`` with ``den = [1, a_1, ..., a_n]``.

        Returns
        -------
        num, den : numpy.ndarray
            Numerator and denominator coefficients, each of length ``order + 1``.

        Raises
        ------
        UnsupportedShapeError
            For a MIMO system.

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0], 2.0).to_tf()
        (array([2., 0.]), array([ 1. , -0.5]))
        """
        self._require_siso("to_tf")
        den = np.concatenate(([1.0], self.a))
        num = np.concatenate(([0.0], self.c[::-1])) + float(self.d) * den
        return num, den

    @property
    def filter_coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """``(b, den)`` of the strictly proper part in ``z^{-1}``: ``b = [0, c_n, ..., c_1]``."""
        den = np.concatenate(([1.0], self.a))
        if self.is_siso:
            return np.concatenate(([0.0], self.c[::-1])), den
        return np.concatenate((np.zeros((1,) + self.c.shape[1:]), self.c[::-1]), axis=0), den

    # ------------------------------------------------------------------ behaviour
    @renamed_parameters(x="u", rng="random_state")
    def simulate(
        self,
        u: Any,
        *,
        sequences: bool | None = None,
        noise_std: float = 0.0,
        random_state: Any = None,
    ) -> np.ndarray:
        """Output from zero state for the input ``u``.

        Parameters
        ----------
        u : array_like
            Inputs, time along axis 0 of a record. SISO: ``(T,)`` or ``(T, 1)`` is one
            record; MIMO: ``(T, n_inputs)``. Sequences: ``(N, T)`` / ``(N, T, 1)`` (SISO)
            and ``(N, T, n_inputs)`` (MIMO).
        sequences : bool, optional
            Read the leading axis as the sequence index (``True``) or not (``False``).
            ``None`` reads 3-D arrays as sequences and, for a SISO system, a 2-D
            ``(N, T)`` array with ``T > 1`` columns as ``N`` sequences (the issue-2
            contract); ``(T, 1)`` stays one record.
        noise_std : float, default 0.0
            Standard deviation of Gaussian noise added to the output.
        random_state : None, int or numpy.random.Generator, optional
            Source of the noise.

        Returns
        -------
        numpy.ndarray
            SISO: the same shape as ``u``. MIMO: ``(T, n_outputs)`` or ``(N, T, n_outputs)``.

        Raises
        ------
        DataError
            Non-finite, empty or wrongly shaped inputs.
        ParameterError
            ``noise_std < 0``, a bad ``random_state`` or ``sequences``.

        Warns
        -----
        UnstableSystemWarning
            When the spectral radius is ``>= 1`` (the output grows with time).
        LayoutWarning
            ``sequences`` not given and a SISO ``u`` of more rows than columns read as
            sequences (more likely a record with too many input columns).

        Examples
        --------
        >>> sys_ = CanonicalSystem([-0.5], [1.0])
        >>> sys_.simulate([1.0, 0.0, 0.0, 0.0])
        array([0.  , 1.  , 0.5 , 0.25])
        >>> sys_.simulate(np.ones((2, 3))).shape  # two sequences of three samples
        (2, 3)
        >>> sys_.simulate(np.ones((3, 1))).shape  # one record of three samples
        (3, 1)
        """
        seq = _sequences_flag(u, self.is_siso, sequences)
        noise_std = check_float(noise_std, "noise_std", low=0.0)
        # a generator is only built when needed (default_rng costs ~10 us per call)
        gen = check_random_state(random_state) if noise_std or random_state is not None else None
        io = as_io(u, sequences=seq, n_inputs=self.n_inputs)
        if self.spectral_radius() >= 1.0:
            warnings.warn(_unstable_message(self.spectral_radius()), UnstableSystemWarning, 2)
        y3 = self._simulate3(io.u)
        if gen is not None and noise_std:
            y3 = y3 + gen.normal(scale=noise_std, size=y3.shape)
        if self.is_siso:
            return y3.reshape(np.shape(u))
        return y3 if seq else y3[0]

    def _simulate3(self, u3: np.ndarray) -> np.ndarray:
        """Canonical ``(N, T, m)`` inputs to ``(N, T, p)`` outputs (no validation)."""
        b, den = self.filter_coefficients
        if self.is_siso:  # filter the (N, T) view along its contiguous time axis
            y = signal.lfilter(b, den, u3[..., 0], axis=-1)
            d = float(self.d)
            if d:
                y += d * u3[..., 0]
            return y[..., None]
        s = signal.lfilter([1.0], den, u3, axis=1)  # (N, T, m)
        T = u3.shape[1]
        y = np.einsum("nti,ji->ntj", u3, self.d)
        for k in range(1, min(self.order, T - 1) + 1):  # y_t += S_{n+1-k} s_{t-k}; over lags
            y[:, k:, :] += np.einsum("nti,ji->ntj", s[:, : T - k, :], b[k])
        return y

    def markov(self, k: int) -> np.ndarray:
        """Markov parameters ``r_0 = d, r_j = C A^{j-1} B`` for ``j < k``.

        Parameters
        ----------
        k : int
            How many parameters (``>= 1``).

        Returns
        -------
        numpy.ndarray
            Shape ``(k,)`` for SISO and ``(k, n_outputs, n_inputs)`` for MIMO.

        Raises
        ------
        ParameterError
            ``k`` is not an integer ``>= 1``.

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).markov(4)
        array([0.  , 1.  , 0.5 , 0.25])
        """
        k = check_int(k, "k", low=1)
        b, den = self.filter_coefficients
        imp = np.zeros(k)
        imp[0] = 1.0
        h = signal.lfilter([1.0], den, imp)  # impulse response of 1 / q_a
        if self.is_siso:
            r = np.convolve(h, b)[:k]
            r[0] = float(self.d)
            return r
        r = np.zeros((k,) + self.c.shape[1:])
        for j in range(1, min(k, self.order + 1)):
            r[j:] += h[: k - j, None, None] * b[j]
        r[0] = self.d
        return r

    def frequency_response(self, w: Any) -> np.ndarray:
        """``G(e^{iw}) = C (e^{iw} I - A)^{-1} B + D`` at angular frequencies ``w`` (rad/sample).

        Numerator and denominator are evaluated in ``z^{-1}`` by Horner's rule, so memory
        stays O(len(w)) for any order (the idealized risk evaluates millions of points).

        Parameters
        ----------
        w : array_like
            Angular frequencies.

        Returns
        -------
        numpy.ndarray
            Complex values shaped like ``w`` (MIMO: ``w.shape + (n_outputs, n_inputs)``).

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).frequency_response([0.0])
        array([2.+0.j])
        """
        w_arr = as_float_array(w, "w")
        zinv = np.exp(-1j * w_arr)
        b, den = self.filter_coefficients
        den_z = _horner(den, zinv)
        if self.is_siso:
            return _horner(b, zinv) / den_z + float(self.d)
        zb = zinv[..., None, None]
        num = np.zeros(zinv.shape + b.shape[1:], dtype=complex)
        for coef in b[::-1]:  # loop over the n + 1 coefficients, not over frequencies
            num = num * zb + coef
        return num / den_z[..., None, None] + self.d

    def poles(self) -> np.ndarray:
        """Roots of ``p_a`` (the eigenvalues of the SISO companion matrix).

        Returns
        -------
        numpy.ndarray
            The ``order`` poles (complex when any is).

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).poles()
        array([0.5])
        """
        return np.roots(np.concatenate(([1.0], self.a)))

    def spectral_radius(self) -> float:
        """Largest pole modulus (the system is stable when it is below 1).

        Returns
        -------
        float
            ``max |pole|`` (computed once per system and cached).

        Examples
        --------
        >>> CanonicalSystem([-2.5, 1.0], [1.0, 0.0]).spectral_radius()
        2.0
        """
        rho = self.__dict__.get("_rho")
        if rho is None:
            rho = float(np.max(np.abs(self.poles())))
            object.__setattr__(self, "_rho", rho)
        return rho

    def is_stable(self) -> bool:
        """Whether every pole lies strictly inside the unit circle.

        Returns
        -------
        bool
            ``spectral_radius() < 1``.

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).is_stable()
        True
        """
        return self.spectral_radius() < 1.0

    def h2_norm(self) -> float:
        """``sqrt(||d||^2 + sum_{k>=1} ||r_k||^2)``; ``inf`` for an unstable system.

        Summed over Markov parameters up to the horizon where ``rho^k`` drops below
        1e-17, not from the Gramian: for clustered poles the companion-form Lyapunov
        solve loses ~1e-9 relative accuracy, the filter recursion ~1e-14.

        Returns
        -------
        float
            The H2 norm.

        Examples
        --------
        >>> round(CanonicalSystem([-0.5], [1.0]).h2_norm() ** 2, 12)  # 1 / (1 - 0.25)
        1.333333333333
        """
        if not self.is_stable():
            return float("inf")
        r = self.markov(markov_horizon(self.spectral_radius(), self.order))
        return float(np.sqrt(np.sum(r**2)))

    # ------------------------------------------------------------------ conversions
    @classmethod
    def from_state_space(
        cls, A: Any, B: Any, C: Any, D: Any = 0.0, *, rtol: float = 1e-9, dt: float | None = None
    ) -> CanonicalSystem:
        """Canonical form of a state-space system ``(A, B, C, D)`` with the same input-output map.

        ``a = poly(eig(A))`` and the numerator from the first ``order`` Markov parameters
        ``r_k = C A^{k-1} B``: ``[0, c_n, ..., c_1]`` is ``[1, a_1, ..., a_n] * r``
        truncated to degree ``n`` in ``z^{-1}``. The controllability matrix is never
        formed (its condition number grows geometrically with the order). A SISO system
        must be controllable (then the canonical form is a similarity transform of it);
        this is tested on the controller-Hessenberg form, computed with orthogonal
        transformations. A MIMO system gets the common-denominator form of the same
        order ``n = A.shape[0]`` (``n * n_inputs`` states), which needs no such test.

        Parameters
        ----------
        A : array_like, shape (n, n)
            State matrix.
        B : array_like, shape (n, m) or (n,)
            Input matrix (1-D: one input).
        C : array_like, shape (p, n) or (n,)
            Output matrix (1-D: one output).
        D : float or array_like of shape (p, m), default 0.0
            Feed-through (a scalar is broadcast).
        rtol : float, default 1e-9
            A SISO system is refused as uncontrollable when a sub-diagonal entry of its
            controller-Hessenberg form is at most ``rtol * ||A||``; ``0`` refuses only
            exact zeros.
        dt : float, optional
            Sample time in seconds (``None``: unknown).

        Returns
        -------
        CanonicalSystem
            SISO when ``m = p = 1``, else MIMO.

        Raises
        ------
        DataError
            Inconsistent shapes, non-finite entries, or an uncontrollable SISO system.
        ParameterError
            ``rtol`` negative, or ``dt`` not a positive number.

        Examples
        --------
        >>> A = np.array([[0.5, 1.0], [0.0, 0.2]])
        >>> sys_ = CanonicalSystem.from_state_space(A, [0.0, 1.0], [1.0, 0.0], 0.0)
        >>> sys_.a, sys_.c
        (array([-0.7,  0.1]), array([1., 0.]))
        """
        rtol = check_float(rtol, "rtol", low=0.0)
        dt = _check_dt(dt)
        A, B, C, D = _ss_arrays(A, B, C, D)
        n = A.shape[0]
        siso = B.shape[1] == 1 and C.shape[0] == 1
        if siso and not _controllable(A, B[:, 0], rtol):
            raise DataError(
                "A, B: the system is not controllable (a sub-diagonal entry of its "
                f"controller-Hessenberg form is below rtol={rtol:g} times ||A||); reduce it "
                "to a minimal realisation first"
            )
        a = np.real(np.poly(np.linalg.eigvals(A)))
        r = _ss_markov(A, B, C, n)  # r[k-1] = C A^{k-1} B
        bcoef = signal.lfilter(a, [1.0], r, axis=0)  # b_k = sum_j a_j r_{k-j}, k = 1..n
        c = bcoef[::-1]
        if siso:
            return cls(a[1:], c[:, 0, 0], float(D[0, 0]), dt=dt)
        return cls(a[1:], c, D, dt=dt)

    @classmethod
    def from_tf(cls, num: Any, den: Any, *, dt: float | None = None) -> CanonicalSystem:
        """Canonical form of a proper SISO ``num(z) / den(z)`` (descending powers of ``z``).

        Parameters
        ----------
        num, den : array_like, 1-D
            Numerator and denominator coefficients; ``deg num <= deg den``, ``deg den >= 1``.
        dt : float, optional
            Sample time in seconds (``None``: unknown).

        Returns
        -------
        CanonicalSystem
            The SISO system of order ``deg den``.

        Raises
        ------
        DataError
            A constant denominator or an improper transfer function.
        ParameterError
            ``dt`` not a positive number.

        Examples
        --------
        >>> CanonicalSystem.from_tf([2.0, 0.0], [1.0, -0.5])
        CanonicalSystem(a=[-0.5], c=[1.], d=2.0)
        """
        num = np.trim_zeros(as_float_array(num, "num", ndim=(1,)), "f")
        den = np.trim_zeros(as_float_array(den, "den", ndim=(1,)), "f")
        if den.size < 2:
            raise DataError("den: must have degree >= 1")
        if num.size > den.size:
            raise DataError("num: degree exceeds den's; the transfer function is not proper")
        num = np.concatenate((np.zeros(den.size - num.size), num)) / den[0]
        den = den / den[0]
        d = num[0]
        rest = num - d * den  # strictly proper remainder, leading entry 0
        return cls(den[1:], rest[1:][::-1], d, dt=dt)

    @classmethod
    @renamed_parameters(n="order", rng="random_state")
    def random_stable(
        cls,
        order: int,
        radius: float = 0.95,
        random_state: Any = None,
        *,
        d: float = 0.0,
    ) -> CanonicalSystem:
        """Random SISO system with conjugate-pair poles drawn uniformly in the disc of ``radius``.

        An odd ``order`` gets one real pole in ``(-radius, radius)``; ``c ~ N(0, I)``.

        Parameters
        ----------
        order : int
            Model order (``>= 1``).
        radius : float, default 0.95
            Poles lie in ``|z| < radius``; must be in ``(0, 1)``.
        random_state : None, int or numpy.random.Generator, optional
            Source of randomness.
        d : float, default 0.0
            Feed-through.

        Returns
        -------
        CanonicalSystem
            A stable system.

        Examples
        --------
        >>> sys_ = CanonicalSystem.random_stable(4, 0.9, random_state=0)
        >>> sys_.order, bool(sys_.spectral_radius() < 0.9)
        (4, True)
        """
        order = check_int(order, "order", low=1)
        radius = check_float(radius, "radius", low=0.0, high=1.0, low_open=True, high_open=True)
        d = check_float(d, "d")
        gen = check_random_state(random_state)
        m = order // 2
        rad = radius * np.sqrt(gen.uniform(size=m))
        ang = gen.uniform(0, np.pi, size=m)
        roots = rad * np.exp(1j * ang)
        all_roots = np.concatenate((roots, roots.conj()))
        if order % 2:
            all_roots = np.concatenate((all_roots, [gen.uniform(-radius, radius)]))
        a = np.poly(all_roots)[1:].real
        return cls(a, gen.normal(size=order), d)

    # ------------------------------------------------------------------ other libraries
    def to_dlti(self) -> signal.dlti:
        """The system as a ``scipy.signal`` discrete-time state-space model.

        The realisation is :meth:`to_state_space`'s; the sample time is ``dt``, or
        ``True`` (scipy's "discrete, unspecified", which simulates and evaluates
        frequencies as ``dt = 1``) when unknown.

        Returns
        -------
        scipy.signal.dlti
            A ``StateSpaceDiscrete`` (use ``.to_tf()`` for a transfer function).

        Examples
        --------
        >>> from scipy import signal
        >>> sys_ = CanonicalSystem([-0.5], [1.0], dt=0.1)
        >>> _, y, _ = signal.dlsim(sys_.to_dlti(), [1.0, 0.0, 0.0])
        >>> y.ravel(), sys_.to_dlti().dt
        (array([0. , 1. , 0.5]), 0.1)
        """
        return signal.dlti(*self.to_state_space(), dt=True if self.dt is None else self.dt)

    def to_control(self) -> Any:
        """The system as a python-control discrete-time ``StateSpace`` (optional extra).

        The realisation is :meth:`to_state_space`'s; the sample time is ``dt``, or
        ``True`` (python-control's "discrete, unspecified") when unknown.

        Returns
        -------
        control.StateSpace
            The model, for python-control's analysis and design tools.

        Raises
        ------
        ImportError
            python-control is not installed (``pip install "learnlds[control]"``).

        Examples
        --------
        >>> ctl = CanonicalSystem([-0.5], [1.0], dt=0.1).to_control()  # doctest: +SKIP
        >>> ctl.dt, ctl.nstates  # doctest: +SKIP
        (0.1, 1)
        >>> CanonicalSystem([-0.5], [1.0]).n_states
        1
        """
        control = _import_control()
        return control.ss(*self.to_state_space(), True if self.dt is None else self.dt)

    @classmethod
    def from_dlti(cls, system: Any, *, rtol: float = 1e-9) -> CanonicalSystem:
        """Canonical form of a discrete-time ``scipy.signal`` model (state space, tf or zpk).

        A state-space model goes through :meth:`from_state_space` (a SISO one must be
        controllable; MIMO gets the common-denominator form); a transfer function
        through :meth:`from_tf` (one output) or a common denominator (several outputs).
        The sample time ``True`` (unspecified) becomes ``dt = None``.

        Parameters
        ----------
        system : scipy.signal.dlti
            The model.
        rtol : float, default 1e-9
            Controllability tolerance of :meth:`from_state_space`.

        Returns
        -------
        CanonicalSystem
            The same input-output map.

        Raises
        ------
        ParameterError
            ``system`` is not a discrete-time ``scipy.signal`` model.
        DataError
            An uncontrollable SISO state-space model or an improper transfer function.

        Examples
        --------
        >>> from scipy import signal
        >>> CanonicalSystem.from_dlti(signal.dlti([2.0, 0.0], [1.0, -0.5], dt=0.1))
        CanonicalSystem(a=[-0.5], c=[1.], d=2.0, dt=0.1)
        """
        if not isinstance(system, signal.dlti):
            kind = "continuous-time" if isinstance(system, signal.lti) else "not"
            raise ParameterError(
                f"system: expected a discrete-time scipy.signal.dlti, got {type(system).__name__} "
                f"({kind} a discrete-time scipy model; discretise with "
                "scipy.signal.cont2discrete)"
            )
        dt = _foreign_dt(system.dt, "system")
        if isinstance(system, signal.StateSpace):
            return cls.from_state_space(system.A, system.B, system.C, system.D, rtol=rtol, dt=dt)
        tf = system if isinstance(system, signal.TransferFunction) else system.to_tf()
        num = np.atleast_2d(tf.num)
        if num.shape[0] == 1:
            return cls.from_tf(num[0], tf.den, dt=dt)
        return _tf_grid([[row] for row in num], [[tf.den]] * num.shape[0], dt)

    @classmethod
    def from_control(cls, system: Any, *, rtol: float = 1e-9) -> CanonicalSystem:
        """Canonical form of a discrete-time python-control ``StateSpace`` or ``TransferFunction``.

        A state-space model goes through :meth:`from_state_space` (a SISO one must be
        controllable; MIMO gets the common-denominator form of order ``A.shape[0]``);
        a SISO transfer function through :meth:`from_tf`; a MIMO transfer function gets
        the product of its distinct denominators as common denominator (exact, not
        minimal). ``dt=True`` (unspecified) becomes ``dt = None``.

        Parameters
        ----------
        system : control.StateSpace or control.TransferFunction
            A discrete-time model.
        rtol : float, default 1e-9
            Controllability tolerance of :meth:`from_state_space`.

        Returns
        -------
        CanonicalSystem
            The same input-output map.

        Raises
        ------
        ImportError
            python-control is not installed (``pip install "learnlds[control]"``).
        ParameterError
            ``system`` is continuous-time or not a python-control linear model.
        DataError
            An uncontrollable SISO state-space model or an improper transfer function.

        Examples
        --------
        >>> import control  # doctest: +SKIP
        >>> CanonicalSystem.from_control(control.tf([2.0, 0.0], [1.0, -0.5], 0.1))  # doctest: +SKIP
        CanonicalSystem(a=[-0.5], c=[1.], d=2.0, dt=0.1)
        >>> CanonicalSystem.from_tf([2.0, 0.0], [1.0, -0.5], dt=0.1)
        CanonicalSystem(a=[-0.5], c=[1.], d=2.0, dt=0.1)
        """
        control = _import_control()
        if not isinstance(system, control.StateSpace | control.TransferFunction):
            raise ParameterError(
                "system: expected a python-control StateSpace or TransferFunction, got "
                f"{type(system).__name__}"
            )
        dt = _foreign_dt(system.dt, "system")
        if isinstance(system, control.StateSpace):
            return cls.from_state_space(system.A, system.B, system.C, system.D, rtol=rtol, dt=dt)
        if system.ninputs == 1 and system.noutputs == 1:
            return cls.from_tf(system.num[0][0], system.den[0][0], dt=dt)
        return _tf_grid(system.num, system.den, dt)

    # ------------------------------------------------------------------ misc
    def with_params(self, a: Any = None, c: Any = None, d: Any = None) -> CanonicalSystem:
        """A copy with some coefficients replaced (the sample time ``dt`` is kept).

        Parameters
        ----------
        a, c, d : array_like, optional
            New coefficients (``None`` keeps the current ones).

        Returns
        -------
        CanonicalSystem
            The new system.

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).with_params(d=0.3).d
        array(0.3)
        >>> CanonicalSystem([-0.5], [1.0], dt=0.5).with_params(c=[2.0]).dt
        0.5
        """
        return CanonicalSystem(
            self.a if a is None else a,
            self.c if c is None else c,
            self.d if d is None else d,
            dt=self.dt,
        )

    def with_dt(self, dt: float | None) -> CanonicalSystem:
        """A copy with the sample time ``dt`` replaced (``None``: unknown).

        Parameters
        ----------
        dt : float or None
            Sample time in seconds.

        Returns
        -------
        CanonicalSystem
            The same coefficients with the new sample time.

        Raises
        ------
        ParameterError
            ``dt`` not a positive finite number (or ``None``).

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).with_dt(0.08).dt
        0.08
        """
        return CanonicalSystem(self.a, self.c, self.d, dt=dt)

    def frequency_axis(self, w: Any) -> np.ndarray:
        """Frequencies ``w`` (rad/sample) in the model's unit: rad/s when ``dt`` is known.

        Use with :attr:`frequency_unit` to label a Bode plot.

        Parameters
        ----------
        w : array_like
            Angular frequencies in rad/sample (as :meth:`frequency_response` takes them).

        Returns
        -------
        numpy.ndarray
            ``w / dt`` (rad/s) when ``dt`` is known, else ``w`` (rad/sample).

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0], dt=0.5).frequency_axis([0.5, np.pi])
        array([1.        , 6.28318531])
        >>> CanonicalSystem([-0.5], [1.0]).frequency_unit
        'rad/sample'
        """
        w_arr = as_float_array(w, "w")
        return w_arr if self.dt is None else w_arr / self.dt

    @property
    def frequency_unit(self) -> str:
        """Unit of :meth:`frequency_axis`: ``'rad/s'`` if ``dt`` is known, else ``'rad/sample'``."""
        return "rad/sample" if self.dt is None else "rad/s"

    def __repr__(self) -> str:
        np_opts = {"precision": 4, "suppress_small": True}
        dt = "" if self.dt is None else f", dt={self.dt!r}"
        return (
            f"CanonicalSystem(a={np.array2string(self.a, **np_opts)}, "
            f"c={np.array2string(self.c, **np_opts)}, d={np.array2string(self.d, **np_opts)}"
            f"{dt})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CanonicalSystem):
            return NotImplemented
        return (
            np.array_equal(self.a, other.a)
            and np.array_equal(self.c, other.c)
            and np.array_equal(self.d, other.d)
            and self.dt == other.dt
        )

    __hash__ = None  # type: ignore[assignment]

    def _require_siso(self, what: str) -> None:
        if not self.is_siso:
            raise UnsupportedShapeError(
                f"{what}: only defined for single-input single-output systems "
                f"(this one has {self.n_inputs} inputs and {self.n_outputs} outputs)"
            )

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (floats round-trip exactly through ``repr``).

        Returns
        -------
        dict
            ``format``, ``version``, ``a``, ``c``, ``d`` and ``dt`` (``None`` when unknown).

        Examples
        --------
        >>> CanonicalSystem([-0.5], [1.0]).to_dict()["c"]
        [1.0]
        >>> CanonicalSystem([-0.5], [1.0], dt=0.08).to_dict()["dt"]
        0.08
        """
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "a": self.a.tolist(),
            "c": self.c.tolist(),
            "d": self.d.tolist(),
            "dt": self.dt,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CanonicalSystem:
        """The system described by :meth:`to_dict`'s output.

        Parameters
        ----------
        data : dict
            A description with ``format``, ``version``, ``a``, ``c``, ``d`` and optionally
            ``dt`` (descriptions written before the sample time existed have none: unknown).

        Returns
        -------
        CanonicalSystem
            The system.

        Raises
        ------
        FileFormatError
            Not a learnlds model, an unsupported version, a missing field or a bad ``dt``.

        Examples
        --------
        >>> sys_ = CanonicalSystem([-0.5], [1.0], dt=0.1)
        >>> CanonicalSystem.from_dict(sys_.to_dict()) == sys_
        True
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise FileFormatError(f"not a learnlds model: expected format '{FORMAT_NAME}'")
        version = data.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise FileFormatError(
                f"unsupported learnlds model version {version!r} "
                f"(this learnlds reads {FORMAT_VERSION})"
            )
        try:
            return cls(data["a"], data["c"], data["d"], dt=data.get("dt"))
        except KeyError as exc:
            raise FileFormatError(f"corrupt learnlds model: missing field {exc}") from exc
        except ParameterError as exc:  # a bad dt
            raise FileFormatError(f"corrupt learnlds model: {exc}") from exc

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the model as versioned JSON, atomically; keyword metadata is stored alongside.

        The file is written to a temporary name and renamed, so an interrupted save
        never leaves a half-written model behind.

        Parameters
        ----------
        path : str or pathlib.Path
            Destination file.
        **metadata
            JSON-serialisable values stored under ``metadata``.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        ParameterError
            ``path`` is a folder, or its folder is missing or read-only.

        Examples
        --------
        >>> import tempfile, os
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = CanonicalSystem([-0.5], [1.0]).save(os.path.join(tmp, "m.json"), note="x")
        ...     load(p).a
        array([-0.5])
        """
        return atomic_write_text(path, _model_json(self.to_dict(), metadata))


def _model_json(payload: dict[str, Any], metadata: dict[str, Any]) -> str:
    """A model's JSON text with its keyword metadata; metadata JSON cannot hold is refused
    before anything is written (``json`` raised a bare TypeError)."""
    if metadata:
        payload = {**payload, "metadata": metadata}
    try:
        return json.dumps(payload, indent=2)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"metadata: must be JSON values (str, numbers, lists, dicts): {exc}"
        ) from exc


def load(path: str | Path) -> CanonicalSystem:
    """Read a model written by :meth:`CanonicalSystem.save`.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON file.

    Returns
    -------
    CanonicalSystem
        The saved system.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        The file cannot be read, is not JSON, or is not a learnlds model.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     load(CanonicalSystem([0.1], [2.0]).save(os.path.join(tmp, "m.json"))).c
    array([2.])
    """
    data = read_json_object(path)  # checks the path argument
    try:
        return CanonicalSystem.from_dict(data)
    except DataError as exc:
        raise FileFormatError(f"{path}: {exc}") from exc
