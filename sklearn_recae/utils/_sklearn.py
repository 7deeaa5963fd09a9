"""The one shim over scikit-learn's private helpers.

scikit-learn keeps its parameter-validation machinery (``Interval``,
``StrOptions``, ``_fit_context``) and the base of its meta-estimators
(``_BaseComposition``) private. Importing it here, and only here,
means a scikit-learn upgrade that moves these names touches one file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "BaseComposition",
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
    "check_is_fitted",
    "validate_data",
    "validate_params",
]
