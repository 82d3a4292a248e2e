"""How sure a fitted model is: parameter covariance and standard errors.

Canonical-form models (below) and general state-space models
(:func:`state_space_covariance`, :class:`StateSpaceCovariance`, whose entries are
defined up to a change of state basis) share the delta-method functions
:func:`frequency_response_std` and :func:`output_std`.

For the output-error least-squares fit (the loss of :func:`learnlds.train.gauss_newton`)
with white output noise of variance ``sigma^2``, the estimate is asymptotically normal
with covariance ``sigma^2 (J^T J)^{-1}``, where ``J`` is the exact Jacobian of the
simulated output after the burn-in with respect to the parameters, evaluated at the
solution, and ``sigma^2 = SSE / (samples - parameters)``. Uncertainty of anything
computed from the parameters follows by the delta method: ``var f = g^T cov g`` with
``g`` the gradient of ``f``.

Parameter order (that of :class:`learnlds.train.ParamLayout`): ``a_1..a_n``, then for
each output ``o`` the numerator entries ``c[k, o, i]`` (``k`` slow, input ``i`` fast)
followed by ``d[o, i]``; for a SISO model simply ``a_1..a_n, c_1..c_n, d``. Without a
learned ``d`` its entries are absent.

Examples
--------
>>> from learnlds import CanonicalSystem
>>> from learnlds.train import gauss_newton
>>> gen = np.random.default_rng(0)
>>> truth = CanonicalSystem([-0.5], [1.0], 0.2)
>>> u = gen.normal(size=400)
>>> y = truth.simulate(u) + 0.1 * gen.normal(size=400)
>>> fit = gauss_newton(u, y, order=1, region=None).model
>>> pc = parameter_covariance(fit, u, y, burn_in=0)
>>> pc.names, bool(np.all(pc.standard_errors < 0.02))
(('a_1', 'c_1', 'd'), True)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import signal

from ._boundary import (
    as_float_array,
    as_io,
    check_bool,
    check_float,
    check_int,
    resolve_burn_in,
)
from .errors import DataError, ParameterError
from .records import ScaledRecord, _dead_input, _LazyRecord
from .risk import _lagged, _mimo_parts
from .statespace import (
    StateSpaceSystem,
    _check_state_space,
    _gauge_complement,
    _given_x0,
    _jacobian_blocks,
    _output_sse,
    normal_equations,
)
from .systems import CanonicalSystem
from .train import LeastSquaresProblem

__all__ = [
    "FrequencyResponseStd",
    "ParameterCovariance",
    "StateSpaceCovariance",
    "frequency_response_std",
    "output_std",
    "parameter_covariance",
    "parameter_names",
    "parameter_vector",
    "scale_covariance",
    "state_space_covariance",
]

_RCOND = 1e-10  # relative eigenvalue cut of the scaled J^T J: parameter_covariance's rank test
_OVERFLOW = (
    "u, y: {what} overflows float64 (data of huge magnitude, or a model whose "
    "simulation blows up); rescale u and y (e.g. divide each channel by its standard "
    "deviation) and use the model fitted to the rescaled data"
)


# --------------------------------------------------------------------------- layout
def _as3(system: CanonicalSystem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(a, c3, d3)`` of shapes ``(n,)``, ``(n, p, m)``, ``(p, m)``."""
    if system.is_siso:
        return system.a, system.c[:, None, None], np.atleast_2d(system.d)
    return system.a, system.c, system.d


def _check_system(system: Any) -> CanonicalSystem:
    if not isinstance(system, CanonicalSystem):
        raise ParameterError(f"system: expected a CanonicalSystem, got {type(system).__name__}")
    return system


def _n_params(order: int, n_inputs: int, n_outputs: int, learn_d: bool) -> int:
    return order + n_outputs * n_inputs * (order + (1 if learn_d else 0))


def parameter_names(
    order: int, n_inputs: int = 1, n_outputs: int = 1, *, learn_d: bool = True
) -> tuple[str, ...]:
    """Names of the parameters in covariance order (``a_1..a_n, c_1..c_n, d`` for SISO).

    Parameters
    ----------
    order : int
        Model order ``n``.
    n_inputs, n_outputs : int, default 1
        Channels; MIMO names carry ``[output,input]`` indices.
    learn_d : bool, default True
        Whether the feed-through is among the parameters.

    Returns
    -------
    tuple of str
        One name per row of the covariance.

    Raises
    ------
    ParameterError
        ``order``, ``n_inputs`` or ``n_outputs`` not an integer ``>= 1``, or ``learn_d``
        not a bool.

    Examples
    --------
    >>> parameter_names(2)
    ('a_1', 'a_2', 'c_1', 'c_2', 'd')
    >>> parameter_names(1, 2, 1, learn_d=False)
    ('a_1', 'c_1[0,0]', 'c_1[0,1]')
    """
    order = check_int(order, "order", low=1)
    n_inputs = check_int(n_inputs, "n_inputs", low=1)
    n_outputs = check_int(n_outputs, "n_outputs", low=1)
    learn_d = check_bool(learn_d, "learn_d")
    names = [f"a_{k}" for k in range(1, order + 1)]
    siso = n_inputs == 1 and n_outputs == 1
    for o in range(n_outputs):
        idx = [(k, i) for k in range(1, order + 1) for i in range(n_inputs)]
        names += [f"c_{k}" if siso else f"c_{k}[{o},{i}]" for k, i in idx]
        if learn_d:
            names += ["d" if siso else f"d[{o},{i}]" for i in range(n_inputs)]
    return tuple(names)


