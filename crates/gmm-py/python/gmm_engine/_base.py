"""What the estimator takes from scikit-learn when scikit-learn is
installed (`BaseEstimator`, `DensityMixin`, `NotFittedError`), and the
little of it needed without: parameters by name, `repr`, the error."""

from __future__ import annotations

import inspect
from typing import Any

try:  # pragma: no cover - which branch runs depends on the environment
    from sklearn.base import BaseEstimator, DensityMixin
    from sklearn.exceptions import ConvergenceWarning, NotFittedError

    BASES: tuple = (DensityMixin, BaseEstimator)
    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover
    HAVE_SKLEARN = False

    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """Raised when a method needs a fitted estimator (as scikit-learn's)."""

    class ConvergenceWarning(UserWarning):  # type: ignore[no-redef]
        """A fit stopped before converging (as scikit-learn's)."""

    class BaseEstimator:  # type: ignore[no-redef]
        """Parameters by name, as scikit-learn's `BaseEstimator` has them."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values() if p.name != "self")

        def get_params(self, deep: bool = True) -> dict[str, Any]:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> "BaseEstimator":
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(
                        f"Invalid parameter {name!r} for estimator {self}. "
                        f"Valid parameters are: {valid!r}."
                    )
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            sig = inspect.signature(type(self).__init__)
            def changed_from(value: Any, default: Any) -> bool:
                if value is default:
                    return False
                try:
                    return bool(value != default)
                except (TypeError, ValueError):  # arrays compare elementwise
                    return True

            changed = [
                f"{name}={getattr(self, name)!r}"
                for name, p in sig.parameters.items()
                if name != "self" and changed_from(getattr(self, name), p.default)
            ]
            return f"{type(self).__name__}({', '.join(changed)})"

    BASES = (BaseEstimator,)
