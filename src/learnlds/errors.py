"""The errors and warnings learnlds raises, in one place.

Every error derives from :class:`LearnLDSError` and also from the builtin that
callers already catch (``ValueError`` for bad data or parameters, ``RuntimeError``
for a computation that failed), so ``except ValueError`` keeps working while
``except learnlds.errors.DataError`` can be precise.

Examples
--------
>>> from learnlds.errors import DataError, LearnLDSError
>>> issubclass(DataError, ValueError) and issubclass(DataError, LearnLDSError)
True
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DataTypeError",
    "DivergenceWarning",
    "FileFormatError",
    "LayoutWarning",
    "LearnLDSError",
    "NotFittedError",
    "OrderSelectionWarning",
    "ParameterError",
    "ProjectionError",
    "TooExpensiveError",
    "TrainingDiverged",
    "UnstableSystemWarning",
    "UnsupportedShapeError",
]


class LearnLDSError(Exception):
    """Base class of every error learnlds raises on purpose.

    Examples
    --------
    >>> try:
    ...     raise ParameterError("order: must be >= 1, got 0")
    ... except LearnLDSError as exc:
    ...     print(exc)
    order: must be >= 1, got 0
    """


class DataError(LearnLDSError, ValueError):
    """Input/output data that cannot be used: NaN or inf, wrong shape, too short, constant.

    Examples
    --------
    >>> isinstance(DataError("u: contains NaN values"), ValueError)
    True
    """


class DataTypeError(DataError, TypeError):
    """Data holding things that are not numbers (a dict, an object), as the builtin
    conversion reports them: also a ``TypeError``, which scikit-learn's checks expect.

    Examples
    --------
    >>> issubclass(DataTypeError, DataError) and issubclass(DataTypeError, TypeError)
    True
    """


class NotFittedError(LearnLDSError, _SklearnNotFittedError):
    """An estimator method that needs a fitted model was called before ``fit``.

    Also scikit-learn's ``NotFittedError`` (so a ``ValueError`` and an
    ``AttributeError``), which scikit-learn's checks and callers catch.

    Examples
    --------
    >>> from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    >>> issubclass(NotFittedError, SklearnNotFittedError)
    True
    """


class ParameterError(LearnLDSError, ValueError, TypeError):
    """A hyper-parameter or solver argument outside its allowed values or of the wrong type.

    Subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's
    ``InvalidParameterError`` does, so either ``except`` clause catches it.

    Examples
    --------
    >>> isinstance(ParameterError("max_iter: must be >= 1"), TypeError)
    True
    """


class UnsupportedShapeError(LearnLDSError, ValueError):
    """A feature asked for data or a model of a shape it does not handle (e.g. SISO only).

    Examples
    --------
    >>> str(UnsupportedShapeError("window: single-input single-output records only"))
    'window: single-input single-output records only'
    """


class FileFormatError(DataError):
    """A file (data or saved model) that does not parse or has the wrong content.

    Examples
    --------
    >>> issubclass(FileFormatError, DataError)
    True
    """


class ConvergenceError(LearnLDSError, RuntimeError):
    """An iterative computation stopped without reaching what it was asked for.

    Examples
    --------
    >>> issubclass(ConvergenceError, RuntimeError)
    True
    """


class TrainingDiverged(ConvergenceError, ValueError):
    """Training produced non-finite values (learning rate too large, or data unscaled).

    Also a ``ValueError`` for callers of earlier versions that caught that.

    Examples
    --------
    >>> issubclass(TrainingDiverged, ConvergenceError)
    True
    """


class ProjectionError(ConvergenceError):
    """The projection onto a region did not converge; no point outside it is returned.

    Examples
    --------
    >>> issubclass(ProjectionError, RuntimeError)
    True
    """


class TooExpensiveError(ParameterError):
    """A run estimated to take far too long (hours), refused unless forced.

    The message carries the estimate and what it was computed from; pass
    ``force=True`` to run anyway.

    Examples
    --------
    >>> issubclass(TooExpensiveError, ParameterError)
    True
    """


class ConvergenceWarning(UserWarning):
    """A solver stopped at its iteration limit or stagnated; the result may be poor.

    Examples
    --------
    >>> issubclass(ConvergenceWarning, UserWarning)
    True
    """


class LayoutWarning(UserWarning):
    """An array read by the shape rule in a way that is rarely meant (a tall 2-D array
    as a SISO model's sequences); pass ``sequences=`` to say which layout it is.

    Examples
    --------
    >>> issubclass(LayoutWarning, UserWarning)
    True
    """


class OrderSelectionWarning(UserWarning):
    """``order='auto'`` chose an order the data barely support: the choice is unreliable.

    Examples
    --------
    >>> issubclass(OrderSelectionWarning, UserWarning)
    True
    """


class DivergenceWarning(RuntimeWarning):
    """Training diverged; the last finite model is returned.

    Examples
    --------
    >>> issubclass(DivergenceWarning, RuntimeWarning)
    True
    """


class UnstableSystemWarning(RuntimeWarning):
    """An unstable system was simulated: its output grows without bound.

    Examples
    --------
    >>> issubclass(UnstableSystemWarning, RuntimeWarning)
    True
    """