def parameter_vector(system: CanonicalSystem, *, learn_d: bool = True) -> np.ndarray:
    """The parameters of ``system`` as one vector, in covariance order.

    Parameters
    ----------
    system : CanonicalSystem
        The model.
    learn_d : bool, default True
        Include the feed-through.

    Returns
    -------
    numpy.ndarray
        ``a_1..a_n, c_1..c_n, d`` for SISO (see the module notes for MIMO).

    Raises
    ------
    ParameterError
        ``system`` is not a CanonicalSystem.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> parameter_vector(CanonicalSystem([-0.5, 0.1], [1.0, 2.0], 0.3))
    array([-0.5,  0.1,  1. ,  2. ,  0.3])
    """
    a, c3, d3 = _as3(_check_system(system))
    learn_d = check_bool(learn_d, "learn_d")
    parts = [a]
    for o in range(c3.shape[1]):
        parts.append(c3[:, o, :].ravel())
        if learn_d:
            parts.append(d3[o])
    return np.concatenate(parts)


def _layout_of(system: CanonicalSystem, covariance: Any) -> tuple[np.ndarray, bool]:
    """The covariance as a square array and whether it includes ``d`` (read from its size)."""
    if isinstance(covariance, ParameterCovariance):
        covariance = covariance.covariance
    cov = as_float_array(covariance, "covariance", ndim=(2,))
    n, m, p = system.order, system.n_inputs, system.n_outputs
    sizes = {_n_params(n, m, p, True): True, _n_params(n, m, p, False): False}
    if cov.shape[0] != cov.shape[1] or cov.shape[0] not in sizes:
        raise DataError(
            f"covariance: shape {cov.shape} does not fit a model of order {n} with {m} inputs "
            f"and {p} outputs (expected a square matrix of size {' or '.join(map(str, sizes))})"
        )
    return _require_covariance(cov), sizes[cov.shape[0]]


_COV_RTOL = 1e-8  # relative tolerance of the symmetry and semi-definiteness checks


def _require_covariance(cov: np.ndarray) -> np.ndarray:
    """``cov`` if it is a covariance: symmetric and positive semi-definite up to rounding.

    A negative-definite or non-symmetric matrix would give negative variances that the
    delta method clips to zero, i.e. a silently wrong "certain" answer; both tests are
    relative to the matrix's largest entry (eigenvalue), so units do not matter.
    """
    peak = float(np.max(np.abs(cov), initial=0.0))
    asym = float(np.max(np.abs(cov - cov.T), initial=0.0))
    if asym > _COV_RTOL * peak:
        raise DataError(
            f"covariance: must be symmetric, but differs from its transpose by up to {asym:.3g} "
            f"(largest entry {peak:.3g})"
        )
    eig = np.linalg.eigvalsh((cov + cov.T) / 2) if cov.size else np.zeros(1)
    if eig[0] < -_COV_RTOL * max(float(np.max(np.abs(eig))), np.finfo(float).tiny):
        raise DataError(
            f"covariance: must be positive semi-definite, but has eigenvalue {eig[0]:.3g} "
            f"(largest {eig[-1]:.3g}); a covariance has no negative variances"
        )
    return cov


# --------------------------------------------------------------------------- covariance
@dataclass(frozen=True)
class _Covariance:
    """What both covariance results hold: the matrix, the noise behind it, the model's
    layout, and the standard errors it gives."""

    covariance: np.ndarray
    noise_variance: np.ndarray
    dof: int
    rank: int
    order: int
    n_inputs: int
    n_outputs: int

    @property
    def standard_errors(self) -> np.ndarray:
        """Square roots of the diagonal."""
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))


