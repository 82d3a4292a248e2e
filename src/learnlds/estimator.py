"""``LDSRegressor``: a scikit-learn estimator that learns a linear dynamical system.

Data follow the library's one layout rule (:mod:`learnlds._boundary`), the same in
``fit``, ``predict`` and ``score``: time runs along axis 0, so ``u`` of shape ``(T,)``
or ``(T, m)`` with ``y`` of shape ``(T,)`` or ``(T, p)`` is one record of ``T``
samples with ``m`` inputs and ``p`` outputs; several sequences only when asked
(``sequences=True``): ``(N, T)`` or ``(N, T, m)``. A fitted estimator remembers its
channel counts and refuses data that disagree.

``score`` is the fit percent ``100 (1 - ||y - yhat|| / ||y - mean(y)||)`` of a
simulation from zero state, averaged over outputs: the figure system-identification
users compare.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_array, check_is_fitted

from ._boundary import (
    IOArrays,
    as_io,
    channel_mismatch,
    check_bool,
    check_choice,
    check_column_names,
    check_float,
    check_int,
    check_random_state,
    column_names,
    resolve_burn_in,
    user_stacklevel,
)
from .delay import RecordTooShortError, estimate_delay
from .errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataTypeError,
    LearnLDSError,
    NotFittedError,
    OrderSelectionWarning,
    ParameterError,
    UnsupportedShapeError,
)
from .records import ScaledRecord, _moments, _streamed, _streaming_stats, streaming_io
from .reduce import reduce
from .statespace import StateSpaceSystem, input_delays, with_input_delay
from .subspace import (
    _START_SAMPLES,
    _bic_choice,
    _fitted_values,
    fit_best,
    fit_state_space,
    select_order,
)
from .systems import CanonicalSystem
from .train import (
    TrainResult,
    gauss_newton,
    projected_sgd,
    sequence_batches,
    window_batches,
)
from .uncertainty import (
    _RCOND,
    FrequencyResponseStd,
    ParameterCovariance,
    StateSpaceCovariance,
    _entries,
    _mapped_covariance,
    _parameter_covariance,
    _state_space_covariance3,
    frequency_response_std,
    output_std,
)
from .validate import _channel_fits, simulate_canonical

__all__ = ["LDSRegressor"]

Layout = Literal["record", "sequences"]


_AUTO_PARAM_SHARE = 0.25  # order='auto' warns above this share of parameters per output value
_SCREEN_SAMPLES = _START_SAMPLES  # starts and initial-state treatment are chosen on this much
_AUTO_MAX_ORDER = 8  # order='auto' looks at orders 1..8


def _n_params(order: int, m: int, p: int, structure: str) -> int:
    """Identifiable parameters of a model (what the data must outnumber).

    A state-space model has ``n (m + p) + p m`` once the similarity transforms
    (``n^2`` directions that change nothing) are set aside.
    """
    if structure == "state-space":
        return order * (m + p) + p * m
    return order + p * (order + 1) * m


def _screening_part(uc: np.ndarray, yc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ``_SCREEN_SAMPLES`` samples: whole sequences, or the start of a long one."""
    N, T, _ = uc.shape
    if N * T <= _SCREEN_SAMPLES:
        return uc[:, :], yc[:, :]  # arrays, also from a lazy record
    if T >= _SCREEN_SAMPLES:
        return uc[:1, :_SCREEN_SAMPLES], yc[:1, :_SCREEN_SAMPLES]
    k = max(1, _SCREEN_SAMPLES // T)
    return uc[:k], yc[:k]


def _to_canonical(model: StateSpaceSystem) -> CanonicalSystem | None:
    """The SISO model in canonical form (``None`` when it is not controllable enough)."""
    try:
        canonical = model.to_canonical()
    except LearnLDSError:
        return None
    params = np.concatenate((canonical.a, canonical.c, [float(canonical.d)]))
    return canonical if np.all(np.isfinite(params)) else None


def _result(model: Any, info: dict[str, Any]) -> TrainResult:
    """A :class:`TrainResult` for a state-space fit (its info dict); warns
    :class:`ConvergenceWarning` when the Levenberg-Marquardt refinement stopped at
    ``max_iter`` with the loss still falling (the canonical-form solver warns itself)."""
    history = np.asarray(info.get("loss_history", [info.get("loss", np.nan)]), dtype=float)
    if info.get("stop_reason") == "max_iter" and history.size > 1:
        drop = (history[-2] - history[-1]) / max(abs(history[-2]), np.finfo(float).tiny)
        warnings.warn(
            f"fit: the Levenberg-Marquardt refinement reached max_iter with the loss still "
            f"falling (last relative decrease {drop:.2g} per iteration); the model may be "
            "short of the optimum of its criterion: raise max_iter"
            + (
                ", or compare with criterion='simulation' (the prediction error can crawl "
                "for thousands of iterations where the one-step prediction is nearly exact)"
                if "K" in info
                else ""
            ),
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return TrainResult(
        model=model,
        best_model=model,
        best_loss=float(history[-1]) if history.size else float("nan"),
        loss_history=history,
        stop_reason=str(info.get("stop_reason", "")),
        converged=bool(info.get("converged", True)),
        n_steps=int(info.get("n_iter", 0)),
    )


def _sk_array(value: Any, name: str) -> Any:
    """``value`` read as a float array the way scikit-learn reads it (pandas frames,
    object arrays of numbers), or a :class:`DataError` naming ``name``.

    Strings are refused, numeric or not, as everywhere in learnlds (scikit-learn would
    convert ``'0.12'``); sparse, complex, scalar and empty data get a clear message.
    Shape and finiteness rules stay with :func:`learnlds._boundary.as_io`.
    """
    if value is None:
        return None
    if issparse(value):
        raise DataError(f"{name}: sparse input is not supported; pass a dense array")
    try:
        kind = np.asarray(value)
    except Exception as exc:  # ragged lists and other unreadable objects
        raise DataError(f"{name}: cannot be read as an array ({exc})") from None
    if kind.dtype.kind in "SUV" or (kind.dtype == object and _holds_text(kind)):
        held = " holding text" if kind.dtype == object else ""
        raise DataError(f"{name}: must be numeric, got dtype {kind.dtype}{held}")
    if kind.ndim == 0 and kind.dtype == object:
        raise DataTypeError(f"{name}: must be an array of numbers, got {type(value).__name__}")
    if kind.ndim == 0:
        raise DataError(
            f"{name}: a record is (T,) or (T, channels) with time along axis 0, got the "
            f"scalar {value!r}"
        )
    try:
        return check_array(
            value,
            accept_sparse=False,
            dtype=np.float64,
            ensure_2d=False,
            allow_nd=True,
            ensure_all_finite=False,
            ensure_min_samples=1,
            input_name=name,
        )
    except TypeError as exc:  # objects that are not numbers (a TypeError, as sklearn's)
        raise DataTypeError(f"{name}: must be numeric ({str(exc).splitlines()[0]})") from None
    except ValueError as exc:  # name the problem without printing the whole array
        raise DataError(_sk_message(str(exc), name)) from None


def _holds_text(arr: np.ndarray) -> bool:
    """Whether an object array holds a string (scikit-learn would parse ``'0.12'``)."""
    return any(isinstance(v, str | bytes) for v in arr.flat)


def _sk_message(text: str, name: str) -> str:
    """A :class:`DataError` message for what ``check_array`` refused with ``text``."""
    if "Complex data not supported" in text:
        return f"{name}: complex values (Complex data not supported)"
    for what in ("sample", "feature"):
        if f"0 {what}(s)" in text:
            empty = "no samples" if what == "sample" else "no channels"
            return f"{name}: an empty record, {empty} ({text})"
    return f"{name}: must be numeric ({text.splitlines()[0]})"


def _is_name(value: Any, *names: str) -> bool:
    """Whether ``value`` is one of the string options ``names`` (arrays never are)."""
    return isinstance(value, str) and value in names


def _warn_if_barely_supported(order: int, m: int, p: int, sequences: int, values: int) -> None:
    """Warn when ``order='auto'`` chose an order whose fit spends over a quarter of the
    output values it was chosen on on parameters and initial states.

    The information criterion assumes many data per parameter; below four, a high
    order can fit the noise and still win it. Over 110 benchmark records the two whose
    choice was far off (a 150-sample 2x2 and a 200-sample 5x3 record, 43 and 121 fit
    points below their best order) spent 29 %; every other choice at most 20 %.
    """
    spent = _fitted_values(order, m, p, sequences)
    if spent > _AUTO_PARAM_SHARE * values:
        warnings.warn(
            f"order='auto' chose order {order}: {spent} parameters and initial-state values "
            f"for {values} output values ({spent / values:.0%}); with so few data per "
            "parameter the choice is unreliable. Compare lower orders (order_scores_) on "
            "data the fit did not see, or record longer",
            OrderSelectionWarning,
            stacklevel=4,
        )


def _warn_if_poor_from_zero_state(model: Any, uc: Any, yc: Any, method: str) -> None:
    """Warn when ``model``, simulated from zero state as :meth:`LDSRegressor.predict`
    does, does not describe its own estimation data.

    Gauss-Newton fits: a fit percent below 0 (worse than the data's mean) means the
    model leans on the initial state it estimated (a slow mode and a large initial
    state explaining a drift). The paper's projected SGD: below 1 % means it made
    almost no progress (slow or lightly damped plants need far more steps). Records on
    disk are not simulated again.
    """
    if not isinstance(uc, np.ndarray):
        return
    with np.errstate(all="ignore"):
        try:
            fit = float(np.mean(_channel_fits(yc, simulate_canonical(model, uc))))
        except DataError:  # a constant output channel: no fit percent
            return
    if method == "psgd" and fit < 1.0:
        message = (
            f"fit: projected SGD made almost no progress: from zero state the model fits "
            f"its estimation data at {fit:.1f} % (the paper's algorithm is slow on slow or "
            "lightly damped plants); raise steps or lr, or use method='gn'"
        )
    elif fit < 0:
        message = (
            f"fit: from zero initial state the model fits its own estimation data worse "
            f"than their mean (fit {fit:.1f} %), and predictions start from zero state: it "
            "leans on the initial state it estimated, or the input does not explain the "
            "output. A lower order or a longer record may do better"
        )
    else:
        return
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


class LDSRegressor(RegressorMixin, BaseEstimator):
    """Learn ``h_{t+1} = A h_t + B u_t, y_t = C h_t + D u_t`` in controllable canonical form.

    Parameters
    ----------
    order : int or 'auto', default 3
        State dimension of the returned model (for the canonical form: the degree of
        the common denominator). ``'auto'`` chooses it in 1..8 (fewer when the data
        support fewer) by ``order_selection``
        (:func:`learnlds.subspace.select_order`); stores ``order_`` and
        ``order_scores_``.
    structure : {'auto', 'state-space', 'common-denominator'}, default 'auto'
        The model class. ``'state-space'``: a general ``(A, B, C, D)`` fitted on the
        simulation error from several deterministic starts (subspace, ARX, zero) and
        both initial-state treatments, chosen by an inner hold-out
        (:func:`learnlds.subspace.fit_best`); on records longer than 20,000 samples the
        choice is made on the first 20,000 and the winner refined on all data (SISO:
        by the canonical-form Gauss-Newton solver). SISO models are returned in
        canonical form. ``'common-denominator'``: the paper's controllable canonical
        form (MIMO over one denominator), needed by ``method='psgd'``, ``overparam``,
        a Pac-Man ``region``, an ``init`` model, a non-zero ``burn_in`` or a
        ``checkpoint`` (only its solvers save and resume their state).
        ``'auto'`` is ``'state-space'`` unless one of those asks for the paper's form.
    method : {'gn', 'psgd'}, default 'gn'
        ``'gn'``: the fast full-data projected Gauss-Newton/Levenberg-Marquardt solver;
        ``'psgd'``: the paper's projected SGD (MIMO through the common denominator).
    overparam : int or None, default None
        Learn at order ``overparam`` (> ``order``) inside the region, then reduce to
        ``order`` by balanced truncation; both models are kept (``system_full_``).
        Single-input single-output data only.
    region : 'auto', 'pacman', PacmanRegion or None, default 'auto'
        Where ``a`` is kept: the post's Pac-Man region, another region, or ``None``
        (gn: stability only; psgd: plain SGD). ``'auto'`` is the Pac-Man region for
        psgd (the paper's guarantee) and stability only for gn: real plants such as
        the hair dryer have poles outside the Pac-Man region, where an order-n model
        in the region is biased; learn such systems in the region with ``overparam``.
    burn_in : int or None, default 0
        Samples left out of the loss at the start of every sequence; ``None`` means
        ``T // 4`` (the paper's choice), as everywhere in learnlds.
    steps : int, default 400
        psgd: number of SGD steps.
    lr : float, default 0.05
        psgd: learning rate.
    batch_size : int or None, default None
        psgd: sequences per step (``None``: all).
    window : int or None, default None
        psgd on one long SISO record: length of the random windows drawn from it.
    clip : float or None, default None
        psgd: clip each gradient to this norm.
    init : 'zero', 'identity' or CanonicalSystem, default 'zero'
        Starting model (see :func:`learnlds.train.projected_sgd`).
    max_iter : int, default 100
        gn: iterations of the solver (the state-space form: of the Levenberg-Marquardt
        refinement of the chosen start). A fit that stops there with its
        loss still falling warns :class:`~learnlds.errors.ConvergenceWarning`: slow
        valleys occur (flutter at order 5 needs 145 iterations, ballbeam at order 4
        258), and the prediction-error criterion more often.
    demean : bool, default True
        Remove input/output means before fitting; ``predict`` adds them back.
    standardize : bool, default True
        Fit on inputs and outputs divided by their standard deviations (computed so
        that it cannot overflow), so that a learning rate means the same on any data
        and the fit does not depend on the data's units; the returned model is in
        the user's units either way.
    random_state : int, numpy Generator or None, default None
        Seed for minibatch/window sampling.
    progress : bool, 'bar' or 'lines', default False
        Show progress while training: a bar on a terminal, or one line per
        iteration/step group on stderr (``'lines'``).
    checkpoint : str, os.PathLike or None, default None
        Save the complete training state there every ``checkpoint_every`` steps
        (psgd) or iterations (gn) and on Ctrl-C. Only the common-denominator solvers
        save their state: with ``structure='auto'`` a checkpoint selects that form,
        with ``'state-space'`` it is an error.
    checkpoint_every : int or None, default None
        Steps/iterations between checkpoints (``None``: 100 for psgd, 1 for gn).
    resume : bool, default False
        Continue from ``checkpoint``; the result equals an uninterrupted run.
    force : bool, default False
        Run even when the solver estimates the fit would take hours.
    input_delay : int, sequence of int or 'auto', default 0
        Known dead time in samples, one for all inputs or one per input (MATLAB's
        ``InputDelay``); ``'auto'``: estimated per input from the data
        (:func:`learnlds.delay.estimate_delay`, the largest delay they are consistent
        with; kept where it fits better at the same order; one sample counts as none).
        The model of order ``order`` is fitted on the delayed
        inputs and ``system_`` carries the delays as extra states
        (:func:`learnlds.statespace.with_input_delay`), so it predicts, exports and
        saves as is; ``covariance_`` is that of ``system_``'s entries, mapped from
        the fitted parameters (the delay's fixed entries have zero variance). Not for
        records on disk.
    order_selection : {'bic', 'holdout'}, default 'bic'
        How ``order='auto'`` compares orders: ``'bic'``, the Bayesian information
        criterion of each order's state-space fit on all the (screening) data, its
        error including the expected start-up error of a simulation from rest;
        ``'holdout'``, the fit on the inner hold-out with its initial state and
        offsets fitted, the smallest order within one standard error of the best.
    criterion : {'simulation', 'prediction'}, default 'simulation'
        What the state-space fit minimises. ``'simulation'``: the output error of the
        model driven by the inputs alone, as ``predict`` uses it (consistent whatever
        the disturbance). ``'prediction'``: that fit refined on the one-step prediction
        error of the innovations form ``x+ = A x + B u + K e`` (a noise model sharing
        the plant's poles, as ARMAX and MATLAB's ``ssest``); ``system_`` is its
        ``(A, B, C, D)``, ``K`` is dropped. It has lower variance when disturbances are
        large and coloured, and is biased when their dynamics differ from the plant's
        (``benchmarks/results/unseen_plants.md``: better on some real plants, worse on
        others). Its criterion has many local minima: at some orders the refinement
        lands in a different one when the data change in the 7th digit or their units
        change (flutter at order 6: 24 % or -197 % on validation), so compare it with
        the default on validation data. ``order='auto'`` refines every order this way
        and compares the refined models by the criterion of the default (their
        simulation error from rest); ``covariance_`` is ``None`` (the output-error
        information does not apply).

    Attributes
    ----------
    system_ : CanonicalSystem or StateSpaceSystem
        The learned model (reduced when ``overparam`` is set); a ``StateSpaceSystem``
        for multi-channel state-space fits, a ``CanonicalSystem`` otherwise.
    system_full_ : CanonicalSystem or StateSpaceSystem
        The model as trained (order ``overparam`` when set, else ``system_``).
    train_result_ : TrainResult
        The solver's result (loss history, steps, timing).
    history_ : numpy.ndarray
        Training loss per iteration or step.
    n_iter_ : int
        Iterations (gn) or steps (psgd) taken.
    n_features_in_ : int
        Input channels ``m`` seen in ``fit``.
    feature_names_in_ : numpy.ndarray
        The input columns' names, when ``fit`` was given a data frame whose columns
        are all strings (one record); ``predict``, ``score`` and ``predict_std`` then
        refuse a frame whose columns differ or come in another order.
    output_names_in_ : numpy.ndarray
        The same for the outputs (a data frame ``y``); ``score`` checks ``y`` by it.
    n_outputs_ : int
        Output channels ``p`` seen in ``fit``.
    input_offset_, output_offset_ : numpy.ndarray
        Means removed before fitting (zeros when ``demean=False``).
    input_scale_, output_scale_ : numpy.ndarray
        Standard deviations the data were divided by while fitting (ones when
        ``standardize=False``); ``history_`` is the loss in those units.
    layout_ : {'record', 'sequences'}
        How the training data were read.
    structure_ : {'state-space', 'common-denominator'}
        The model class used.
    order_ : int
        The order used (chosen when ``order='auto'``); ``system_`` has
        ``sum(input_delay)`` more states when ``input_delay`` is set.
    input_delay_ : numpy.ndarray
        The delay used per input (``input_delay`` checked, or estimated by ``'auto'``).
    order_scores_ : dict or None
        Per candidate order (``order='auto'`` only): the information criterion
        (``order_selection='bic'``, lower is better) or the inner hold-out fit percent
        with the hold-out's initial state and output offsets fitted (``'holdout'``).
    start_info_ : dict
        State-space fits only: the chosen start, initial-state treatment and how
        they were chosen (``'holdout'`` or ``'loss'``).
    covariance_ : numpy.ndarray or None
        Parameter covariance of ``system_`` in the user's units (Gauss-Newton fits
        without ``overparam``; ``None`` otherwise), from the Jacobian at the solution
        and the residual variance; SISO rows/columns ordered ``a_1..a_n, c_1..c_n, d``.
        For a state-space ``system_`` (several inputs/outputs) the entries of ``A, B,
        C, D`` (see :class:`learnlds.uncertainty.StateSpaceCovariance`: singular along
        changes of state basis, exact for outputs and frequency responses).
    parameter_names_ : tuple of str or None
        Names of the rows of ``covariance_``.
    noise_variance_ : numpy.ndarray or None
        Residual variance per output, in the user's units.

    Examples
    --------
    >>> import numpy as np
    >>> from learnlds import CanonicalSystem, LDSRegressor
    >>> truth = CanonicalSystem(a=[-0.6, 0.2], c=[1.0, -0.5], d=0.5)
    >>> u = np.random.default_rng(0).normal(size=2000)
    >>> y = truth.simulate(u)
    >>> model = LDSRegressor(order=2).fit(u, y)
    >>> bool(model.score(u, y) > 99)
    True
    >>> model.predict(u[:5]).shape
    (5,)
    """

    def __init__(
        self,
        order: int | str = 3,
        *,
        structure: str = "auto",
        method: Literal["gn", "psgd"] = "gn",
        overparam: int | None = None,
        region: Any = "auto",
        burn_in: int | None = 0,
        steps: int = 400,
        lr: float = 0.05,
        batch_size: int | None = None,
        window: int | None = None,
        clip: float | None = None,
        init: Any = "zero",
        max_iter: int = 100,
        demean: bool = True,
        standardize: bool = True,
        random_state: Any = None,
        progress: bool | str = False,
        checkpoint: Any = None,
        checkpoint_every: int | None = None,
        resume: bool = False,
        force: bool = False,
        input_delay: Any = 0,
        order_selection: str = "bic",
        criterion: str = "simulation",
    ) -> None:
        self.order = order
        self.structure = structure
        self.method = method
        self.overparam = overparam
        self.region = region
        self.burn_in = burn_in
        self.steps = steps
        self.lr = lr
        self.batch_size = batch_size
        self.window = window
        self.clip = clip
        self.init = init
        self.max_iter = max_iter
        self.demean = demean
        self.standardize = standardize
        self.random_state = random_state
        self.progress = progress
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.resume = resume
        self.force = force
        self.input_delay = input_delay
        self.order_selection = order_selection
        self.criterion = criterion

    # ------------------------------------------------------------------ parameters
    def _validate_params(self) -> tuple[int | None, int | None]:
        """Check every hyper-parameter (scikit-learn style, at fit); ``(order, fit order)``.

        ``None`` orders mean ``order='auto'`` (chosen from the data).
        """
        auto = isinstance(self.order, str) and self.order == "auto"
        if isinstance(self.order, str) and not auto:
            raise ParameterError(f"order: must be a positive integer or 'auto', got {self.order!r}")
        order = None if auto else check_int(self.order, "order", low=1)
        fit_order = order
        overparam = check_int(self.overparam, "overparam", low=1, allow_none=True)
        if overparam is not None:
            if order is None:
                raise ParameterError("overparam: needs an integer order, not order='auto'")
            if overparam <= order:
                raise ParameterError(
                    f"overparam: must exceed order={order} (it is the learning order), "
                    f"got {overparam}"
                )
            fit_order = overparam
        check_choice(self.method, "method", ("gn", "psgd"))
        check_choice(self.order_selection, "order_selection", ("bic", "holdout"))
        check_choice(self.criterion, "criterion", ("simulation", "prediction"))
        if self.burn_in is not None:
            check_int(self.burn_in, "burn_in", low=0)
        check_int(self.steps, "steps", low=1)
        check_float(self.lr, "lr", low=0.0, low_open=True)
        check_int(self.batch_size, "batch_size", low=1, allow_none=True)
        check_int(self.window, "window", low=2, allow_none=True)
        check_float(self.clip, "clip", low=0.0, low_open=True, allow_none=True)
        check_int(self.max_iter, "max_iter", low=1)
        check_bool(self.demean, "demean")
        check_bool(self.standardize, "standardize")
        if not isinstance(self.progress, bool | np.bool_):
            check_choice(self.progress, "progress", (True, False, "bar", "lines"))
        check_int(self.checkpoint_every, "checkpoint_every", low=1, allow_none=True)
        check_bool(self.resume, "resume")
        check_bool(self.force, "force")
        if not isinstance(self.random_state, np.random.RandomState):  # would draw from it
            check_random_state(self.random_state)  # whatever the method: not only psgd's
        if self.resume and self.checkpoint is None:
            raise ParameterError("resume: needs checkpoint= (the file to resume from)")
        if not (isinstance(self.init, CanonicalSystem) or _is_name(self.init, "zero", "identity")):
            got = repr(self.init) if isinstance(self.init, str) else type(self.init).__name__
            raise ParameterError(
                f"init: must be 'zero', 'identity' or a CanonicalSystem, got {got}"
            )
        if isinstance(self.region, str) and self.region not in ("auto", "pacman"):
            raise ParameterError(
                f"region: must be 'auto', 'pacman', a PacmanRegion or None, got {self.region!r}"
            )
        if self.window is not None and self.method != "psgd":
            raise ParameterError("window: only used by method='psgd'")
        self._resolve_structure()
        return order, fit_order

    def _paper_form_reasons(self) -> list[str]:
        """Settings that need the paper's common-denominator canonical form."""
        reasons = []
        if self.method == "psgd":
            reasons.append("method='psgd'")
        if self.overparam is not None:
            reasons.append("overparam")
        if not (self.region is None or (isinstance(self.region, str) and self.region == "auto")):
            reasons.append("region")
        if not _is_name(self.init, "zero"):
            reasons.append("init")
        if self.burn_in is None or self.burn_in != 0:
            reasons.append("burn_in")
        if self.checkpoint is not None:  # resume needs it; state-space fits save no state
            reasons.append("checkpoint")
        return reasons

    def _resolve_structure(self) -> str:
        """'state-space' or 'common-denominator' for these settings."""
        check_choice(self.structure, "structure", ("auto", "state-space", "common-denominator"))
        reasons = self._paper_form_reasons()
        if self.structure == "state-space" and reasons:
            raise ParameterError(
                f"structure: 'state-space' cannot be combined with {', '.join(reasons)} "
                "(those belong to the paper's common-denominator form)"
            )
        if self.criterion == "prediction" and (self.structure == "common-denominator" or reasons):
            why = ", ".join(reasons) if reasons else "structure='common-denominator'"
            raise ParameterError(
                f"criterion: 'prediction' (a noise model) is a state-space fit; it cannot be "
                f"combined with {why} (the paper's form is fitted on the simulation error)"
            )
        if self.structure == "auto":
            return "common-denominator" if reasons else "state-space"
        return self.structure

    def _region_for(self, method: str) -> Any:
        if isinstance(self.region, str) and self.region == "auto":
            return "pacman" if method == "psgd" else None
        return self.region

    # ------------------------------------------------------------------ fit
    def fit(
        self, u: Any, y: Any, *, sequences: bool = False, dt: float | None = None
    ) -> LDSRegressor:
        """Learn the system from inputs ``u`` and outputs ``y``.

        Parameters
        ----------
        u : array_like
            Inputs: ``(T,)`` or ``(T, m)``; with ``sequences=True`` ``(N, T)`` or ``(N, T, m)``.
        y : array_like
            Outputs, laid out like ``u`` (``(T,)``, ``(T, p)``, ...).
        sequences : bool, default False
            Read the leading axis as ``N`` sequences (the paper's setting).
        dt : float, optional
            Sample time, carried into the model (frequency axes in rad/s).

        Returns
        -------
        LDSRegressor
            ``self``, fitted.

        Raises
        ------
        DataError
            ``u`` or ``y`` missing, not numeric (strings included), not an array
            (a scalar, a dict, ragged rows), too few samples, constant input, or more
            parameters than data.
        ParameterError
            A hyper-parameter outside its allowed values, or ``checkpoint`` with
            ``structure='state-space'``.

        Warns
        -----
        ConvergenceWarning
            A solver stopped short; the model simulated from zero state fits the
            estimation data worse than their mean (it leans on its initial state); or
            projected SGD made almost no progress (fit below 1 %).

        Examples
        --------
        >>> import numpy as np
        >>> u = np.random.default_rng(0).normal(size=(20, 100))
        >>> y = CanonicalSystem([-0.5], [1.0]).simulate(u)
        >>> LDSRegressor(order=1).fit(u, y, sequences=True).layout_
        'sequences'
        """
        order, fit_order = self._validate_params()
        if y is None:
            raise DataError("y: requires y to be passed, but the target y is None")
        if isinstance(self.input_delay, str) and self.input_delay == "auto":
            return self._fit_estimated_delay(u, y, sequences, dt)
        if _streamed(u) or _streamed(y):  # a memory-mapped, zarr or huge record: stream it
            io = streaming_io(u, y, sequences=sequences)
            uc, yc = self._normalise_lazily(io)
        else:
            io = as_io(_sk_array(u, "u"), _sk_array(y, "y"), sequences=sequences, min_length=2)
            uc, yc = self._normalise(io)
        uc = self._delayed(uc, io)
        burn = resolve_burn_in(self.burn_in, io.length)
        self.structure_ = self._resolve_structure()
        self._check_shape_options(io)
        self._order_fit, self._order_refined = None, {}
        self.order_scores_ = None  # _select_order sets them for order='auto'
        if order is None:
            order = fit_order = self._select_order(uc, yc, io, burn)
        self.order_ = order
        self._check_data_size(io, fit_order, burn, self.structure_)
        result = self._solve(uc, yc, order, fit_order, burn)
        self._order_fit, self._order_refined = None, {}  # used by _solve only; not pickled
        self._store(result, order, io, dt)
        self._check_result()
        _warn_if_poor_from_zero_state(result.model, uc, yc, self.method)
        cov = self._uncertainty(result, uc, yc, burn)
        if self._delays.any():  # the model on the user's inputs: delays as states
            core, self.system_ = self.system_, self._with_delays(self.system_)
            self.system_full_ = self._with_delays(self.system_full_)
            cov = None if cov is None else _mapped_covariance(cov, core, self._with_delays)
        self._store_covariance(cov)
        self._store_names(u, y, sequences)
        return self

    def _store_names(self, u: Any, y: Any, sequences: bool) -> None:
        """``feature_names_in_`` (and ``output_names_in_``) from data frames of one record
        (scikit-learn's rule: all column names strings); removed when this fit had none."""
        for attr, data, count in (
            ("feature_names_in_", u, self.n_features_in_),
            ("output_names_in_", y, self.n_outputs_),
        ):
            names = None if sequences else column_names(data)
            if names is not None and names.size == count:
                setattr(self, attr, names)
            elif hasattr(self, attr):
                delattr(self, attr)

    def _check_names(self, u: Any, y: Any, sequences: bool) -> None:
        """Refuse data frames whose columns are not the fitted ones in the fitted order
        (read by position, they would feed the wrong inputs, or score the wrong outputs)."""
        if not sequences:
            check_column_names(getattr(self, "feature_names_in_", None), u)
            check_column_names(getattr(self, "output_names_in_", None), y, "y")

    def _check_shape_options(self, io: IOArrays) -> None:
        """Options that several inputs or outputs rule out, refused before any fitting."""
        if self._delays.any() and self.structure_ != "state-space" and not io.is_siso:
            raise ParameterError(
                "input_delay: with several inputs or outputs it needs structure='state-space'"
            )
        if self.overparam is not None and not io.is_siso:
            raise UnsupportedShapeError(
                f"overparam: the reduction (balanced truncation to the canonical form) is "
                f"single-input single-output; these data have {io.n_inputs} input(s) and "
                f"{io.n_outputs} output(s)"
            )

    def _fit_estimated_delay(self, u: Any, y: Any, sequences: bool, dt: Any) -> LDSRegressor:
        """``input_delay='auto'``: :func:`learnlds.delay.estimate_delay`, then the fit
        without a delay and the fit with the estimated one at the same order; the delay
        is kept if its model's zero-state fit on the data is higher (with ``order='auto'``
        the order is then chosen again, with the delay). A plant that rises slowly has an
        apparent dead time longer than its real one: the fit without it wins there.
        Delays of one sample count as none (the free ``D`` of the fit without covers a
        strictly proper plant), so a plant without dead time costs one fit."""
        if _streamed(u) or _streamed(y):
            raise ParameterError("input_delay: not supported for records streamed from disk")
        try:
            found = estimate_delay(_sk_array(u, "u"), _sk_array(y, "y"), sequences=sequences)
        except RecordTooShortError as exc:  # no delay can be tested: fit without, and say so
            warnings.warn(
                f"input_delay='auto': {str(exc).split('; pass')[0]}; fitted without a delay "
                "(input_delay_ is 0); give input_delay= the dead time if it is known",
                UserWarning,
                stacklevel=3,
            )
            found = np.zeros(1, dtype=int)
        found[found < 2] = 0  # one sample is any strictly proper plant's: no second fit for it

        def fitted(**params: Any) -> LDSRegressor:
            return clone(self).set_params(**params).fit(u, y, sequences=sequences, dt=dt)

        best = fitted(input_delay=0)
        if found.any():
            trial = fitted(input_delay=list(found), order=best.order_)
            if trial.score(u, y, sequences=sequences) > best.score(u, y, sequences=sequences):
                best = trial if self.order != "auto" else fitted(input_delay=list(found))
        self.__dict__.update({k: v for k, v in best.__dict__.items() if k.endswith("_")})
        self._delays = best._delays
        self._store_names(u, y, sequences)
        return self

    def _delayed(self, uc: Any, io: IOArrays) -> Any:
        """Check ``input_delay``; the standardised inputs delayed by it (zeros first)."""
        self._delays = input_delays(self.input_delay, io.n_inputs)
        self.input_delay_ = self._delays.copy()
        if not self._delays.any():
            return uc
        if not isinstance(uc, np.ndarray):
            raise ParameterError("input_delay: not supported for records streamed from disk")
        if self._delays.max() >= io.length:
            raise DataError(
                f"input_delay: {self._delays.max()} samples is not shorter than the record "
                f"({io.length})"
            )
        out = np.zeros_like(uc)  # the delayed input is at its mean before the record
        for j, d in enumerate(self._delays):
            out[:, d:, j] = uc[:, : uc.shape[1] - d, j]
        return out

    def _with_delays(self, system: Any) -> Any:
        """``system`` with ``input_delay`` folded into its states (same class for SISO)."""
        if isinstance(system, StateSpaceSystem):
            return with_input_delay(system, self._delays)
        delayed = with_input_delay(StateSpaceSystem.from_canonical(system), self._delays)
        return delayed.to_canonical().with_dt(system.dt)

    def _solve(
        self, uc: np.ndarray, yc: np.ndarray, order: int, fit_order: int, burn: int
    ) -> TrainResult:
        """Run the solver for ``structure_``; 'auto' falls back to the canonical form
        when no state-space start can be fitted (records of a few samples)."""
        if self.structure_ == "state-space":
            try:
                return self._fit_state_space(uc, yc, order)
            except DataError:
                if self.structure != "auto" or self.criterion != "simulation":
                    raise  # the canonical form would be a different fit from the one asked
                self.structure_ = "common-denominator"
        if self.method == "psgd":
            return self._fit_psgd(uc, yc, fit_order, burn, self._standard_init())
        return self._fit_gn(uc, yc, fit_order, burn, self._standard_init())

    def _standard_init(self) -> Any:
        """``init`` in standardised units (a model is rescaled, a name kept)."""
        if isinstance(self.init, CanonicalSystem):
            return self._scaled(self.init, inverse=True)
        return self.init

    def _fit_gn(
        self, uc: np.ndarray, yc: np.ndarray, fit_order: int, burn: int, init: Any
    ) -> TrainResult:
        """The canonical-form projected Gauss-Newton solver on all the data."""
        return gauss_newton(
            uc,
            yc,
            sequences=True,
            order=fit_order,
            init=init,
            burn_in=burn,
            region=self._region_for("gn"),
            max_iter=self.max_iter,
            **self._run_options(),
        )

    def _fit_state_space(self, uc: np.ndarray, yc: np.ndarray, order: int) -> TrainResult:
        """Robust state-space fit: starts and initial-state treatment chosen on a hold-out.

        The choice is made on at most ``_SCREEN_SAMPLES`` samples; on longer records the
        winner is refined on all the data (SISO: by the fused canonical-form solver).
        """
        us, ys = _screening_part(uc, yc)
        whole = us.shape[:2] == uc.shape[:2]
        siso = us.shape[2] == ys.shape[2] == 1  # its long-record solver starts coarse anyway
        refine = whole or not siso
        if self._order_fit is not None and refine:  # order='auto' fitted it already
            model, info = self._order_fit
        else:
            model, info = fit_best(us, ys, order, refine=refine, **self._state_space_options())
        self.start_info_ = {k: info[k] for k in ("start", "x0_mode", "selected_by") if k in info}
        self._fit_x0 = info.get("x0") if whole and info.get("x0_mode") != "zero" else None
        if self.criterion == "prediction":
            x0 = info.get("x0_mode", "zero") if whole else "zero"
            kept = self._order_refined.get(order) if whole else None  # order='auto' did it
            return self._fit_innovations(uc, yc, model, x0, kept)
        if model.is_siso:
            canonical = _to_canonical(model)
            if canonical is not None and whole:
                return _result(canonical, info)
            return self._fit_gn(uc, yc, order, 0, canonical if canonical is not None else "zero")
        if not whole:
            model, info = fit_state_space(
                uc, yc, order, x0="zero", start=model, max_iter=self.max_iter
            )
        return _result(model, info)

    def _fit_innovations(
        self,
        uc: np.ndarray,
        yc: np.ndarray,
        start: StateSpaceSystem,
        x0: str,
        kept: tuple[StateSpaceSystem, dict[str, Any]] | None = None,
    ) -> TrainResult:
        """``criterion='prediction'``: the output-error fit refined as the innovations form
        (from ``K = 0``) on all the data, with the output-error fit's initial-state treatment.

        Started from the output-error optimum rather than screened from the named starts:
        at the best order that gave flutter 52.5 against 47.0, ballbeam 42.5 against 28.1
        and powerplant 26.8 against 12.5 (``benchmarks/results/unseen_plants.md``).
        ``kept``: this very refinement, already run by ``order='auto'`` on the same data.
        """
        model, info = self._innovations(uc, yc, start, x0) if kept is None else kept
        canonical = _to_canonical(model) if model.is_siso else None
        return _result(model if canonical is None else canonical, info)

    def _innovations(
        self, u3: np.ndarray, y3: np.ndarray, start: StateSpaceSystem, x0: str
    ) -> tuple[StateSpaceSystem, dict[str, Any]]:
        """The prediction-error refinement of the output-error fit ``start`` (from ``K = 0``)."""
        return fit_state_space(
            u3, y3, start.order, x0=x0, criterion="prediction", start=start, max_iter=self.max_iter
        )

    def _refit_innovations(self, us: np.ndarray, ys: np.ndarray) -> Any:
        """``criterion='prediction'``, ``order='auto'``: each order is scored as the
        innovations-form refinement it would return, not as its output-error start (the
        refinement swings with the order: CD_player_arm's order 4 validated at 31.6 %
        where the output error's choice of order was made; the choice among the refined
        fits cut the summed regret over 16 DaISy records from 115 to 65 points)."""

        def refit(model: StateSpaceSystem, info: dict[str, Any]) -> StateSpaceSystem | None:
            try:
                out = self._innovations(us, ys, model, info.get("x0_mode", "zero"))
            except (DataError, ParameterError, np.linalg.LinAlgError):
                return None
            self._order_refined[model.order] = out  # the final fit reuses the chosen one
            return out[0]

        return refit

    def _state_space_options(self) -> dict[str, Any]:
        """``fit_best`` options that follow from the hyper-parameters (the starts are
        chosen on the output error whatever the ``criterion``)."""
        return {"max_iter": self.max_iter, "centre": self.demean}

    def _select_order(self, uc: np.ndarray, yc: np.ndarray, io: IOArrays, burn: int) -> int:
        """``order='auto'``: ``select_order`` among the orders the data support."""
        us, ys = _screening_part(uc, yc)
        top = 1
        for k in range(1, _AUTO_MAX_ORDER + 1):
            if _n_params(k, io.n_inputs, io.n_outputs, self.structure_) * 3 < us.size:
                top = k
        orders = list(range(1, top + 1))
        options = self._state_space_options()
        if self.order_selection == "bic":  # the chosen order's fit is kept for _fit_state_space
            refit = self._refit_innovations(us, ys) if self.criterion == "prediction" else None
            best, scores, self._order_fit = _bic_choice(us, ys, orders, options, refit)
        else:
            best, scores = select_order(us, ys, orders, method="holdout", **options)
        self.order_scores_ = dict(scores)
        _warn_if_barely_supported(int(best), io.n_inputs, io.n_outputs, ys.shape[0], ys.size)
        return int(best)

    def _check_result(self) -> None:
        """Never return silently a non-finite or identically-zero model."""
        sys_ = self.system_
        if not np.all(np.isfinite(_entries(sys_, learn_d=True))):
            raise ConvergenceError("fit: the learned model has non-finite coefficients")
        # r_0 .. r_{n+1} all zero means every Markov parameter is (Cayley-Hamilton)
        if not np.any(sys_.markov(sys_.order + 2) != 0):
            raise ConvergenceError(
                f"fit: the learned model is identically zero after {self.n_iter_} "
                "iterations/steps (no excitation reached it); raise steps/max_iter or lr"
            )

    def _uncertainty(
        self, result: TrainResult, uc: np.ndarray, yc: np.ndarray, burn: int
    ) -> ParameterCovariance | StateSpaceCovariance | None:
        """The parameter covariance (user units) of a Gauss-Newton fit of the returned order."""
        if self.method != "gn" or self.overparam is not None or self.criterion != "simulation":
            return None  # prediction-error fits: the output-error information does not apply
        if isinstance(result.model, StateSpaceSystem):
            try:
                sc = _state_space_covariance3(result.model, uc, yc, self._fit_x0)
            except (DataError, np.linalg.LinAlgError):  # no residual degrees of freedom
                return None
            return sc.to_units(self.input_scale_, self.output_scale_)
        pc = _parameter_covariance(result.model, uc, yc, burn, True, True, _RCOND)
        lost = len(pc.covariance) - pc.rank
        if lost > 0:
            warnings.warn(
                f"fit: {lost} parameter combination(s) of the order-{result.model.order} model "
                "are not determined by these data (a near pole-zero cancellation, or an "
                "input that does not excite it) and get no variance in covariance_; a lower "
                "order may describe the data as well",
                RuntimeWarning,
                stacklevel=3,
            )
        return pc.to_units(self.input_scale_, self.output_scale_)

    def _store_covariance(self, cov: ParameterCovariance | StateSpaceCovariance | None) -> None:
        """``covariance_``, ``parameter_names_`` and ``noise_variance_`` (None without ``cov``)."""
        if cov is None:
            self.covariance_ = self.parameter_names_ = self.noise_variance_ = None
            return
        self.covariance_, self.parameter_names_ = cov.covariance, tuple(cov.names)
        self.noise_variance_ = np.asarray(cov.noise_variance)

    def _normalise(self, io: IOArrays) -> tuple[np.ndarray, np.ndarray]:
        """Store offsets and scales; return the centred, standardised data.

        Each channel is first divided by its largest magnitude, so neither its mean
        nor its spread can overflow or underflow, whatever the data's units.
        """
        u_off, u_scale, uc = _moments(io.u, self.demean, self.standardize)
        y_off, y_scale, yc = _moments(io.y, self.demean, self.standardize)
        constant = (np.ptp(io.u, axis=(0, 1)) == 0, np.ptp(io.y, axis=(0, 1)) == 0)
        self._keep_moments((u_off, u_scale), (y_off, y_scale), constant)
        return uc, yc

    def _normalise_lazily(self, io: IOArrays) -> tuple[ScaledRecord, ScaledRecord]:
        """:meth:`_normalise` for a record left on disk: two block passes, no copy."""
        opts = (self.demean, self.standardize)
        # one pass finds both; streaming_io has checked the values are finite
        *u_moments, u_constant = _streaming_stats(io.u, *opts, check=False)
        *y_moments, y_constant = _streaming_stats(io.y, *opts, check=False)
        self._keep_moments(tuple(u_moments), tuple(y_moments), (u_constant, y_constant))
        return ScaledRecord(io.u, *u_moments), ScaledRecord(io.y, *y_moments)

    def _keep_moments(
        self,
        u_moments: tuple[Any, Any],
        y_moments: tuple[Any, Any],
        constant: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Check and store ``(offset, scale)`` of inputs and outputs (either path);
        ``constant`` marks the input and the output channels that never change."""
        for name, (offset, scale) in (("u", u_moments), ("y", y_moments)):
            if not (np.all(np.isfinite(offset)) and np.all(np.isfinite(scale))):
                raise DataError(f"{name}: values are beyond what float64 can represent")
        why = (  # (one channel, several)
            ("is constant and does not excite the system", "are constant and do not excite it"),
            ("is constant: it has no dynamics to identify", "are constant: nothing to identify"),
        )
        for name, side, flags, reason in zip("uy", ("input", "output"), constant, why, strict=True):
            if np.any(flags):
                cols = ", ".join(map(str, np.flatnonzero(flags)))
                if np.count_nonzero(flags) == 1:
                    msg = f"{side} column {cols} (0-based) {reason[0]}; drop it"
                else:
                    msg = f"{side} columns {cols} (0-based) {reason[1]}; drop them"
                raise DataError(f"{name}: {msg} from {name}")
        self.input_offset_, self.input_scale_ = u_moments
        self.output_offset_, self.output_scale_ = y_moments

    def _scaled(self, system: Any, *, inverse: bool = False) -> Any:
        """A model in standardised units -> the user's units (``inverse``: the other way)."""
        if isinstance(system, StateSpaceSystem):
            su, sy = self.input_scale_, self.output_scale_
            if inverse:
                su, sy = 1.0 / su, 1.0 / sy
            with np.errstate(over="ignore", divide="ignore"):
                B, C, D = system.B / su, system.C * sy[:, None], system.D * np.outer(sy, 1.0 / su)
            if not all(np.all(np.isfinite(x)) for x in (B, C, D)):
                raise DataError(
                    "y/u: the ratio of output to input scale is beyond what float64 can represent"
                )
            return StateSpaceSystem(system.A, B, C, D, dt=system.dt)
        with np.errstate(over="ignore", divide="ignore"):
            gain = np.outer(self.output_scale_, 1.0 / self.input_scale_)  # (p, m)
            if inverse:
                gain = 1.0 / gain
            if system.is_siso:
                c, d = system.c * gain[0, 0], float(system.d) * gain[0, 0]
            else:
                c, d = system.c * gain, np.asarray(system.d) * gain
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(d))):
            raise DataError(
                "y/u: the ratio of output to input scale is beyond what float64 can represent"
            )
        return system.with_params(c=c, d=d)

    @staticmethod
    def _check_data_size(io: IOArrays, fit_order: int, burn: int, structure: str) -> None:
        m, p = io.n_inputs, io.n_outputs
        n_params = _n_params(fit_order, m, p, structure)
        count = io.n_sequences * (io.length - burn) * p
        if count <= n_params:
            raise DataError(
                f"order: {fit_order} is larger than the data supports: {n_params} parameters "
                f"from {count} samples after a burn-in of {burn}"
            )

    def _store(self, result: TrainResult, order: int, io: IOArrays, dt: float | None) -> None:
        self.train_result_: TrainResult = result
        self.system_full_ = self._scaled(result.model).with_dt(dt)
        self.system_ = (
            self._scaled(reduce(result.model, order)).with_dt(dt)
            if self.overparam is not None
            else self.system_full_
        )
        self.history_ = np.asarray(result.loss_history)
        self.n_iter_ = int(result.n_steps)
        self.n_features_in_ = io.n_inputs
        self.n_outputs_ = io.n_outputs
        self.layout_: Layout = "sequences" if io.sequences else "record"

    def _fit_psgd(
        self, uc: np.ndarray, yc: np.ndarray, fit_order: int, burn: int, init: Any
    ) -> TrainResult:
        siso = uc.shape[2] == 1 and yc.shape[2] == 1
        if self.window is not None:
            if not siso:
                raise UnsupportedShapeError(
                    "window: windows are cut from single-input single-output records"
                )
            if uc.shape[0] != 1:
                raise DataError("window: windows are cut from one long record, got sequences")
            if self.window > uc.shape[1]:
                raise DataError(
                    f"window: {self.window} samples is longer than the record ({uc.shape[1]})"
                )
            source = window_batches(uc[0, :, 0], yc[0, :, 0], self.window, self.batch_size or 1)
            burn = resolve_burn_in(self.burn_in, self.window)
        else:
            source = sequence_batches(uc, yc, self.batch_size, sequences=True)
        return projected_sgd(
            source,
            order=fit_order,
            steps=self.steps,
            lr=self.lr,
            burn_in=burn,
            region=self._region_for("psgd"),
            clip=self.clip,
            init=init,
            random_state=self.random_state,
            on_divergence="raise",
            **self._run_options(),
        )

    def _run_options(self) -> dict[str, Any]:
        """Progress, checkpoint and cost-guard options forwarded to the solver."""
        opts: dict[str, Any] = {
            "progress": self.progress,
            "checkpoint": self.checkpoint,
            "resume": self.resume,
            "force": self.force,
        }
        if self.checkpoint_every is not None:
            opts["checkpoint_every"] = self.checkpoint_every
        return opts

    # ------------------------------------------------------------------ predict / score
    def _check_fitted(self, method: str) -> None:
        """Refuse ``method`` before ``fit`` with learnlds' :class:`NotFittedError`
        (also scikit-learn's, which its checks and callers catch)."""
        try:
            check_is_fitted(self, "system_")
        except _SklearnNotFittedError:
            raise NotFittedError(
                f"{method}: this {type(self).__name__} is not fitted yet; call fit(u, y) first"
            ) from None

    def _io(self, u: Any, y: Any, sequences: bool, method: str) -> IOArrays:
        self._check_fitted(method)
        self._check_names(u, y, sequences)
        io = as_io(_sk_array(u, "u"), _sk_array(y, "y"), sequences=sequences)
        wrong_u = channel_mismatch(io.u, "u", self.n_features_in_, "input", sequences)
        if wrong_u:  # scikit-learn's phrase too, for code that matches on it
            raise DataError(
                f"{wrong_u} (X has {io.n_inputs} features, but LDSRegressor is expecting "
                f"{self.n_features_in_} features as input)"
            )
        if y is not None:
            wrong_y = channel_mismatch(io.y, "y", self.n_outputs_, "output", sequences)
            if wrong_y:
                raise DataError(wrong_y)
        return io

    def _simulate(self, io: IOArrays) -> np.ndarray:
        uc = io.u - self.input_offset_
        return simulate_canonical(self.system_, uc) + self.output_offset_

    def predict(self, u: Any, *, sequences: bool = False) -> np.ndarray:
        """Simulated output from zero state (offsets re-applied), laid out like ``u``.

        Parameters
        ----------
        u : array_like
            Inputs with the fitted number of channels, laid out as in :meth:`fit`.
        sequences : bool, default False
            Read the leading axis as ``N`` sequences.

        Returns
        -------
        numpy.ndarray
            ``(T,)`` / ``(T, p)`` for a record, ``(N, T)`` / ``(N, T, p)`` for sequences.

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        DataError
            ``u`` not numeric (strings included), not finite, or with another
            number of input channels than the fitted model.

        Examples
        --------
        >>> import numpy as np
        >>> u = np.random.default_rng(0).normal(size=500)
        >>> est = LDSRegressor(order=1).fit(u, CanonicalSystem([-0.5], [1.0]).simulate(u))
        >>> est.predict(np.zeros((3, 10)), sequences=True).shape
        (3, 10)
        """
        io = self._io(u, None, sequences, "predict")
        return io.to_user(self._simulate(io))

    def score(self, u: Any, y: Any, sample_weight: Any = None, *, sequences: bool = False) -> float:
        """Fit percent of the simulated output against ``y``, averaged over outputs.

        Parameters
        ----------
        u, y : array_like
            Inputs and measured outputs, laid out as in :meth:`fit`.
        sample_weight : None
            Not supported (rows are time steps); must be ``None``.
        sequences : bool, default False
            Read the leading axis as ``N`` sequences.

        Returns
        -------
        float
            ``100 (1 - ||y - yhat|| / ||y - mean(y)||)``; 100 is perfect.

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        ParameterError
            ``sample_weight`` given.
        DataError
            ``y`` missing; data not numeric or not finite, or channel counts that
            differ from the fitted model's.

        Examples
        --------
        >>> import numpy as np
        >>> u = np.random.default_rng(0).normal(size=500)
        >>> y = CanonicalSystem([-0.5], [1.0]).simulate(u)
        >>> round(LDSRegressor(order=1, demean=False).fit(u, y).score(u, y), 3)
        100.0
        """
        self._check_fitted("score")
        if sample_weight is not None:
            raise ParameterError("sample_weight: not supported for dynamical data")
        if y is None:
            raise DataError("y: the measured outputs are required to score, got None")
        io = self._io(u, y, sequences, "score")
        return float(np.mean(_channel_fits(io.y, self._simulate(io))))

    def _require_covariance(self, method: str) -> np.ndarray:
        self._check_fitted(method)
        if self.covariance_ is None:
            raise UnsupportedShapeError(
                "covariance_: available after a Gauss-Newton fit (method='gn') without overparam"
            )
        return self.covariance_

    def frequency_response_std(self, w: Any) -> FrequencyResponseStd:
        """Frequency response of ``system_`` with standard errors (delta method).

        Parameters
        ----------
        w : array_like
            Frequencies in rad/sample.

        Returns
        -------
        FrequencyResponseStd
            ``response`` and the standard errors of its real and imaginary parts,
            magnitude and phase.

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        UnsupportedShapeError
            No ``covariance_`` (not a Gauss-Newton output-error fit, or ``overparam``).

        Examples
        --------
        >>> import numpy as np
        >>> u = np.random.default_rng(0).normal(size=2000)
        >>> noise = 0.1 * np.random.default_rng(1).normal(size=2000)
        >>> y = CanonicalSystem([-0.5], [1.0]).simulate(u) + noise
        >>> est = LDSRegressor(order=1).fit(u, y)
        >>> bool(np.all(est.frequency_response_std([0.1, 1.0]).magnitude > 0))
        True
        """
        cov = self._require_covariance("frequency_response_std")
        return frequency_response_std(self.system_, cov, w)

    def predict_std(self, u: Any, *, sequences: bool = False) -> np.ndarray:
        """Standard error of :meth:`predict` (the model's uncertainty, not the noise).

        Parameters
        ----------
        u : array_like
            Inputs, laid out as in :meth:`fit`.
        sequences : bool, default False
            Read the leading axis as ``N`` sequences.

        Returns
        -------
        numpy.ndarray
            Shaped like :meth:`predict`'s output.

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        UnsupportedShapeError
            No ``covariance_`` (not a Gauss-Newton output-error fit, or ``overparam``).
        DataError
            ``u`` refused as by :meth:`predict`.

        Examples
        --------
        >>> import numpy as np
        >>> u = np.random.default_rng(0).normal(size=2000)
        >>> noise = 0.1 * np.random.default_rng(1).normal(size=2000)
        >>> y = CanonicalSystem([-0.5], [1.0]).simulate(u) + noise
        >>> est = LDSRegressor(order=1).fit(u, y)
        >>> est.predict_std(u[:50]).shape
        (50,)
        """
        cov = self._require_covariance("predict_std")
        io = self._io(u, None, sequences, "predict_std")
        std = output_std(self.system_, cov, io.u - self.input_offset_, sequences=True)
        return io.to_user(std.reshape(io.u.shape[:2] + (-1,)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags
