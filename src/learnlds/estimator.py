"""``LDSRegressor``: a scikit-learn estimator that learns a linear dynamical system.

Data conventions (time runs along the rows, as in scikit-learn):

* ``u`` of shape ``(T,)`` or ``(T, m)`` with ``y`` of shape ``(T,)`` or ``(T, p)``: one
  record of ``T`` samples with ``m`` inputs and ``p`` outputs;
* ``u`` and ``y`` both of shape ``(N, T)``: ``N`` SISO sequences of length ``T`` (the
  paper's setting). ``fit(u, y, sequences=True)`` says so explicitly; left to itself
  (``sequences=None``) a same-shaped 2-D pair is read as sequences when it is wider
  than tall (``T > N``), else as one record with several inputs and outputs. A column
  vector ``(T, 1)`` is always one record. A model with one input reads a 2-D ``u``
  with several columns in ``predict`` as sequences.

``score`` is the fit percent ``100 (1 - ||y - yhat|| / ||y - mean(y)||)`` of a
simulation from zero state, the figure system-identification users compare.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted

from .reduce import reduce
from .risk import resolve_burn_in
from .systems import CanonicalSystem, as_real_array
from .train import (
    TrainResult,
    gauss_newton,
    projected_sgd,
    sequence_batches,
    window_batches,
)
from .validate import fit_percent

Layout = Literal["record", "sequences"]


def _to_array(value: Any, name: str) -> np.ndarray:
    """numpy/pandas/list -> finite float array of 1 or 2 dimensions, or a clear ``ValueError``.

    scikit-learn's ``check_array`` supplies its standard messages (sparse, complex,
    empty, non-numeric); non-finite values are reported by name here.
    """
    if value is None:
        raise ValueError(f"{name}: requires {name} to be passed, but it is None")
    arr = check_array(
        value,
        accept_sparse=False,
        dtype=np.float64,
        ensure_2d=False,
        allow_nd=False,
        ensure_all_finite=False,
        ensure_min_samples=1,
        input_name=name,
    )
    return as_real_array(arr, name, ndim=(1, 2))


def coerce_data(
    u: Any, y: Any | None = None, sequences: bool | None = None
) -> tuple[np.ndarray, np.ndarray | None, Layout]:
    """Arrange ``u`` (and ``y``) as ``(N, T, m)`` / ``(N, T, p)`` arrays and name the layout.

    ``sequences``: ``True`` reads 2-D arrays as ``(N, T)`` SISO sequences, ``False`` as one
    ``(T, channels)`` record, ``None`` decides by shape (see the module docstring).
    """
    ua = _to_array(u, "u")
    ya = None if y is None else _to_array(y, "y")
    if ua.size == 0:
        raise ValueError("u: no samples")
    if sequences is None:
        same = ya is None or ya.shape == ua.shape
        sequences = ua.ndim == 2 and same and 1 < ua.shape[1] and ua.shape[0] < ua.shape[1]
    if sequences:
        if ua.ndim != 2 or (ya is not None and ya.shape != ua.shape):
            raise ValueError(
                "u and y: sequences must be 2-D arrays of the same shape (N, T), got "
                f"{ua.shape} and {None if ya is None else ya.shape}"
            )
        return ua[..., None], (None if ya is None else ya[..., None]), "sequences"
    u3 = ua.reshape(1, ua.shape[0], -1)
    if ya is None:
        return u3, None, "record"
    y3 = ya.reshape(1, ya.shape[0], -1)
    if u3.shape[1] != y3.shape[1]:
        raise ValueError(
            f"u and y: lengths differ ({u3.shape[1]} input samples vs {y3.shape[1]} output samples)"
        )
    return u3, y3, "record"


class LDSRegressor(RegressorMixin, BaseEstimator):
    """Learn ``h_{t+1} = A h_t + B u_t, y_t = C h_t + D u_t`` in controllable canonical form.

    Parameters
    ----------
    order : int
        Order ``n`` of the returned model.
    method : {'gn', 'psgd'}
        ``'gn'``: the fast full-data projected Gauss-Newton/Levenberg-Marquardt solver;
        ``'psgd'``: the paper's projected SGD (MIMO through the common denominator).
    overparam : int or None
        Learn at order ``overparam`` (> ``order``) inside the region, then reduce to
        ``order`` by balanced truncation; both models are kept (``system_full_``).
    region : 'auto', 'pacman', PacmanRegion or None
        Where ``a`` is kept: the post's Pac-Man region, another region, or ``None``
        (gn: stability only; psgd: plain SGD). ``'auto'`` (default) is the Pac-Man region
        for psgd (the paper's guarantee) and stability only for gn: real plants such as
        the hair dryer have poles outside the Pac-Man region, where an order-n model in
        the region is biased; learn such systems in the region with ``overparam``.
    burn_in : int or None
        Samples excluded from the loss at the start of every sequence (``None``: T // 4).
    steps, lr, batch_size, window, clip, init : psgd settings
        See :func:`learnlds.train.projected_sgd`.
    max_iter : int
        Iterations of the gn solver.
    demean : bool
        Remove input/output means before fitting; ``predict`` adds them back.
    random_state : int or None
        Seed for minibatch/window sampling.
    """

    def __init__(
        self,
        order: int = 3,
        *,
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
        random_state: int | None = None,
        progress: bool = False,
    ) -> None:
        self.order = order
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
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def _check_params(self) -> tuple[int, int]:
        if isinstance(self.order, bool) or not isinstance(self.order, int | np.integer):
            raise ValueError(f"order: must be a positive integer, got {self.order!r}")
        if self.order < 1:
            raise ValueError(f"order: must be >= 1, got {self.order}")
        fit_order = int(self.order)
        if self.overparam is not None:
            if isinstance(self.overparam, bool) or not isinstance(self.overparam, int | np.integer):
                raise ValueError(f"overparam: must be an integer or None, got {self.overparam!r}")
            if self.overparam <= self.order:
                raise ValueError(
                    f"overparam: must exceed order={self.order} (it is the learning order), "
                    f"got {self.overparam}"
                )
            fit_order = int(self.overparam)
        if self.method not in ("gn", "psgd"):
            raise ValueError(f"method: must be 'gn' or 'psgd', got {self.method!r}")
        return int(self.order), fit_order

    def _region_for(self, method: str) -> Any:
        if isinstance(self.region, str) and self.region == "auto":
            return "pacman" if method == "psgd" else None
        return self.region

    def fit(self, u: Any, y: Any, *, sequences: bool | None = None) -> LDSRegressor:
        """Learn the system from inputs ``u`` and outputs ``y``; returns ``self``.

        ``sequences=True`` reads 2-D ``(N, T)`` arrays as N SISO sequences (see the module
        docstring for the automatic rule).
        """
        order, fit_order = self._check_params()
        if y is None:
            raise ValueError("y: requires y to be passed, but the target y is None")
        u3, y3, layout = coerce_data(u, y, sequences)
        N, T, m = u3.shape
        p = y3.shape[2]
        if T < 2:
            raise ValueError(f"u: {T} sample is too short a sequence to learn dynamics")
        burn = resolve_burn_in(self.burn_in, T)
        if self.demean:
            self.input_offset_ = u3.mean(axis=(0, 1))
            self.output_offset_ = y3.mean(axis=(0, 1))
        else:
            self.input_offset_ = np.zeros(m)
            self.output_offset_ = np.zeros(p)
        uc = u3 - self.input_offset_
        yc = y3 - self.output_offset_
        if np.all(np.ptp(uc, axis=(0, 1)) == 0):
            raise ValueError("u: the input is constant, it does not excite the system")
        n_params = fit_order + p * (fit_order + 1) * m
        if N * (T - burn) * p <= n_params:
            raise ValueError(
                f"order: {fit_order} is larger than the data supports: {n_params} parameters "
                f"from {N * (T - burn) * p} samples after a burn-in of {burn}"
            )
        siso = m == 1 and p == 1
        if self.method == "psgd":
            result = self._fit_psgd(
                uc[..., 0] if siso else uc,
                yc[..., 0] if siso else yc,
                fit_order,
                burn,
                siso,
            )
        else:
            xs, ys = (uc[..., 0], yc[..., 0]) if siso else (uc, yc)
            result = gauss_newton(
                xs,
                ys,
                order=fit_order,
                init=self.init,
                burn_in=burn,
                region=self._region_for("gn"),
                max_iter=self.max_iter,
            )
        self.train_result_: TrainResult = result
        self.system_full_: CanonicalSystem = result.model
        if self.overparam is not None:
            self.system_: CanonicalSystem = reduce(result.model, order)
        else:
            self.system_ = result.model
        self.history_ = np.asarray(result.loss_history)
        self.n_iter_ = int(result.n_steps)
        self.n_features_in_ = m
        self.n_outputs_ = p
        self.layout_ = layout
        return self

    def _fit_psgd(self, u, y, fit_order, burn, siso) -> TrainResult:
        if self.window is not None:
            if not siso:
                raise ValueError("window: windows are cut from single-input single-output records")
            if u.shape[0] != 1:
                raise ValueError("window: windows are cut from one long record, got several")
            source = window_batches(u[0], y[0], self.window, self.batch_size or 1)
            burn = resolve_burn_in(self.burn_in, self.window)
        else:
            source = sequence_batches(u, y, self.batch_size)
        return projected_sgd(
            source,
            order=fit_order,
            steps=self.steps,
            lr=self.lr,
            burn_in=burn,
            region=self._region_for("psgd"),
            clip=self.clip,
            init=self.init,
            rng=self.random_state,
            progress=self.progress,
            on_divergence="raise",
        )

    # ------------------------------------------------------------------ predict / score
    def predict(self, u: Any) -> np.ndarray:
        """Simulated output from zero state (offsets re-applied), shaped like ``u``'s layout."""
        check_is_fitted(self, "system_")
        ua = _to_array(u, "u")
        as_sequences = ua.ndim == 2 and ua.shape[1] > 1 and self.n_features_in_ == 1
        u3, _, layout = coerce_data(ua, None, as_sequences)
        if u3.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {u3.shape[2]} features, but LDSRegressor is expecting "
                f"{self.n_features_in_} features as input (u: one column per input)"
            )
        uc = u3 - self.input_offset_
        sys_ = self.system_
        if sys_.is_siso:
            yhat = sys_.simulate(uc[..., 0])[..., None]
        else:
            yhat = sys_.simulate(uc)
        yhat = yhat + self.output_offset_
        if layout == "sequences":
            return yhat[..., 0]
        out = yhat[0]
        return out[:, 0] if out.shape[1] == 1 else out

    def score(self, u: Any, y: Any, sample_weight: Any = None) -> float:
        """Fit percent of the simulated output against ``y`` (100 is perfect)."""
        if sample_weight is not None:
            raise ValueError("sample_weight: not supported for dynamical data")
        yhat = self.predict(u)
        ya = _to_array(y, "y").reshape(np.shape(yhat))
        if self.n_outputs_ > 1:  # a record with several outputs: the mean of their fits
            return float(np.mean([fit_percent(ya[:, k], yhat[:, k]) for k in range(yhat.shape[1])]))
        return fit_percent(ya, yhat)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags
