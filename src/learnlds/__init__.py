"""learnlds: learn linear dynamical systems by projected gradient descent (Hardt, Ma, Recht)."""

from .risk import Gradient, idealized_risk, loss, loss_and_grad, population_risk
from .systems import CanonicalSystem, load

__version__ = "0.1.0"

__all__ = [
    "CanonicalSystem",
    "Gradient",
    "idealized_risk",
    "load",
    "loss",
    "loss_and_grad",
    "population_risk",
]
