"""Input/output data sets: a small container, file readers, DaISy records and synthetic data.

* :class:`IOData` (:mod:`~learnlds.datasets.iodata`) holds one experiment: inputs
  ``u`` of shape ``(T, n_inputs)``, outputs ``y`` of shape ``(T, n_outputs)``,
  sampling time, names and units.
* :mod:`~learnlds.datasets.readers` reads CSV, whitespace text and ``.npz`` files
  (``IOData.from_file``) with errors that name the file and line.
* :func:`load_daisy` (:mod:`~learnlds.datasets.daisy`) returns real measured sets from
  DaISy, KU Leuven's Database for the Identification of Systems. The three small
  SISO records ``dryer``, ``ballbeam`` and ``flutter`` ship with the package and load
  offline; the larger ones come from ``$LEARNLDS_DATA``, a cache or a verified
  download.
* :func:`prbs` and :func:`synthetic_dryer` (:mod:`~learnlds.datasets.signals`) give
  data that needs no files at all, with a known true system.

Examples
--------
>>> from learnlds.datasets import load_daisy
>>> dryer = load_daisy("dryer")
>>> dryer.u.shape, dryer.y.shape
((1000, 1), (1000, 1))
"""

from __future__ import annotations

from .daisy import (
    CITATION,
    DAISY,
    DAISY_URL_ENV,
    DATA_ENV,
    DEFAULT_DAISY_URLS,
    DaisySet,
    daisy_cache_dir,
    find_daisy,
    load_daisy,
)
from .iodata import ColumnSpec, IOData
from .readers import read_fields, read_inputs, read_table
from .signals import (
    SYNTHETIC_DRYER_DT,
    SYNTHETIC_DRYER_LEVELS,
    SYNTHETIC_DRYER_NOISE,
    SYNTHETIC_DRYER_U_REF,
    SYNTHETIC_DRYER_Y_OFFSET,
    prbs,
    synthetic_dryer,
    synthetic_dryer_system,
)

__all__ = [
    "CITATION",
    "DAISY",
    "DAISY_URL_ENV",
    "DATA_ENV",
    "DEFAULT_DAISY_URLS",
    "SYNTHETIC_DRYER_DT",
    "SYNTHETIC_DRYER_LEVELS",
    "SYNTHETIC_DRYER_NOISE",
    "SYNTHETIC_DRYER_U_REF",
    "SYNTHETIC_DRYER_Y_OFFSET",
    "ColumnSpec",
    "DaisySet",
    "IOData",
    "daisy_cache_dir",
    "find_daisy",
    "load_daisy",
    "prbs",
    "read_fields",
    "read_inputs",
    "read_table",
    "synthetic_dryer",
    "synthetic_dryer_system",
]
