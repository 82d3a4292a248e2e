"""learnlds: learn linear dynamical systems by projected gradient descent (Hardt, Ma, Recht).

The main entry points: :class:`CanonicalSystem` (the model), :class:`LDSRegressor`
(the scikit-learn estimator), :func:`projected_sgd` and :func:`gauss_newton` (the
solvers), :class:`PacmanRegion` (where the guarantee holds), :func:`reduce`
(balanced truncation), :func:`holdout` (the validation protocol) and :func:`load`
(read any saved model). Errors are typed (:mod:`learnlds.errors`).

Examples
--------
>>> import learnlds
>>> learnlds.CanonicalSystem([-0.5], [1.0]).is_stable()
True
"""

from .analysis import estimate_tau, segment_profile
from .baselines import IdentifiedSystem, arx, ho_kalman, n4sid, oe
from .datasets import IOData, find_daisy, load_daisy, prbs, synthetic_dryer
from .errors import (
    ConvergenceError,
    DataError,
    LearnLDSError,
    ParameterError,
    ProjectionError,
    UnsupportedShapeError,
)
from .estimator import LDSRegressor
from .modelfile import load
from .reduce import hankel_singular_values, reduce
from .region import PacmanRegion
from .risk import Gradient, idealized_risk, loss, loss_and_grad, population_risk
from .statespace import StateSpaceSystem
from .systems import CanonicalSystem
from .train import TrainResult, gauss_newton, projected_sgd
from .validate import HoldoutResult, compare, fit_percent, holdout, residual_analysis

__version__ = "0.1.0"

__all__ = [
    "StateSpaceSystem",
    "ConvergenceError",
    "DataError",
    "HoldoutResult",
    "LearnLDSError",
    "ParameterError",
    "UnsupportedShapeError",
    "holdout",
    "IdentifiedSystem",
    "arx",
    "compare",
    "fit_percent",
    "ho_kalman",
    "n4sid",
    "oe",
    "residual_analysis",
    "CanonicalSystem",
    "Gradient",
    "IOData",
    "LDSRegressor",
    "PacmanRegion",
    "ProjectionError",
    "TrainResult",
    "find_daisy",
    "gauss_newton",
    "hankel_singular_values",
    "idealized_risk",
    "load",
    "load_daisy",
    "loss",
    "loss_and_grad",
    "population_risk",
    "prbs",
    "projected_sgd",
    "reduce",
    "segment_profile",
    "estimate_tau",
    "synthetic_dryer",
]
