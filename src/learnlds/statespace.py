"""General MIMO state-space models and their output-error fit.

``x_{t+1} = A x_t + B u_t``, ``y_t = C x_t + D u_t`` with ``m`` inputs, ``p`` outputs and
state dimension ``order``. Unlike :class:`~learnlds.systems.CanonicalSystem` (MIMO through
a common denominator, state dimension ``order * m``), the state dimension here is the
McMillan degree, so a 3-input 6-output plant of order 6 has 6 states, not 18.

* :class:`StateSpaceSystem`: simulation (compiled state loop), Markov parameters,
  frequency response, poles, JSON-safe round trip, conversion to/from the SISO
  canonical form.
* :func:`fit_state_space`: Levenberg-Marquardt on the simulation error with the exact
  Jacobian from forward sensitivity recursions (:mod:`learnlds._ss_kernels`),
  optionally estimating each sequence's initial state.
* :func:`estimate_initial_state`: least-squares initial state on the free response.

Starts, subspace identification and order selection are in :mod:`learnlds.subspace`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal
from scipy.linalg.blas import dsyrk

from ._boundary import (
    as_float_array,
    as_io,
    check_float,
    check_int,
    check_memory,
    first_non_finite,
)
from ._files import atomic_write_text
from ._ss_kernels import ss_jacobian_chunk, ss_simulate
from .errors import DataError, ParameterError, UnstableSystemWarning, UnsupportedShapeError
from .records import _block, _blockwise, _concatenate, _divide, _streaming_stats
from .systems import (
    CanonicalSystem,
    _import_control,
    _model_json,
    _sequences_flag,
    _unstable_message,
)

FORMAT_NAME = "learnlds.StateSpaceSystem"
FORMAT_VERSION = 1

__all__ = [
    "StateSpaceSystem",
    "estimate_initial_state",
    "input_delays",
    "with_input_delay",
]

_JAC_ELEMENTS = 1 << 17  # Jacobian entries per chunk (1 MiB): few Python steps, cache-sized
_SIM_CHUNK = 8192  # time steps per simulation block of the streamed loss and statistics
_STABLE = 1.0 - 1e-6  # spectral radius a step may reach


def _matrix(value: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = as_float_array(value, name)
    if arr.ndim < 2 and arr.size == shape[0] * shape[1]:
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise DataError(f"{name}: must have shape {shape}, got {arr.shape}")
    return np.ascontiguousarray(arr)


class StateSpaceSystem:
    """A discrete-time MIMO linear system ``(A, B, C, D)``.

    Parameters
    ----------
    A : array_like
        ``(order, order)`` state matrix.
    B : array_like
        ``(order, m)`` input matrix (a 1-D array for one input).
    C : array_like
        ``(p, order)`` output matrix (a 1-D array for one output).
    D : array_like, default 0
        ``(p, m)`` feedthrough (a scalar for SISO; ``0`` is the zero matrix of any shape,
        as in python-control).
    dt : float, optional
        Sampling time, kept as metadata.

    Attributes
    ----------
    A, B, C, D : numpy.ndarray
        The matrices, 2-D.
    dt : float or None
        Sampling time.

    Raises
    ------
    DataError
        Matrices that are not finite or whose shapes disagree.

    Examples
    --------
    >>> sys_ = StateSpaceSystem([[0.5]], [1.0], [1.0])
    >>> sys_.simulate(np.ones(3))
    array([0. , 1. , 1.5])
    >>> sys_.order, sys_.n_inputs, sys_.n_outputs, sys_.is_stable()
    (1, 1, 1, True)
    """

    def __init__(self, A: Any, B: Any, C: Any, D: Any = 0.0, dt: float | None = None) -> None:
        A = as_float_array(A, "A", ndim=(2,))
        n = A.shape[0]
        if n < 1 or A.shape != (n, n):
            raise DataError(f"A: must be square and non-empty, got shape {A.shape}")
        B = as_float_array(B, "B", ndim=(1, 2))
        B = B.reshape(n, -1) if B.ndim == 1 else B
        C = as_float_array(C, "C", ndim=(1, 2))
        C = C.reshape(-1, n) if C.ndim == 1 else C
        if B.shape[0] != n:
            raise DataError(f"B: must have {n} rows (the order of A), got shape {B.shape}")
        if C.shape[1] != n:
            raise DataError(f"C: must have {n} columns (the order of A), got shape {C.shape}")
        p, m = C.shape[0], B.shape[1]
        D = as_float_array(D, "D")
        if D.size == 1 and D.ndim < 2 and (p * m == 1 or float(D.ravel()[0]) == 0.0):
            D = np.full((p, m), float(D.ravel()[0]))  # a SISO scalar, or 0 for any shape
        D = _matrix(D, "D", (p, m))
        self.A, self.B, self.C, self.D = (np.ascontiguousarray(M) for M in (A, B, C, D))
        self.dt = None if dt is None else check_float(dt, "dt", low=0.0, low_open=True)

    # ------------------------------------------------------------------ shape
    @property
    def order(self) -> int:
        """State dimension."""
        return int(self.A.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of inputs ``m``."""
        return int(self.B.shape[1])

    @property
    def n_outputs(self) -> int:
        """Number of outputs ``p``."""
        return int(self.C.shape[0])

    @property
    def is_siso(self) -> bool:
        """One input and one output."""
        return self.n_inputs == 1 and self.n_outputs == 1

    # ------------------------------------------------------------------ simulation
    def _inputs(self, u: Any, sequences: Any = None) -> tuple[np.ndarray, bool, bool]:
        """Canonical ``(N, T, m)`` inputs, plus (was one record, squeeze the output)."""
        m = self.n_inputs
        arr = as_float_array(u, "u", ndim=(1, 2, 3))  # ragged lists: a DataError, not numpy's
        if arr.size == 0:
            raise DataError("u: the input sequence is empty")
        seq = _sequences_flag(arr, self.is_siso, sequences)  # warns on a tall SISO array
        fits = (arr.ndim == 3 or (self.is_siso and arr.ndim == 2)) if seq else arr.ndim <= 2
        if not fits:
            want = "(N, T, m) or, SISO, (N, T)" if seq else "(T,) or (T, m)"
            raise DataError(f"u: sequences={seq} needs {want} inputs, got shape {arr.shape}")
        if self.is_siso and arr.ndim in (1, 2):
            if arr.ndim == 2 and not seq:  # (T, 1): one record, as CanonicalSystem
                if arr.shape[1] != 1:
                    raise DataError(
                        f"u: one record for this single-input model is (T,) or (T, 1), got "
                        f"{arr.shape}"
                    )
                return arr.reshape(1, -1, 1), True, False
            return arr.reshape(-1, arr.shape[-1], 1), arr.ndim == 1, True
        if arr.ndim == 1:
            if m != 1:
                raise DataError(f"u: must have shape (T, {m}) for {m} inputs, got {arr.shape}")
            arr = arr[:, None]
        if arr.shape[-1] != m:
            raise DataError(
                f"u: last axis must hold the {m} inputs (time along axis 0), got {arr.shape}"
            )
        return arr.reshape(-1, arr.shape[-2], m), arr.ndim == 2, False

    def simulate(self, u: Any, *, x0: Any = None, sequences: bool | None = None) -> np.ndarray:
        """Output for input ``u``, from zero state or from ``x0``.

        Parameters
        ----------
        u : array_like
            SISO: ``(T,)`` or ``(T, 1)`` one record, ``(N, T)`` with ``T > 1``
            sequences (the rule of :meth:`CanonicalSystem.simulate`). Otherwise ``(T, m)``
            or ``(N, T, m)`` (``(T,)`` is accepted for one input; canonical ``(N, T, 1)``
            for SISO).
        x0 : array_like, optional
            Initial state ``(order,)``, or ``(N, order)`` one per sequence.
        sequences : bool, optional
            Whether ``u`` holds sequences (``(N, T)`` SISO, ``(N, T, m)``) or one record
            (``(T,)``, ``(T, m)``); by default read from the shape as above.

        Returns
        -------
        numpy.ndarray
            SISO: shaped like ``u``; otherwise ``(T, p)`` or ``(N, T, p)``.

        Raises
        ------
        DataError
            ``u`` or ``x0`` of the wrong shape or not finite, or a shape ``sequences``
            does not allow.

        Warns
        -----
        UnstableSystemWarning
            When the spectral radius is ``>= 1`` (the output grows with time).
        LayoutWarning
            ``sequences`` not given and a SISO ``u`` of more rows than columns read as
            sequences (more likely a record with too many input columns).

        Examples
        --------
        >>> StateSpaceSystem([[0.5]], [1.0], [1.0]).simulate(np.zeros(3), x0=[2.0])
        array([2. , 1. , 0.5])
        """
        u3, record, siso = self._inputs(u, sequences)
        if self.spectral_radius() >= 1.0:  # as CanonicalSystem.simulate
            warnings.warn(_unstable_message(self.spectral_radius()), UnstableSystemWarning, 2)
        N, T, _ = u3.shape
        if T == 0:
            raise DataError("u: the input sequence is empty")
        x0s = np.zeros((N, self.order)) if x0 is None else _given_x0(x0, N, self.order)
        y3 = _simulate3(self, u3, x0s)
        if siso:
            return y3[0, :, 0] if record else y3[..., 0]
        return y3[0] if record else y3

    def markov(self, k: int) -> np.ndarray:
        """Markov parameters ``r_0 = D``, ``r_j = C A^{j-1} B`` for ``j < k``.

        Parameters
        ----------
        k : int
            How many, ``>= 1``.

        Returns
        -------
        numpy.ndarray
            ``(k,)`` for SISO, ``(k, p, m)`` otherwise.

        Examples
        --------
        >>> StateSpaceSystem([[0.5]], [1.0], [1.0], 2.0).markov(3)
        array([2. , 1. , 0.5])
        """
        k = check_int(k, "k", low=1)
        r = np.zeros((k, self.n_outputs, self.n_inputs))
        r[0] = self.D
        AkB = self.B.copy()
        for j in range(1, k):  # loop over lags, not time
            r[j] = self.C @ AkB
            AkB = self.A @ AkB
        return r[:, 0, 0] if self.is_siso else r

    def frequency_response(self, w: Any) -> np.ndarray:
        """``G(e^{iw}) = C (e^{iw} I - A)^{-1} B + D`` at angular frequencies ``w`` (rad/sample).

        Parameters
        ----------
        w : array_like
            Frequencies, any shape.

        Returns
        -------
        numpy.ndarray
            Complex, ``w.shape`` for SISO, ``w.shape + (p, m)`` otherwise.

        Examples
        --------
        >>> g = StateSpaceSystem([[0.5]], [1.0], [1.0]).frequency_response([0.0])
        >>> np.round(g.real, 6)
        array([2.])
        """
        w_arr = as_float_array(w, "w")
        z = np.exp(1j * w_arr.ravel())
        # eigen-decomposition free: one batched solve for all frequencies
        M = z[:, None, None] * np.eye(self.order) - self.A
        G = self.C @ np.linalg.solve(M, np.broadcast_to(self.B, M.shape[:1] + self.B.shape))
        G = G + self.D
        G = G.reshape(w_arr.shape + G.shape[1:])
        return G[..., 0, 0] if self.is_siso else G

    def poles(self) -> np.ndarray:
        """Eigenvalues of ``A``.

        Returns
        -------
        numpy.ndarray
            ``(order,)`` complex poles.

        Examples
        --------
        >>> StateSpaceSystem([[0.5]], [1.0], [1.0]).poles()
        array([0.5+0.j])
        """
        return np.linalg.eigvals(self.A).astype(complex)

    def spectral_radius(self) -> float:
        """Largest pole magnitude (the system is stable when it is below 1).

        Returns
        -------
        float
            ``max |eig(A)|``.

        Examples
        --------
        >>> StateSpaceSystem([[0.5]], [[1.0]], [[1.0]]).spectral_radius()
        0.5
        """
        return float(np.max(np.abs(self.poles())))

    def is_stable(self) -> bool:
        """Whether every pole lies strictly inside the unit circle.

        Returns
        -------
        bool
            ``spectral_radius() < 1``.

        Examples
        --------
        >>> StateSpaceSystem([[1.5]], [[1.0]], [[1.0]]).is_stable()
        False
        """
        return self.spectral_radius() < 1.0

    # ------------------------------------------------------------------ conversion
    def to_dlti(self) -> signal.dlti:
        """The system as a ``scipy.signal`` discrete-time state-space model.

        The sample time is ``dt``, or ``True`` (scipy's "discrete, unspecified", which
        simulates and evaluates frequencies as ``dt = 1``) when unknown.

        Returns
        -------
        scipy.signal.dlti
            A ``StateSpaceDiscrete`` with these ``A, B, C, D``.

        Examples
        --------
        >>> from scipy import signal
        >>> sys_ = StateSpaceSystem([[0.5]], [[1.0, 0.0]], [[1.0], [2.0]], dt=0.1)
        >>> _, y, _ = signal.dlsim(sys_.to_dlti(), [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
        >>> y[:, 1], sys_.to_dlti().dt
        (array([0., 2., 1.]), 0.1)
        """
        return signal.dlti(self.A, self.B, self.C, self.D, dt=True if self.dt is None else self.dt)

    def to_control(self) -> Any:
        """The system as a python-control discrete-time ``StateSpace`` (optional extra).

        The sample time is ``dt``, or ``True`` (python-control's "discrete,
        unspecified") when unknown.

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
        >>> ctl = StateSpaceSystem([[0.5]], [[1.0, 0.0]], [[1.0]]).to_control()  # doctest: +SKIP
        >>> ctl.ninputs, ctl.noutputs, ctl.dt  # doctest: +SKIP
        (2, 1, True)
        >>> StateSpaceSystem([[0.5]], [[1.0, 0.0]], [[1.0]]).n_inputs
        2
        """
        control = _import_control()
        return control.ss(self.A, self.B, self.C, self.D, True if self.dt is None else self.dt)

    def with_dt(self, dt: float | None) -> StateSpaceSystem:
        """A copy with the sample time ``dt`` replaced (``None``: unknown).

        Parameters
        ----------
        dt : float or None
            Sample time in seconds.

        Returns
        -------
        StateSpaceSystem
            The same matrices with the new sample time.

        Examples
        --------
        >>> StateSpaceSystem([[0.5]], [1.0], [1.0]).with_dt(0.1).dt
        0.1
        """
        return StateSpaceSystem(self.A, self.B, self.C, self.D, dt=dt)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (lists of floats) that :meth:`from_dict` reads back.

        Returns
        -------
        dict
            Keys ``format``, ``version``, ``kind``, ``A``, ``B``, ``C``, ``D``, ``dt``.

        Examples
        --------
        >>> s = StateSpaceSystem([[0.5]], [1.0], [1.0])
        >>> StateSpaceSystem.from_dict(s.to_dict()).simulate(np.ones(2))
        array([0., 1.])
        """
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "kind": "StateSpaceSystem",
            "A": self.A.tolist(),
            "B": self.B.tolist(),
            "C": self.C.tolist(),
            "D": self.D.tolist(),
            "dt": self.dt,
        }

    def save(self, path: str | os.PathLike[str], **metadata: Any) -> Path:
        """Write the model as versioned JSON, atomically; keyword metadata is stored alongside.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (its folder must exist).
        **metadata
            JSON-safe extra fields (offsets, source, ...), stored under ``metadata``.

        Returns
        -------
        pathlib.Path
            The written file; :func:`learnlds.modelfile.load` reads it back.

        Raises
        ------
        ParameterError
            ``path`` is a folder, or its folder is missing or read-only.

        Examples
        --------
        >>> import os, tempfile
        >>> from learnlds.modelfile import load
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = StateSpaceSystem([[0.5]], [1.0], [1.0]).save(os.path.join(tmp, "m.json"))
        ...     load(p).order
        1
        """
        return atomic_write_text(path, _model_json(self.to_dict(), metadata))

    @classmethod
    def from_dict(cls, data: Any) -> StateSpaceSystem:
        """The system stored by :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            With keys ``A``, ``B``, ``C``, ``D`` (``dt`` optional).

        Returns
        -------
        StateSpaceSystem
            The system.

        Raises
        ------
        DataError
            ``data`` is not such a dict.

        Examples
        --------
        >>> StateSpaceSystem.from_dict({"A": [[0.1]], "B": [[1]], "C": [[1]], "D": [[0]]}).order
        1
        """
        if not isinstance(data, dict) or not all(k in data for k in "ABCD"):
            raise DataError("data: must be a dict with keys 'A', 'B', 'C', 'D'")
        return cls(data["A"], data["B"], data["C"], data["D"], dt=data.get("dt"))

    @classmethod
    def from_canonical(cls, system: CanonicalSystem) -> StateSpaceSystem:
        """The state-space form of a :class:`~learnlds.systems.CanonicalSystem`.

        Parameters
        ----------
        system : CanonicalSystem
            Any canonical system (MIMO ones have ``order * m`` states).

        Returns
        -------
        StateSpaceSystem
            The same input-output map.

        Raises
        ------
        ParameterError
            ``system`` is not a CanonicalSystem.

        Examples
        --------
        >>> cs = CanonicalSystem([-0.5], [1.0])
        >>> StateSpaceSystem.from_canonical(cs).simulate(np.ones(3))
        array([0. , 1. , 1.5])
        """
        if not isinstance(system, CanonicalSystem):
            raise ParameterError(f"system: must be a CanonicalSystem, got {type(system).__name__}")
        return cls(*system.to_state_space())

    def to_canonical(self) -> CanonicalSystem:
        """The controllable canonical form of this SISO system.

        Returns
        -------
        CanonicalSystem
            The same transfer function.

        Raises
        ------
        UnsupportedShapeError
            The system is not SISO.

        Examples
        --------
        >>> StateSpaceSystem([[0.5]], [1.0], [2.0]).to_canonical().c
        array([2.])
        """
        if not self.is_siso:
            raise UnsupportedShapeError(
                f"system: the canonical form is single-input single-output; this one has "
                f"{self.n_inputs} inputs and {self.n_outputs} outputs"
            )
        return CanonicalSystem.from_state_space(self.A, self.B, self.C, self.D)

    def __repr__(self) -> str:
        return (
            f"StateSpaceSystem(order={self.order}, n_inputs={self.n_inputs}, "
            f"n_outputs={self.n_outputs}, spectral_radius={self.spectral_radius():.4g})"
        )


# --------------------------------------------------------------------------- internals
def _check_state_space(system: Any) -> StateSpaceSystem:
    """``system`` if it is a :class:`StateSpaceSystem`, else a ParameterError naming it."""
    if not isinstance(system, StateSpaceSystem):
        raise ParameterError(f"system: must be a StateSpaceSystem, got {type(system).__name__}")
    return system


def input_delays(delay: Any, n_inputs: int) -> np.ndarray:
    """Checked per-input delays: one int ``>= 0`` for all inputs, or one per input.

    Parameters
    ----------
    delay : int or sequence of int
        Samples of dead time: an int for every input, or a sequence of exactly
        ``n_inputs`` (a one-element list for two inputs is refused, not broadcast).
    n_inputs : int
        Inputs of the model.

    Returns
    -------
    numpy.ndarray
        ``(n_inputs,)`` ints.

    Raises
    ------
    ParameterError
        A negative or non-integer delay, a sequence of the wrong length, or
        ``n_inputs`` not an integer ``>= 1``.

    Examples
    --------
    >>> input_delays(2, 3)
    array([2, 2, 2])
    """
    n_inputs = check_int(n_inputs, "n_inputs", low=1)  # type: ignore[assignment]
    values = np.atleast_1d(np.asarray(delay, dtype=object))
    scalar = np.ndim(np.asarray(delay, dtype=object)) == 0
    if values.ndim != 1 or not (scalar or values.size == n_inputs):
        raise ParameterError(
            f"input_delay: give one int for all inputs or a sequence with one per input "
            f"({n_inputs}), got {delay!r}"
        )
    ints = [check_int(v, "input_delay", low=0) for v in values]
    return np.array(ints * n_inputs if scalar else ints, dtype=int)


def with_input_delay(system: StateSpaceSystem, delay: Any) -> StateSpaceSystem:
    """The system with ``delay[j]`` samples of dead time on input ``j``, as extra states.

    ``y = G(z) diag(z^-d_j) u``: input ``j`` enters a chain of ``d_j`` unit delays whose
    last state drives ``G``'s column ``j`` (its ``B`` and ``D`` columns), so the result
    is an ordinary ``(A, B, C, D)`` of order ``order + sum(d)`` that simulates, exports
    and saves like any other (MATLAB's ``InputDelay`` folded into the states).

    Parameters
    ----------
    system : StateSpaceSystem
        The delay-free model.
    delay : int or sequence of int
        Samples of delay, one for all inputs or one per input.

    Returns
    -------
    StateSpaceSystem
        The delayed model (the same object when every delay is 0).

    Raises
    ------
    ParameterError
        Bad delays (see :func:`input_delays`), or delays whose states this machine's
        memory cannot hold.

    Examples
    --------
    >>> s = with_input_delay(StateSpaceSystem([[0.5]], [1.0], [1.0], 2.0), 2)
    >>> s.order, s.simulate(np.r_[1.0, np.zeros(4)])
    (3, array([0. , 0. , 2. , 1. , 0.5]))
    """
    system = _check_state_space(system)
    d = input_delays(delay, system.n_inputs)
    if not d.any():
        return system
    n, m, p, total = system.order, system.n_inputs, system.n_outputs, int(d.sum())
    size = f"the delayed model's {n + total} x {n + total} state matrix ({total} delay states)"
    check_memory(8.0 * (n + total) ** 2, "delay", size)
    A = np.zeros((n + total, n + total))
    B = np.zeros((n + total, m))
    C = np.zeros((p, n + total))
    D = np.zeros((p, m))
    A[:n, :n], C[:, :n] = system.A, system.C
    start = n
    for j in range(m):
        if d[j] == 0:
            B[:n, j], D[:, j] = system.B[:, j], system.D[:, j]
            continue
        chain = np.arange(start, start + d[j])
        B[chain[0], j] = 1.0  # u_j enters the chain
        A[chain[1:], chain[:-1]] = 1.0  # and moves one state per sample
        A[:n, chain[-1]], C[:, chain[-1]] = system.B[:, j], system.D[:, j]  # out after d_j
        start += d[j]
    return StateSpaceSystem(A, B, C, D, dt=system.dt)


def _given_x0(x0: Any, N: int, n: int) -> np.ndarray:
    """``x0`` as ``(N, n)``: exactly ``(n,)`` (shared by the sequences) or ``(N, n)``,
    never broadcast from another shape (a wrong length is a mistake, not a shorthand)."""
    arr = as_float_array(x0, "x0", ndim=(1, 2))
    if arr.shape not in ((n,), (N, n)):
        raise DataError(
            f"x0: must have shape ({n},) or ({N}, {n}) for a model of order {n} and {N} "
            f"sequence(s), got {arr.shape}"
        )
    return np.broadcast_to(arr, (N, n)).copy()


def _simulate3(system: StateSpaceSystem, u3: np.ndarray, x0s: np.ndarray) -> np.ndarray:
    """Outputs ``(N, T, p)`` for canonical inputs and per-sequence initial states."""
    N, T, _ = u3.shape
    y3 = np.empty((N, T, system.n_outputs))
    for i in range(N):  # loop over sequences; the time loop is compiled
        ss_simulate(
            system.A, system.B, system.C, system.D, np.ascontiguousarray(u3[i]), x0s[i], y3[i]
        )
    return y3


def normal_equations(
    system: StateSpaceSystem,
    u3: np.ndarray,
    y3: np.ndarray,
    x0s: np.ndarray | None,
    flags: tuple[int, int, int, int, int],
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(J^T J, J^T r, r^T r)`` for the residual ``r = y - yhat``, chunk by chunk.

    Columns: the switched-on blocks of ``A, B, C, D`` (shared by all sequences), then
    ``order`` initial-state columns per sequence when ``flags[4]``.
    """
    shared, nx = _jacobian_width(system, flags)
    P = shared + u3.shape[0] * nx
    JtJ, Jtr, sse = np.zeros((P, P)), np.zeros(P), 0.0
    for i, t0, J, yhat in _jacobian_blocks(system, u3, x0s, flags):
        r = (_block(y3, i, t0, t0 + yhat.shape[0]) - yhat).ravel()
        H, g = dsyrk(1.0, J.T, trans=0), J.T @ r  # upper triangle of J^T J
        sse += float(r @ r)
        if nx:  # the shared columns, then this sequence's initial state (increasing)
            idx = np.concatenate((np.arange(shared), shared + i * nx + np.arange(nx)))
            JtJ[np.ix_(idx, idx)] += H
            Jtr[idx] += g
        else:
            JtJ += H
            Jtr += g
    return np.triu(JtJ) + np.triu(JtJ, 1).T, Jtr, sse


def _jacobian_width(system: StateSpaceSystem, flags: Any) -> tuple[int, int]:
    """Columns of the switched-on ``A, B, C, D`` blocks, and initial-state columns per sequence."""
    n, m, p = system.order, system.n_inputs, system.n_outputs
    shared = (n * n) * flags[0] + (n * m) * flags[1] + (p * n) * flags[2] + (p * m) * flags[3]
    return int(shared), n if flags[4] else 0


def _jacobian_blocks(system: StateSpaceSystem, u3: Any, x0s: np.ndarray | None, flags: Any) -> Any:
    """``(sequence, start, J, yhat)``: exact output-Jacobian rows a chunk of time at a time.

    ``J`` (``len(yhat) * p`` rows, time-major; columns as in :func:`normal_equations`,
    this sequence's initial state last) is a reused buffer: read it before the next
    chunk. The state and its sensitivities carry over between chunks of a sequence.
    """
    n, m, p = system.order, system.n_inputs, system.n_outputs
    N, T = u3.shape[:2]
    shared, nx = _jacobian_width(system, flags)
    ps = (n * n) * flags[0] + (n * m) * flags[1] + nx  # state-carrying columns
    fl = np.asarray(flags, dtype=np.int64)
    steps = max(64, _JAC_ELEMENTS // (p * max(1, shared + nx)))  # time steps per chunk
    Jbuf = np.empty((min(T, steps) * p, shared + nx))
    for i in range(N):  # loop over sequences and chunks; the time loop is compiled
        x = np.zeros(n) if x0s is None else x0s[i].copy()
        X = np.zeros((n, ps))
        if nx:
            X[:, ps - nx :] = np.eye(n)
        for t0 in range(0, T, steps):
            uc = _block(u3, i, t0, t0 + steps)
            J = Jbuf[: uc.shape[0] * p]
            J.fill(0.0)
            yhat = np.empty((uc.shape[0], p))
            ss_jacobian_chunk(system.A, system.B, system.C, system.D, uc, x, X, fl, J, yhat)
            yield i, t0, J, yhat


def linear_bdx0(
    A: np.ndarray,
    C: np.ndarray,
    u3: np.ndarray,
    y3: np.ndarray,
    *,
    estimate_x0: bool = True,
    ridge: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``B``, ``D`` and initial states minimising the simulation error for fixed ``(A, C)``.

    The output is linear in ``(B, D, x0)``; the regressors are the Jacobian columns
    (computed at ``B = D = 0``), solved with a relative ridge for ill-conditioned data.
    Returns ``B`` (n, m), ``D`` (p, m), ``x0s`` (N, n).
    """
    n, p, (N, _, m) = A.shape[0], C.shape[0], u3.shape
    zero = StateSpaceSystem(A, np.zeros((n, m)), C, np.zeros((p, m)))
    x0s = np.zeros((N, n))
    H, g, _ = normal_equations(zero, u3, y3, x0s, (0, 1, 0, 1, int(estimate_x0)))
    theta = _ridge_solve(H, g, ridge)
    B = theta[: n * m].reshape(n, m)
    D = theta[n * m : n * m + p * m].reshape(p, m)
    if estimate_x0:
        x0s = theta[n * m + p * m :].reshape(N, n)
    return B, D, x0s


def _ridge_solve(H: np.ndarray, g: np.ndarray, ridge: float) -> np.ndarray:
    """Solve ``(H + ridge * mean(diag H) I) x = g`` robustly."""
    lam = ridge * max(float(np.mean(np.diag(H))), np.finfo(float).tiny)
    try:
        return np.linalg.solve(H + lam * np.eye(H.shape[0]), g)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H + lam * np.eye(H.shape[0]), g, rcond=None)[0]


def stabilize_matrix(A: np.ndarray, radius: float = 0.995) -> np.ndarray:
    """``A`` with every eigenvalue outside ``radius`` reflected inside (``1 / conj``), shrunk.

    Conjugate pairs stay pairs, so the result is real. A defective or badly
    conditioned eigenbasis falls back to scaling ``A`` by ``radius / rho(A)``.
    """
    lam, V = np.linalg.eig(A)
    mag = np.abs(lam)
    if np.all(mag < radius):
        return A
    new = np.where(mag >= 1.0, 1.0 / np.conj(lam), lam)
    mag2 = np.abs(new)
    new = np.where(mag2 > radius, new * radius / np.maximum(mag2, 1e-300), new)
    if np.linalg.cond(V) < 1e8:
        A2 = np.real(V @ np.diag(new) @ np.linalg.inv(V))
        if np.max(np.abs(np.linalg.eigvals(A2))) < 1.0:
            return np.ascontiguousarray(A2)
    return A * (radius / np.max(mag))


def _blocks(arr3: Any, size: int | None = None) -> Any:
    """``(sequence, start, block)`` over a canonical record, :data:`_SIM_CHUNK` steps a block."""
    N, T = arr3.shape[:2]
    size = size or _SIM_CHUNK
    for i in range(N):
        for t0 in range(0, T, size):
            yield i, t0, _block(arr3, i, t0, t0 + size)


def _channel_scales(arr3: Any) -> np.ndarray:
    """Per-channel standard deviation (1 where zero) of canonical data, a block at a time
    (:func:`learnlds.records.streaming_moments`, unchecked: past the front door)."""
    return _streaming_stats(arr3, True, True, check=False)[1]


def _rescale(system: StateSpaceSystem, su: np.ndarray, sy: np.ndarray) -> StateSpaceSystem:
    """The system acting on ``u / su`` and producing ``y / sy`` (inverse: pass 1/su, 1/sy)."""
    return StateSpaceSystem(
        system.A,
        system.B * su[None, :],
        system.C / sy[:, None],
        system.D * su[None, :] / sy[:, None],
    )


def _simulated_blocks(system: StateSpaceSystem, u3: Any, x0s: np.ndarray) -> Any:
    """``(sequence, start, yhat block)`` of the simulation from ``x0s``, a block at a time.

    The state carries over from block to block within a sequence: memory ``O(block p)``.
    """
    x = x0s[0]
    for i, t0, ub in _blocks(u3):
        yb = np.empty((ub.shape[0], system.n_outputs))
        x = x0s[i] if t0 == 0 else x
        x = ss_simulate(system.A, system.B, system.C, system.D, ub, x, yb)
        yield i, t0, yb


def _state_covariance(system: StateSpaceSystem, u3: Any, x0s: np.ndarray) -> np.ndarray:
    """Mean ``x_t x_t^T`` of the simulated state, a block at a time."""
    n = system.order
    probe = StateSpaceSystem(system.A, system.B, np.eye(n), np.zeros((n, system.n_inputs)))
    P, count = np.zeros((n, n)), 0
    for _, _, X in _simulated_blocks(probe, u3, x0s):  # the state is the probe's output
        P += X.T @ X
        count += X.shape[0]
    return P / max(count, 1)


def _whiten(
    system: StateSpaceSystem, u3: Any, x0s: np.ndarray
) -> tuple[StateSpaceSystem, np.ndarray, np.ndarray]:
    """Similarity transform giving the simulated state unit covariance.

    Jacobian columns of ``A`` and ``C`` scale with the state, those of ``B``/``D`` with
    the (unit-scaled) input: with a white state every block is of order one, which
    is what makes the Levenberg-Marquardt normal equations well conditioned.
    """
    P = _state_covariance(system, u3, x0s)
    P += 1e-8 * max(float(np.trace(P)) / system.order, 1e-300) * np.eye(system.order)
    try:
        L = np.linalg.cholesky(P)
    except np.linalg.LinAlgError:
        return system, x0s, np.eye(system.order)
    Li = np.linalg.inv(L)
    out = StateSpaceSystem(Li @ system.A @ L, Li @ system.B, system.C @ L, system.D)
    return out, x0s @ Li.T, L


def _pack(system: StateSpaceSystem, x0s: np.ndarray, estimate_x0: bool) -> np.ndarray:
    parts = [system.A.ravel(), system.B.ravel(), system.C.ravel(), system.D.ravel()]
    if estimate_x0:
        parts.append(x0s.ravel())
    return np.concatenate(parts)


def _unpack(
    theta: np.ndarray, n: int, m: int, p: int, x0s: np.ndarray, estimate_x0: bool
) -> tuple[StateSpaceSystem, np.ndarray]:
    o1, o2, o3 = n * n, n * n + n * m, n * n + n * m + p * n
    o4 = o3 + p * m
    system = StateSpaceSystem(
        theta[:o1].reshape(n, n),
        theta[o1:o2].reshape(n, m),
        theta[o2:o3].reshape(p, n),
        theta[o3:o4].reshape(p, m),
    )
    return system, (theta[o4:].reshape(x0s.shape) if estimate_x0 else x0s)


def _gauge_complement(system: StateSpaceSystem, x0s: np.ndarray, estimate_x0: bool) -> np.ndarray:
    """Orthonormal basis of the parameter directions orthogonal to the similarity orbit.

    A similarity ``T = I + eps E`` moves ``(A, B, C, D, x0)`` along
    ``(EA - AE, EB, -CE, 0, E x0)``; those ``order^2`` directions leave the
    input-output map unchanged, so ``J^T J`` is singular along them. Searching only
    in the complement (data-driven local coordinates) removes the singularity.
    """
    n, m, p = system.order, system.n_inputs, system.n_outputs
    A, B, C = system.A, system.B, system.C
    cols = []
    for a in range(n):  # n^2 tangent directions (n <= a few dozen)
        for b in range(n):
            E = np.zeros((n, n))
            E[a, b] = 1.0
            parts = [(E @ A - A @ E).ravel(), (E @ B).ravel(), (-C @ E).ravel(), np.zeros(p * m)]
            if estimate_x0:
                parts.append((x0s @ E.T).ravel())
            cols.append(np.concatenate(parts))
    M = np.array(cols).T
    U, s, _ = np.linalg.svd(M, full_matrices=True)
    rank = int(np.sum(s > 1e-10 * max(s[0], 1e-300)))
    return U[:, rank:]


def _sse(
    system: StateSpaceSystem,
    u3: Any,
    y3: Any,
    x0s: np.ndarray,
    prior: np.ndarray | None = None,
) -> float:
    """Sum of squared simulation errors, plus ``sum_i x0_i^T prior x0_i`` when given."""
    total = 0.0
    for i, t0, yb in _simulated_blocks(system, u3, x0s):
        r = _block(y3, i, t0, t0 + yb.shape[0]) - yb
        total += float(np.sum(r * r))
    return total + _prior_penalty(x0s, prior)


def _output_sse(system: StateSpaceSystem, u3: Any, y3: Any, x0s: np.ndarray) -> np.ndarray:
    """Sum of squared simulation errors per output."""
    sse = np.zeros(system.n_outputs)
    for i, t0, yb in _simulated_blocks(system, u3, x0s):
        sse += np.sum((_block(y3, i, t0, t0 + yb.shape[0]) - yb) ** 2, axis=0)
    return sse


def _prior_penalty(x0s: np.ndarray, prior: np.ndarray | None) -> float:
    return 0.0 if prior is None else float(np.sum((x0s @ prior) * x0s))


def _add_prior(
    H: np.ndarray, g: np.ndarray, sse: float, x0s: np.ndarray, prior: np.ndarray | None
) -> float:
    """Add the Gaussian initial-state prior to the normal equations (in place)."""
    if prior is None:
        return sse
    N, n = x0s.shape
    off = H.shape[0] - N * n
    for i in range(N):  # loop over sequences
        sl = slice(off + i * n, off + (i + 1) * n)
        H[sl, sl] += prior
        g[sl] -= prior @ x0s[i]
    return sse + _prior_penalty(x0s, prior)


def _lm_step(
    system: StateSpaceSystem,
    x0s: np.ndarray,
    u3: np.ndarray,
    y3: np.ndarray,
    H: np.ndarray,
    g: np.ndarray,
    sse: float,
    lam: float,
    estimate_x0: bool,
    prior: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
) -> tuple[StateSpaceSystem, np.ndarray, float, float] | None:
    """One accepted damped Gauss-Newton step in the gauge complement, or None.

    The damping grows until the step lowers the loss and keeps ``rho(A) < 1``;
    ``None`` when no damping up to 1e10 does (a local minimum). ``fixed`` indexes
    parameters (of ``A, B, C, D``) that stay where they are.
    """
    n, m, p = system.order, system.n_inputs, system.n_outputs
    Q = _gauge_complement(system, x0s, estimate_x0)
    if fixed is not None:  # the gauge leaves D alone, so its fixed entries lie in span(Q)
        Q[fixed] = 0.0
        U, sv, _ = np.linalg.svd(Q, full_matrices=False)
        Q = U[:, sv > 0.5]
    Hr, gr = Q.T @ H @ Q, Q.T @ g
    dH = np.diag(Hr).copy()
    dH += 1e-9 * max(float(np.mean(dH)), 1e-300)
    theta = _pack(system, x0s, estimate_x0)
    while lam <= 1e10:
        try:
            step = np.linalg.solve(Hr + lam * np.diag(dH), gr)
        except np.linalg.LinAlgError:
            lam *= 10.0
            continue
        cand, cx0 = _unpack(theta + Q @ step, n, m, p, x0s, estimate_x0)
        if np.all(np.isfinite(cand.A)) and cand.spectral_radius() < _STABLE:
            new = _sse(cand, u3, y3, cx0, prior)
            if np.isfinite(new) and new < sse:
                return cand, cx0, new, lam
        lam *= 10.0
    return None


def _levenberg_marquardt(
    system: StateSpaceSystem,
    x0s: np.ndarray,
    u3: np.ndarray,
    y3: np.ndarray,
    estimate_x0: bool,
    max_iter: int,
    tol: float,
    prior: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
) -> tuple[StateSpaceSystem, np.ndarray, dict[str, Any]]:
    """Minimise the simulation error from ``system`` (scaled units, stable start).

    ``prior`` (order x order, or None) adds ``x0_i^T prior x0_i`` per sequence: a
    Gaussian prior on the initial states (MAP instead of least squares). ``fixed``:
    parameter indices held where they are.
    """
    flags = (1, 1, 1, 1, int(estimate_x0))
    size = float(y3.size)
    H, g, sse = normal_equations(system, u3, y3, x0s, flags)
    sse = _add_prior(H, g, sse, x0s, prior)
    history, lam, stop, it = [sse / size], 1e-3, "max_iter", 0
    while it < max_iter:
        out = _lm_step(system, x0s, u3, y3, H, g, sse, lam, estimate_x0, prior, fixed)
        if out is None:
            stop = "no_progress"
            break
        it += 1
        system, x0s, new, lam = out
        rel = (sse - new) / max(sse, 1e-300)
        sse, lam = new, max(lam / 10.0, 1e-9)
        history.append(sse / size)
        if rel < tol:
            stop = "tol"
            break
        if it % 10 == 0:  # re-condition the coordinates now and then
            system, x0s, L = _whiten(system, u3, x0s)
            prior = None if prior is None else L.T @ prior @ L  # same penalty, new coordinates
        H, g, sse = normal_equations(system, u3, y3, x0s, flags)
        sse = _add_prior(H, g, sse, x0s, prior)
    info = {
        "loss_history": np.asarray(history),
        "n_iter": it,
        "converged": stop != "max_iter",
        "stop_reason": stop,
        "loss": history[-1],
    }
    return system, x0s, info


def _check_start(start: Any, order: int, m: int, p: int) -> StateSpaceSystem:
    if isinstance(start, CanonicalSystem):
        start = StateSpaceSystem.from_canonical(start)
    if not isinstance(start, StateSpaceSystem):
        raise ParameterError(
            f"start: must be None, 'subspace', 'arx', 'zero' or a StateSpaceSystem, got "
            f"{type(start).__name__}"
        )
    if (start.order, start.n_inputs, start.n_outputs) != (order, m, p):
        raise ParameterError(
            f"start: has order {start.order} with {start.n_inputs} inputs and "
            f"{start.n_outputs} outputs; the fit needs order {order}, {m} inputs, {p} outputs"
        )
    return start


def _fit_scaled(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    x0_mode: str,
    max_iter: int,
    tol: float,
    start: Any,
    fixed: np.ndarray | None = None,
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """The body of :func:`fit_state_space` (simulation error) once its arguments are checked."""
    N, _, m = u3.shape
    est = x0_mode != "zero"
    start = _check_start(start, order, m, y3.shape[2])
    su, sy = _channel_scales(u3), _channel_scales(y3)
    us, ys = _divide(u3, su), _divide(y3, sy)
    system = _rescale(start, su, sy)  # acts on scaled data
    system = StateSpaceSystem(stabilize_matrix(system.A), system.B, system.C, system.D)
    x0s = _initial_states(system, us, ys) if est else np.zeros((N, order))
    system, x0s, _ = _whiten(system, us, x0s)
    prior = None
    if x0_mode == "prior":  # state covariance is I here; weight by the start's residual
        prior = (_sse(system, us, ys, np.zeros_like(x0s)) / ys.size) * np.eye(order)
        x0s = _map_initial_states(system, us, ys, prior)
    system, x0s, info = _levenberg_marquardt(system, x0s, us, ys, est, max_iter, tol, prior, fixed)
    info["x0"] = x0s
    return _rescale(system, 1.0 / su, 1.0 / sy), info


def _fit_predictor(
    u3: np.ndarray,
    y3: np.ndarray,
    order: int,
    x0_mode: str,
    max_iter: int,
    tol: float,
    start: Any,
    gain: np.ndarray | None = None,
) -> tuple[StateSpaceSystem, dict[str, Any]]:
    """Prediction-error fit of the innovations form; returns the simulation model.

    The one-step predictor of ``x+ = A x + B u + K e``, ``y = C x + D u + e`` is the
    state-space system ``(A - K C, [B - K D, K], C, [D, 0])`` driven by ``[u, y]``: it
    is fitted like any system (the ``y`` columns of its feedthrough held at zero,
    the predictor kept stable), starting from ``gain`` (default ``K = 0``: the
    output-error model). ``A = A_K + K C`` is then stabilised (reflected) if needed.
    """
    N, _, m = u3.shape
    p = y3.shape[2]
    start = _check_start(start, order, m, p)
    K = np.zeros((order, p)) if gain is None else gain
    pred = StateSpaceSystem(
        start.A - K @ start.C,
        np.hstack((start.B - K @ start.D, K)),
        start.C,
        np.hstack((start.D, np.zeros((p, p)))),
    )
    o3 = order * order + order * (m + p) + p * order
    fixed = o3 + (np.arange(p)[:, None] * (m + p) + m + np.arange(p)[None, :]).ravel()
    ut = _concatenate(u3, y3)
    pred, info = _fit_scaled(ut, y3, order, x0_mode, max_iter, tol, pred, fixed)
    K = pred.B[:, m:]
    D = pred.D[:, :m]
    A = stabilize_matrix(pred.A + K @ pred.C)
    info["K"] = K
    return StateSpaceSystem(A, pred.B[:, :m] + K @ D, pred.C, D), info


def _check_canonical(u3: Any, y3: Any, order: int) -> tuple[Any, Any]:
    """Checked canonical data: small in-memory data as float arrays, long or on-disk
    records left where they are (checked for finite values a block at a time)."""
    u3, y3 = (a if _blockwise(a) else np.ascontiguousarray(a, dtype=float) for a in (u3, y3))
    if getattr(u3, "ndim", 0) != 3 or getattr(y3, "ndim", 0) != 3 or u3.shape[:2] != y3.shape[:2]:
        raise DataError(
            f"u3, y3: must be canonical (N, T, m) and (N, T, p) arrays, got "
            f"{getattr(u3, 'shape', None)} and {getattr(y3, 'shape', None)}"
        )
    if first_non_finite(u3, axis=1) is not None or first_non_finite(y3, axis=1) is not None:
        raise DataError("u3, y3: must be finite")
    _check_size(u3, y3, order)
    return u3, y3


def _check_size(u3: Any, y3: Any, order: int) -> None:
    """Refuse an ``order`` with at least as many parameters as output samples (parts of
    data already checked by :func:`_check_canonical` need only this)."""
    n_par = order * order + order * (u3.shape[2] + y3.shape[2]) + u3.shape[2] * y3.shape[2]
    size = y3.shape[0] * y3.shape[1] * y3.shape[2]
    if size <= n_par:
        raise DataError(f"order: {order} needs more than {n_par} output samples, got {size}")


def _initial_states(system: StateSpaceSystem, u3: np.ndarray, y3: np.ndarray) -> np.ndarray:
    """Least-squares initial states ``(N, order)`` for fixed ``(A, B, C, D)``."""
    H, g, _ = normal_equations(system, u3, y3, None, (0, 0, 0, 0, 1))  # r: zero-state error
    return _ridge_solve(H, g, 1e-10).reshape(u3.shape[0], system.order)


def _map_initial_states(
    system: StateSpaceSystem, u3: np.ndarray, y3: np.ndarray, prior: np.ndarray
) -> np.ndarray:
    """Initial states minimising ``||y - yhat||^2 + sum_i x0_i^T prior x0_i``."""
    N, n = u3.shape[0], system.order
    H, g, _ = normal_equations(system, u3, y3, None, (0, 0, 0, 0, 1))  # r: zero-state error
    return np.linalg.solve(H + np.kron(np.eye(N), prior), g).reshape(N, n)


def estimate_initial_state(
    system: StateSpaceSystem, u: Any, y: Any, *, sequences: bool = False
) -> np.ndarray:
    """Initial state that best explains ``y`` given ``u`` (least squares on the free response).

    Parameters
    ----------
    system : StateSpaceSystem
        The model.
    u, y : array_like
        One record ``(T,)``/``(T, m)`` and ``(T,)``/``(T, p)``, or sequences.
    sequences : bool
        Read ``u``, ``y`` as ``(N, T[, channels])`` sequences.

    Returns
    -------
    numpy.ndarray
        ``(order,)`` for one record, ``(N, order)`` for sequences.

    Raises
    ------
    ParameterError
        ``system`` is not a StateSpaceSystem.

    Examples
    --------
    >>> s = StateSpaceSystem([[0.5]], [1.0], [1.0])
    >>> y = s.simulate(np.zeros(20), x0=[3.0])
    >>> np.round(estimate_initial_state(s, np.zeros(20), y), 6)
    array([3.])
    """
    system = _check_state_space(system)
    io = as_io(
        u,
        y,
        sequences=sequences,
        n_inputs=system.n_inputs,
        n_outputs=system.n_outputs,
        require_y=True,
    )
    x0s = _initial_states(system, io.u, io.y)
    return x0s if io.sequences else x0s[0]