@dataclass(frozen=True)
class ParameterCovariance(_Covariance):
    """Covariance of a fitted model's parameters and what it was computed from.

    Parameters
    ----------
    covariance : numpy.ndarray, shape (n_params, n_params)
        ``sigma^2 (J^T J)^+`` (MIMO: the sandwich with one noise variance per output).
    noise_variance : numpy.ndarray, shape (n_outputs,)
        Residual variance per output, corrected for the parameters fitted.
    dof : int
        Scalar residuals minus parameters.
    rank : int
        Numerical rank of ``J^T J`` (``n_params`` when every parameter is identifiable).
    order, n_inputs, n_outputs : int
        The model's layout.
    learn_d : bool
        Whether ``d`` is among the parameters.

    Attributes
    ----------
    names : tuple of str
        Parameter names in covariance order.
    standard_errors : numpy.ndarray
        Square roots of the diagonal.

    Examples
    --------
    >>> pc = ParameterCovariance(np.diag([0.04, 0.01, 0.0]), np.array([0.1]), 97, 3, 1, 1, 1, True)
    >>> pc.standard_errors
    array([0.2, 0.1, 0. ])
    """

    learn_d: bool

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in covariance order (``a_1..a_n, c_1..c_n, d`` for SISO)."""
        return parameter_names(self.order, self.n_inputs, self.n_outputs, learn_d=self.learn_d)

    def to_units(self, input_scale: Any, output_scale: Any) -> ParameterCovariance:
        """The same covariance for the model in the user's units (see :func:`scale_covariance`).

        Parameters
        ----------
        input_scale, output_scale : array_like
            Per-channel scales ``su`` (``n_inputs``) and ``sy`` (``n_outputs``) the data
            were divided by before the fit.

        Returns
        -------
        ParameterCovariance
            Covariance and noise variance in the user's units.

        Examples
        --------
        >>> pc = ParameterCovariance(np.eye(3), np.array([0.1]), 97, 3, 1, 1, 1, True)
        >>> pc.to_units([2.0], [10.0]).standard_errors
        array([1., 5., 5.])
        """
        cov = scale_covariance(
            self.covariance, input_scale, output_scale, order=self.order, learn_d=self.learn_d
        )
        sy = as_float_array(output_scale, "output_scale", ndim=(0, 1)).reshape(-1)
        return ParameterCovariance(
            cov,
            self.noise_variance * sy**2,
            self.dof,
            self.rank,
            self.order,
            self.n_inputs,
            self.n_outputs,
            self.learn_d,
        )


def scale_covariance(
    covariance: Any, input_scale: Any, output_scale: Any, *, order: int, learn_d: bool = True
) -> np.ndarray:
    """Map a covariance computed in standardised units to the user's units.

    Fitting on ``u_s = u / su`` and ``y_s = y / sy`` gives ``c_s, d_s``; the model in
    the user's units has ``c[:, o, i] = c_s[:, o, i] sy[o] / su[i]`` (likewise ``d``),
    while ``a`` is unit-free. The covariance transforms as ``S cov S`` with
    ``S = diag(1 (a), sy[o] / su[i] (c, d))``. Centring changes no parameter.

    Parameters
    ----------
    covariance : array_like, shape (n_params, n_params)
        Covariance in standardised units, in :class:`ParameterCovariance` order.
    input_scale : array_like, shape (n_inputs,)
        The scales ``su`` the inputs were divided by.
    output_scale : array_like, shape (n_outputs,)
        The scales ``sy`` the outputs were divided by.
    order : int
        Model order ``n``.
    learn_d : bool, default True
        Whether ``d`` is among the parameters.

    Returns
    -------
    numpy.ndarray
        The covariance in the user's units.

    Raises
    ------
    DataError
        ``covariance`` does not have the size the layout implies, or a scale is not positive.
    ParameterError
        ``order`` not a positive integer.

    Examples
    --------
    >>> scale_covariance(np.eye(3), [2.0], [10.0], order=1)
    array([[ 1.,  0.,  0.],
           [ 0., 25.,  0.],
           [ 0.,  0., 25.]])
    """
    su = as_float_array(input_scale, "input_scale", ndim=(0, 1)).reshape(-1)
    sy = as_float_array(output_scale, "output_scale", ndim=(0, 1)).reshape(-1)
    if np.any(su <= 0) or np.any(sy <= 0):
        raise DataError("input_scale/output_scale: scales must be positive")
    n, m, p = check_int(order, "order", low=1), su.size, sy.size
    learn_d = check_bool(learn_d, "learn_d")
    cov = as_float_array(covariance, "covariance", ndim=(2,))
    size = _n_params(n, m, p, learn_d)
    if cov.shape != (size, size):
        raise DataError(
            f"covariance: expected shape ({size}, {size}) for order {n}, {m} inputs and "
            f"{p} outputs, got {cov.shape}"
        )
    gain = np.outer(sy, 1.0 / su)  # (p, m)
    per_output = [
        np.concatenate([np.tile(gain[o], n)] + ([gain[o]] if learn_d else [])) for o in range(p)
    ]
    s = np.concatenate([np.ones(n)] + per_output)
    with np.errstate(over="ignore"):  # a variance beyond float64 (gain ~1e300) is inf
        return cov * np.outer(s, s)


def _generalised_inverse(JtJ: np.ndarray, rcond: float) -> tuple[np.ndarray, int]:
    """``(J^T J)^+`` after diagonal scaling (unit-free rank test) and its numerical rank.

    An information matrix beyond float64 (data of magnitude ~1e300, or an unstable
    model's sensitivities) is a DataError asking for rescaled data, not a LinAlgError.
    """
    if not np.all(np.isfinite(JtJ)):
        raise DataError(_OVERFLOW.format(what="the information matrix J^T J"))
    diag = np.sqrt(np.diag(JtJ))
    diag = np.where(diag > 0, diag, 1.0)
    scaled = JtJ / np.outer(diag, diag)
    vals, vecs = np.linalg.eigh((scaled + scaled.T) / 2)
    keep = vals > rcond * max(float(vals[-1]), np.finfo(float).tiny)
    inv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
    return inv / np.outer(diag, diag), int(np.count_nonzero(keep))


def _sensitivities(
    system: CanonicalSystem, u3: np.ndarray, learn_d: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output sensitivities from zero state: ``(-W, F, yhat)``.

    ``d yhat[:, t, o] / d a_k = -W[:, t, k, o]``; ``d yhat[:, t, o]`` with respect to
    output ``o``'s block ``(c[:, o, :], d[o, :])`` is ``F[:, t, :]`` (the same for every
    output); the other blocks do not move output ``o``. As in
    :meth:`learnlds.train.LeastSquaresProblem.normal_equations`.
    """
    a, c3, d3 = _as3(system)
    n = a.shape[0]
    S, z, yhat = _mimo_parts(a, c3, d3, u3)
    w = signal.lfilter([1.0], np.concatenate(([1.0], a)), z, axis=1)
    W = _lagged(w, np.arange(1, n + 1))  # (N, T, n, p)
    feats = [S.reshape(S.shape[0], S.shape[1], -1)] + ([u3] if learn_d else [])
    return -W, np.concatenate(feats, axis=2), yhat


def _mimo_sandwich(
    system: CanonicalSystem,
    u3: np.ndarray,
    y3: np.ndarray,
    burn: int,
    inv: np.ndarray,
    learn_d: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """``H^+ (sum_o s_o^2 J_o^T J_o) H^+`` and ``s_o^2 = mean(r_o^2)``: a noise level per output."""
    dW, F, yhat = _sensitivities(system, u3, learn_d)
    r = (yhat - y3)[:, burn:]
    n, q, p = system.order, F.shape[2], r.shape[2]
    Fb = F[:, burn:].reshape(-1, q)
    middle = np.zeros_like(inv)
    sig2 = np.mean(r * r, axis=(0, 1))
    for o in range(p):  # loop over outputs, not time
        Jo = np.concatenate([dW[:, burn:, :, o].reshape(-1, n), Fb], axis=1)
        idx = np.r_[0:n, n + o * q : n + (o + 1) * q]
        middle[np.ix_(idx, idx)] += sig2[o] * (Jo.T @ Jo)
    return inv @ middle @ inv, sig2


def _least_squares_covariance(
    system: CanonicalSystem, prob: LeastSquaresProblem, dof: int, rcond: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(cov, noise variance per output, rank)`` at ``system`` for the problem's data."""
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        sse, JtJ, _ = prob.normal_equations(*_as3(system))
    if not np.isfinite(sse):
        raise DataError(_OVERFLOW.format(what="the sum of squared residuals"))
    inv, rank = _generalised_inverse(JtJ, rcond)
    if prob.n_outputs == 1:
        noise = np.array([sse / dof])
        cov = noise[0] * inv
    else:
        correction = prob.count * prob.n_outputs / dof
        cov, sig2 = _mimo_sandwich(system, prob.u, prob.y, prob.burn_in, inv, prob.learn_d)
        cov, noise = cov * correction, sig2 * correction
    return (cov + cov.T) / 2, noise, rank


def _problem(
    system: CanonicalSystem, u: Any, y: Any, burn_in: Any, learn_d: bool, sequences: Any
) -> tuple[LeastSquaresProblem, int]:
    """The least-squares problem of the fit and its residual degrees of freedom.

    A lazy :class:`~learnlds.records.ScaledRecord` pair (the estimator's standardised
    record on disk) is used as it is, streamed by the problem, never loaded whole.
    """
    if isinstance(u, ScaledRecord) and isinstance(y, ScaledRecord):
        length, n_outputs = u.shape[1], y.shape[2]
        burn = resolve_burn_in(burn_in, length)
        prob = LeastSquaresProblem(u, y, burn, system.order, learn_d)
    else:
        io = as_io(
            u,
            y,
            sequences=sequences,
            n_inputs=system.n_inputs,
            n_outputs=system.n_outputs,
            min_length=2,
            require_y=True,
        )
        n_outputs = io.n_outputs
        _require_excitation(io.u)
        burn = resolve_burn_in(burn_in, io.length)
        prob = LeastSquaresProblem(io.u, io.y, burn, system.order, learn_d)
    dof = prob.count * n_outputs - prob.n_params
    if dof <= 0:
        raise DataError(
            f"u, y: {prob.count * n_outputs} samples after a burn-in of {burn} cannot give "
            f"the uncertainty of {prob.n_params} parameters"
        )
    return prob, int(dof)


def _require_excitation(u3: np.ndarray) -> None:
    """A DataError naming the first input column that is zero throughout: it moves no
    output, so every parameter it drives is undetermined (infinite variance, not the
    zero variance a generalised inverse would report)."""
    k = _dead_input(u3)
    if k is not None:
        raise DataError(
            f"u: input column {k} (0-based) is zero throughout; it does not excite the model, "
            "so the parameters it drives are not determined by these data"
        )


def parameter_covariance(
    system: CanonicalSystem,
    u: Any,
    y: Any,
    *,
    burn_in: int | None = None,
    learn_d: bool = True,
    sequences: bool = False,
    rcond: float = _RCOND,
) -> ParameterCovariance:
    """Covariance of the least-squares parameters of ``system`` fitted to ``(u, y)``.

    ``cov = sigma^2 (J^T J)^+``, exact Jacobian at ``system`` (the least-squares solution
    on these data, e.g. from :func:`~learnlds.train.gauss_newton` with the same ``burn_in``),
    ``sigma^2 = SSE / (samples - parameters)``; MIMO: a sandwich with one noise variance
    per output. Pass the data in the units of the fit (standardised: see
    :meth:`ParameterCovariance.to_units`).

    Parameters
    ----------
    system : CanonicalSystem
        The fitted model.
    u, y : array_like
        Its estimation data: one record ``(T,)`` / ``(T, m)``, or with ``sequences=True``
        ``(N, T)`` / ``(N, T, m)``.
    burn_in : int or None, default None
        Samples of each sequence the fit left out of its loss; ``None`` means ``T // 4``.
    learn_d : bool, default True
        Whether ``d`` was fitted (else it is not a parameter).
    sequences : bool, default False
        Read the leading axis of ``u`` and ``y`` as the sequence index.
    rcond : float, default 1e-10
        Relative eigenvalue cut of the diagonally scaled ``J^T J`` (rank test).

    Returns
    -------
    ParameterCovariance
        The covariance (ordered ``a_1..a_n, c_1..c_n, d`` for SISO) and its ingredients.

    Raises
    ------
    ParameterError
        ``system`` is not a CanonicalSystem, or a bad ``burn_in``/``rcond``.
    DataError
        Data that do not fit the model, no more samples than parameters, an input
        column that is zero throughout or ``J^T J`` of rank 0 (nothing is determined),
        or values beyond float64 (rescale the data).

    Warns
    -----
    RuntimeWarning
        ``J^T J`` is rank deficient. The covariance is then the generalised inverse:
        the undetermined directions get *zero* variance (not infinite), so standard
        errors of the parameters along them are understated; only functions of the
        parameters that do not move along those directions (e.g. the response of a
        model with a cancelling pole-zero pair) keep valid errors. Check ``rank``.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> u = np.random.default_rng(1).normal(size=300)
    >>> y = CanonicalSystem([-0.5], [1.0]).simulate(u) + 0.05 * np.sin(np.arange(300))
    >>> pc = parameter_covariance(CanonicalSystem([-0.5], [1.0]), u, y, burn_in=0)
    >>> pc.covariance.shape, pc.dof, pc.rank
    ((3, 3), 297, 3)
    """
    system = _check_system(system)
    learn_d = check_bool(learn_d, "learn_d")
    rcond = check_float(rcond, "rcond", low=0.0, high=1.0)
    return _reported_rank(_parameter_covariance(system, u, y, burn_in, learn_d, sequences, rcond))


def _reported_rank(pc: ParameterCovariance) -> ParameterCovariance:
    """``pc``, refused at rank 0 (nothing determined: a zero variance everywhere would be
    a silently wrong "certain" answer) and warned about below full rank."""
    if pc.rank == 0:
        raise DataError(
            "u: J^T J is zero, so no parameter is determined by these data (the input "
            "does not excite the model)"
        )
    if pc.rank < len(pc.covariance):
        warnings.warn(
            f"parameter_covariance: J^T J has rank {pc.rank} < {len(pc.covariance)} "
            "parameters; some parameter combinations are not identifiable from these data "
            "(a cancelling pole-zero pair or an input that does not excite the system) and "
            "get zero variance in place of an infinite one: their standard errors are "
            "understated",
            RuntimeWarning,
            stacklevel=3,
        )
    return pc


def _parameter_covariance(
    system: CanonicalSystem,
    u: Any,
    y: Any,
    burn_in: Any,
    learn_d: bool,
    sequences: bool,
    rcond: float,
) -> ParameterCovariance:
    """:func:`parameter_covariance` of checked arguments, without its rank warning (the
    estimator says that in its own words)."""
    prob, dof = _problem(system, u, y, burn_in, learn_d, sequences)
    cov, noise, rank = _least_squares_covariance(system, prob, dof, rcond)
    return ParameterCovariance(
        cov, noise, int(dof), rank, system.order, system.n_inputs, system.n_outputs, learn_d
    )


# --------------------------------------------------------------------------- delta method
@dataclass(frozen=True)
class FrequencyResponseStd:
    """Frequency response with its delta-method standard errors.

    Parameters
    ----------
    w : numpy.ndarray
        Angular frequencies (rad/sample).
    response : numpy.ndarray
        ``G(e^{iw})`` (SISO: shaped like ``w``; MIMO: ``w.shape + (p, m)``).
    real, imag : numpy.ndarray
        Standard errors of the real and imaginary parts.
    magnitude : numpy.ndarray
        Standard error of ``|G|``.
    phase : numpy.ndarray
        Standard error of ``arg G`` in radians.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> sys_ = CanonicalSystem([-0.5], [1.0], 0.0)
    >>> fr = frequency_response_std(sys_, np.diag([1e-4, 1e-4, 0.0]), [0.0])
    >>> fr.response, fr.magnitude.round(4)
    (array([2.+0.j]), array([0.0447]))
    """

    w: np.ndarray
    response: np.ndarray
    real: np.ndarray
    imag: np.ndarray
    magnitude: np.ndarray
    phase: np.ndarray


def _response_gradient(system: CanonicalSystem, w: np.ndarray, learn_d: bool) -> np.ndarray:
    """``dG(e^{iw}) / d theta`` as ``(len(w), p, m, n_params)`` complex."""
    a, c3, d3 = _as3(system)
    n, p, m = a.shape[0], c3.shape[1], c3.shape[2]
    zinv = np.exp(-1j * w)
    powers = zinv[:, None] ** np.arange(1, n + 1)  # zinv^k, k = 1..n
    q = 1.0 + powers @ a  # Q(zinv) = 1 + sum a_k zinv^k
    strict = np.einsum("fk,kom->fom", powers[:, ::-1], c3) / q[:, None, None]  # c_k zinv^(n+1-k)
    grad = np.zeros((w.size, p, m, _n_params(n, m, p, learn_d)), dtype=complex)
    grad[..., :n] = -(powers / q[:, None])[:, None, None, :] * strict[..., None]
    block = n * m + (m if learn_d else 0)
    for o in range(p):  # loop over channels, not frequencies
        for i in range(m):
            start = n + o * block
            grad[:, o, i, start + i : start + n * m : m] = powers[:, ::-1] / q[:, None]
            if learn_d:
                grad[:, o, i, start + n * m + i] = 1.0
    return grad


def frequency_response_std(
    system: CanonicalSystem, covariance: Any, w: Any
) -> FrequencyResponseStd:
    """Standard errors of the frequency response ``G(e^{iw})`` by the delta method.

    With ``g = dG/d theta`` (exact, complex) the real and imaginary parts have variances
    ``Re(g)^T cov Re(g)`` and ``Im(g)^T cov Im(g)``; the magnitude and phase follow
    from the chain rule. Whether ``d`` is a parameter is read from the covariance size.

    Parameters
    ----------
    system : CanonicalSystem or StateSpaceSystem
        The fitted model.
    covariance : array_like, ParameterCovariance or StateSpaceCovariance
        Parameter covariance in the units of ``system``.
    w : array_like
        Angular frequencies in rad/sample (see :meth:`CanonicalSystem.frequency_axis`).

    Returns
    -------
    FrequencyResponseStd
        The response and the standard errors of its parts.

    Raises
    ------
    ParameterError
        ``system`` is neither a CanonicalSystem nor a StateSpaceSystem.
    DataError
        A covariance of the wrong size, not symmetric or not positive semi-definite, or
        non-finite frequencies.

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> fr = frequency_response_std(CanonicalSystem([-0.5], [1.0]), 1e-4 * np.eye(3), [0.0, 1.0])
    >>> fr.magnitude.shape, float(fr.phase[0])  # G(1) is real whatever the parameters
    ((2,), 0.0)
    """
    w_arr = as_float_array(w, "w")
    flat = w_arr.reshape(-1)
    if isinstance(system, StateSpaceSystem):
        cov = _state_space_layout(system, covariance)
        grad = _ss_response_gradient(system, flat)
    else:
        system = _check_system(system)
        cov, learn_d = _layout_of(system, covariance)
        grad = _response_gradient(system, flat, learn_d)
    gr, gi = grad.real, grad.imag
    c_rr = np.einsum("...k,kl,...l->...", gr, cov, gr)
    c_ii = np.einsum("...k,kl,...l->...", gi, cov, gi)
    c_ri = np.einsum("...k,kl,...l->...", gr, cov, gi)
    resp = system.frequency_response(flat)
    resp3 = resp.reshape(c_rr.shape)
    re, im = resp3.real, resp3.imag
    mag2 = np.maximum(re**2 + im**2, np.finfo(float).tiny)
    var_mag = (re**2 * c_rr + im**2 * c_ii + 2 * re * im * c_ri) / mag2
    var_phase = (im**2 * c_rr + re**2 * c_ii - 2 * re * im * c_ri) / mag2**2
    shape = w_arr.shape + (() if system.is_siso else (system.n_outputs, system.n_inputs))

    def out(var: np.ndarray) -> np.ndarray:
        return np.sqrt(np.clip(var, 0.0, None)).reshape(shape)

    return FrequencyResponseStd(
        w_arr, resp.reshape(shape), out(c_rr), out(c_ii), out(var_mag), out(var_phase)
    )


def output_std(
    system: CanonicalSystem, covariance: Any, u: Any, *, sequences: bool = False
) -> np.ndarray:
    """Standard error of the simulated output (zero state) by the delta method.

    ``var yhat_t = J_t cov J_t^T`` with ``J_t`` the output sensitivities (the rows of
    the fit's Jacobian). This is the uncertainty of the model's noiseless output, a
    confidence band; a prediction band for new measurements adds the noise variance
    (:attr:`ParameterCovariance.noise_variance`).

    Parameters
    ----------
    system : CanonicalSystem or StateSpaceSystem
        The fitted model.
    covariance : array_like, ParameterCovariance or StateSpaceCovariance
        Parameter covariance in the units of ``system`` (``d`` read from its size).
    u : array_like
        Inputs: one record ``(T,)`` / ``(T, m)``, or with ``sequences=True``
        ``(N, T)`` / ``(N, T, m)``.
    sequences : bool, default False
        Read the leading axis of ``u`` as the sequence index.

    Returns
    -------
    numpy.ndarray
        Standard errors laid out like :meth:`CanonicalSystem.simulate`'s output (SISO: the
        shape of ``u``; MIMO: ``(T, p)`` or ``(N, T, p)``).

    Raises
    ------
    ParameterError
        ``system`` is neither a CanonicalSystem nor a StateSpaceSystem.
    DataError
        A covariance of the wrong size, not symmetric or not positive semi-definite;
        inputs that do not fit the model; standard errors beyond float64 (an unstable
        model or inputs of huge magnitude).

    Examples
    --------
    >>> from learnlds import CanonicalSystem
    >>> sd = output_std(CanonicalSystem([-0.5], [1.0]), np.diag([0.0, 0.01, 0.0]), [1.0, 0.0, 0.0])
    >>> sd  # only c_1 is uncertain: yhat = c_1 (0, 1, 0.5)
    array([0.  , 0.1 , 0.05])
    """
    if isinstance(system, StateSpaceSystem):
        return _ss_output_std(system, _state_space_layout(system, covariance), u, sequences)
    system = _check_system(system)
    cov, learn_d = _layout_of(system, covariance)
    io = as_io(u, sequences=sequences, n_inputs=system.n_inputs)
    dW, F, _ = _sensitivities(system, io.u, learn_d)
    n, q = system.order, F.shape[2]
    var = np.empty(io.u.shape[:2] + (system.n_outputs,))
    for o in range(system.n_outputs):  # loop over outputs, not time
        Jo = np.concatenate([dW[..., o], F], axis=2)
        idx = np.r_[0:n, n + o * q : n + (o + 1) * q]
        var[..., o] = np.einsum("ntk,kl,ntl->nt", Jo, cov[np.ix_(idx, idx)], Jo)
    sd = _finite_std(var)
    return sd.reshape(np.shape(u)) if system.is_siso else io.to_user(sd)


def _finite_std(var: np.ndarray) -> np.ndarray:
    """Square roots of the (clipped) variances, or a DataError when they overflowed."""
    if not np.all(np.isfinite(var)):
        raise DataError(
            "u: the output standard errors overflow float64 (an unstable model, or inputs of "
            "huge magnitude); rescale u or check the model's stability"
        )
    return np.sqrt(np.clip(var, 0.0, None))


# --------------------------------------------------------------------------- state space
@dataclass(frozen=True)
class StateSpaceCovariance(_Covariance):
    """Covariance of a state-space model's entries ``vec(A), vec(B), vec(C), vec(D)``.

    A state-space model is defined up to a change of state basis, so ``J^T J`` is
    singular along the ``order^2`` similarity directions. The covariance is the
    inverse of the Fisher information in the directions orthogonal to them (the
    coordinates the fit searched), mapped back: singular, of rank ``dof_model``, and
    exactly what the delta method needs for anything basis-independent (outputs,
    Markov parameters, frequency responses).

    Parameters
    ----------
    covariance : numpy.ndarray, shape (n_params, n_params)
        Entries row-major, ``A`` then ``B``, ``C``, ``D``.
    noise_variance : numpy.ndarray, shape (n_outputs,)
        Residual variance per output, corrected for the identifiable parameters.
    dof : int
        Scalar residuals minus identifiable parameters.
    rank : int
        Rank of the reduced information matrix.
    order, n_inputs, n_outputs : int
        The model's layout.

    Attributes
    ----------
    names : tuple of str
        ``A[i,j]``, ``B[i,j]``, ``C[i,j]``, ``D[i,j]`` in covariance order.
    standard_errors : numpy.ndarray
        Square roots of the diagonal (basis-dependent; see above).

    Examples
    --------
    >>> sc = StateSpaceCovariance(np.diag([0.04, 0.01, 0.0, 0.0]), np.array([0.1]), 96, 3, 1, 1, 1)
    >>> sc.names, sc.standard_errors
    (('A[0,0]', 'B[0,0]', 'C[0,0]', 'D[0,0]'), array([0.2, 0.1, 0. , 0. ]))
    """

    @property
    def names(self) -> tuple[str, ...]:
        """Entry names in covariance order."""
        n, m, p = self.order, self.n_inputs, self.n_outputs
        blocks = (("A", n, n), ("B", n, m), ("C", p, n), ("D", p, m))
        return tuple(f"{b}[{i},{j}]" for b, r, c in blocks for i in range(r) for j in range(c))

    def to_units(self, input_scale: Any, output_scale: Any) -> StateSpaceCovariance:
        """The covariance for the model in the user's units.

        A model fitted to ``u / su``, ``y / sy`` is ``(A, B / su, sy C, sy D / su)`` in
        the user's units (``su`` per input column, ``sy`` per output row): a diagonal
        linear map of the entries, applied on both sides.

        Parameters
        ----------
        input_scale, output_scale : array_like
            Per-channel scales ``su`` (``n_inputs``) and ``sy`` (``n_outputs``).

        Returns
        -------
        StateSpaceCovariance
            Covariance and noise variance in the user's units.

        Examples
        --------
        >>> sc = StateSpaceCovariance(np.eye(4), np.array([1.0]), 96, 4, 1, 1, 1)
        >>> sc.to_units([2.0], [10.0]).standard_errors
        array([ 1. ,  0.5, 10. ,  5. ])
        """
        n, m, p = self.order, self.n_inputs, self.n_outputs
        su = as_float_array(input_scale, "input_scale", ndim=(0, 1)).reshape(-1)
        sy = as_float_array(output_scale, "output_scale", ndim=(0, 1)).reshape(-1)
        su, sy = np.broadcast_to(su, (m,)), np.broadcast_to(sy, (p,))
        factor = np.concatenate(
            (
                np.ones(n * n),
                np.tile(1.0 / su, n),
                np.repeat(sy, n),
                (sy[:, None] / su[None, :]).ravel(),
            )
        )
        with np.errstate(over="ignore"):  # a variance beyond float64 is inf
            cov = self.covariance * factor[:, None] * factor[None, :]
        return StateSpaceCovariance(cov, self.noise_variance * sy**2, self.dof, self.rank, n, m, p)


def state_space_covariance(
    system: Any, u: Any, y: Any, *, sequences: bool = False, x0: Any = None
) -> StateSpaceCovariance:
    """Covariance of a state-space model fitted by output error (simulation error).

    Each output's residual variance ``sigma_o^2`` weights its rows; the Fisher
    information ``J^T W J`` (exact Jacobian, accumulated a block at a time) is inverted
    in the directions orthogonal to the similarity orbit. With ``x0`` given (initial
    states estimated with the model) they are nuisance parameters: their columns are
    included and marginalised out.

    Parameters
    ----------
    system : StateSpaceSystem
        The fitted model, in the units of ``u`` and ``y``.
    u, y : array_like
        The estimation data, by the layout rule (``sequences=True`` for ``(N, T, ...)``).
    sequences : bool, default False
        Read the leading axis as the sequence index.
    x0 : array_like, optional
        Initial states ``(order,)`` or ``(N, order)`` estimated with the model.

    Returns
    -------
    StateSpaceCovariance
        Covariance of the entries and the noise variance per output.

    Raises
    ------
    ParameterError
        ``system`` is not a StateSpaceSystem.
    DataError
        Data that do not fit the model, ``x0`` of neither shape ``(order,)`` nor
        ``(N, order)``, no more samples than identifiable parameters, an input that
        excites nothing (rank 0), or values beyond float64 (rescale the data).

    Examples
    --------
    >>> from learnlds.statespace import StateSpaceSystem
    >>> gen = np.random.default_rng(0)
    >>> truth = StateSpaceSystem([[0.5]], [[1.0, 0.5]], [[1.0], [2.0]], np.zeros((2, 2)))
    >>> u = gen.normal(size=(500, 2))
    >>> y = truth.simulate(u) + 0.1 * gen.normal(size=(500, 2))
    >>> sc = state_space_covariance(truth, u, y)
    >>> sc.covariance.shape, sc.rank, np.round(sc.noise_variance, 2)
    ((9, 9), 8, array([0.01, 0.01]))
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
    x0s = None if x0 is None else _given_x0(x0, io.u.shape[0], system.order)
    sc = _state_space_covariance3(system, io.u, io.y, x0s)
    if sc.rank == 0:
        raise DataError("u: the input does not excite the model; no entry is determined")
    return sc


def _state_space_covariance3(
    system: Any, u3: Any, y3: Any, x0s: np.ndarray | None
) -> StateSpaceCovariance:
    """:func:`state_space_covariance` on canonical (possibly lazy, on-disk) records."""

    n, m, p = system.order, system.n_inputs, system.n_outputs
    N, T = u3.shape[:2]
    est = x0s is not None
    x0s = np.zeros((N, n)) if x0s is None else x0s
    k = n * (m + p) + p * m + (N * n if est else 0)  # identifiable
    dof = N * T * p - k
    if dof <= 0:
        raise DataError(f"y: {N * T * p} output samples do not exceed the {k} parameters")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        sigma2 = _output_sse(system, u3, y3, x0s) / (N * T) * (N * T * p) / dof
    if not np.all(np.isfinite(sigma2)):
        raise DataError(_OVERFLOW.format(what="the sum of squared residuals"))
    w = 1.0 / np.sqrt(np.maximum(sigma2, np.finfo(float).tiny))
    weighted = StateSpaceSystem(system.A, system.B, w[:, None] * system.C, w[:, None] * system.D)
    yw = _LazyRecord((y3,), 1.0 / w)
    H, _, _ = normal_equations(weighted, u3, yw, x0s, (1, 1, 1, 1, int(est)))
    scale = np.ones(H.shape[0])  # the C and D columns were taken in weighted units
    scale[n * (n + m) : n * (n + m) + p * n] = np.repeat(w, n)
    scale[n * (n + m) + p * n : n * (n + m) + p * (n + m)] = np.repeat(w, m)
    F = H * scale[:, None] * scale[None, :]
    Q = _gauge_complement(system, x0s, est)
    reduced, rank = _generalised_inverse(Q.T @ F @ Q, 1e-10)
    P = n * (n + m) + p * (n + m)
    cov = (Q @ reduced @ Q.T)[:P, :P]
    return StateSpaceCovariance(0.5 * (cov + cov.T), sigma2, int(dof), rank, n, m, p)


def _state_space_layout(system: Any, covariance: Any) -> np.ndarray:
    """The covariance of a state-space model's entries as a square array of the right size."""
    if isinstance(covariance, StateSpaceCovariance):
        covariance = covariance.covariance
    cov = as_float_array(covariance, "covariance", ndim=(2,))
    n, m, p = system.order, system.n_inputs, system.n_outputs
    size = n * (n + m) + p * (n + m)
    if cov.shape != (size, size):
        raise DataError(
            f"covariance: shape {cov.shape} does not fit a state-space model of order {n} with "
            f"{m} inputs and {p} outputs (expected ({size}, {size}))"
        )
    return _require_covariance(cov)


def _ss_response_gradient(system: Any, w: np.ndarray) -> np.ndarray:
    """``dG(e^{iw}) / d(A, B, C, D)`` as ``(len(w), p, m, n_params)`` complex.

    With ``R = (zI - A)^{-1}``: ``dG/dA_ab = (CR)_{:a} (RB)_{b:}``,
    ``dG/dB_aj = (CR)_{:a} e_j^T``, ``dG/dC_qb = e_q (RB)_{b:}``, ``dG/dD_qj = e_q e_j^T``.
    """
    A, B, C = system.A, system.B, system.C
    n, m, p = system.order, system.n_inputs, system.n_outputs
    z = np.exp(1j * w)
    R = np.linalg.inv(z[:, None, None] * np.eye(n) - A)  # (F, n, n)
    CR, RB = C @ R, R @ B  # (F, p, n), (F, n, m)
    F, eye_p, eye_m = w.size, np.eye(p), np.eye(m)
    gA = np.einsum("foa,fbi->foiab", CR, RB).reshape(F, p, m, n * n)
    gB = np.einsum("foa,ij->foiaj", CR, eye_m).reshape(F, p, m, n * m)
    gC = np.einsum("oq,fbi->foiqb", eye_p, RB).reshape(F, p, m, p * n)
    gD = np.broadcast_to(
        np.einsum("oq,ij->oiqj", eye_p, eye_m).reshape(p, m, p * m), (F, p, m, p * m)
    )
    return np.concatenate((gA, gB, gC, gD), axis=3)


def _ss_output_std(system: Any, cov: np.ndarray, u: Any, sequences: bool) -> np.ndarray:
    """Delta-method standard error of a state-space model's zero-state output."""
    io = as_io(u, sequences=sequences, n_inputs=system.n_inputs)
    var = np.empty(io.u.shape[:2] + (system.n_outputs,))
    for i, t0, J, yhat in _jacobian_blocks(system, io.u, None, (1, 1, 1, 1, 0)):
        var[i, t0 : t0 + yhat.shape[0]] = np.einsum("rk,kl,rl->r", J, cov, J).reshape(yhat.shape)
    sd = _finite_std(var)
    return sd.reshape(np.shape(u)) if system.is_siso else io.to_user(sd)


# --------------------------------------------------------------------------- transforms
def _entries(system: Any, learn_d: bool) -> np.ndarray:
    """A model's parameters in covariance order (state space: ``A, B, C, D`` row-major)."""
    if isinstance(system, StateSpaceSystem):
        return np.concatenate([np.ravel(x) for x in (system.A, system.B, system.C, system.D)])
    return parameter_vector(system, learn_d=learn_d)


def _from_entries(template: Any, theta: np.ndarray, learn_d: bool) -> Any:
    """The model of ``template``'s class and shape with parameters ``theta``."""
    n, m, p = template.order, template.n_inputs, template.n_outputs
    if isinstance(template, StateSpaceSystem):
        cuts = np.cumsum([n * n, n * m, p * n])
        A, B, C, D = np.split(theta, cuts)
        return StateSpaceSystem(
            A.reshape(n, n), B.reshape(n, m), C.reshape(p, n), D.reshape(p, m), dt=template.dt
        )
    a, rest = theta[:n], theta[n:].reshape(p, -1)
    c = rest[:, : n * m].reshape(p, n, m).transpose(1, 0, 2)
    d = rest[:, n * m :] if learn_d else template.d.reshape(p, m)
    if template.is_siso:
        return CanonicalSystem(a, c[:, 0, 0], d.reshape(()), dt=template.dt)
    return CanonicalSystem(a, c, d.reshape(p, m), dt=template.dt)


def _mapped_covariance(covariance: Any, system: Any, transform: Any) -> Any:
    """The covariance of ``transform(system)``'s parameters by the delta method.

    ``J cov J^T`` with ``J`` the Jacobian of the (smooth) map between the two models'
    parameter vectors by central differences, exact for the placements and products
    of an input delay; the result has ``covariance``'s class, for the new model's
    order, and keeps its noise variance, degrees of freedom and rank.
    """
    learn_d = bool(getattr(covariance, "learn_d", True))
    theta = _entries(system, learn_d)
    out = transform(system)
    jac = np.empty((_entries(out, learn_d).size, theta.size))
    for k in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k], down[k] = theta[k] + h, theta[k] - h
        jac[:, k] = _entries(transform(_from_entries(system, up, learn_d)), learn_d)
        jac[:, k] -= _entries(transform(_from_entries(system, down, learn_d)), learn_d)
        jac[:, k] /= 2 * h
    cov = jac @ covariance.covariance @ jac.T
    return replace(covariance, covariance=0.5 * (cov + cov.T), order=out.order)
