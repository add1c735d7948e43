"""Rows from what Python users hold: NumPy arrays (and anything NumPy reads),
and data frames through the Arrow C stream interface (pandas, polars,
pyarrow), with scikit-learn's checks and messages."""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence

import numpy as np

from . import _native

#: The largest magnitude a value may have: squares of values near 1e154
#: overflow, and EM sums squares over columns and rows (the engine's limit).
MAX_ABS_VALUE = 1e150


def is_frame(X: Any) -> bool:
    """Whether `X` is a table read through the Arrow C stream interface
    (a one-column Series or array is not: it goes to NumPy's checks)."""
    refuse_lazy(X)
    return (
        hasattr(X, "__arrow_c_stream__")
        and not isinstance(X, np.ndarray)
        and getattr(X, "ndim", 2) != 1
        and any(hasattr(X, a) for a in ("columns", "column_names", "schema"))
    )


def refuse_lazy(X: Any) -> None:
    """A lazy frame (polars') has no rows until collected."""
    if hasattr(X, "collect") and not hasattr(X, "__arrow_c_stream__"):
        raise TypeError(f"X is a lazy frame ({type(X).__name__}): call .collect() on it first")


def feature_names(X: Any) -> Optional[np.ndarray]:
    """The column names of a data frame when all are text (as scikit-learn
    records them in `feature_names_in_`), else None."""
    refuse_lazy(X)
    columns = getattr(X, "column_names", None)  # pyarrow (whose `columns` are arrays)
    if columns is None:
        columns = getattr(X, "columns", None)  # pandas, polars
    if columns is None:
        schema = getattr(X, "schema", None)  # pyarrow RecordBatchReader
        columns = getattr(schema, "names", None)
    if columns is None:
        return None
    names = list(columns)
    types = sorted({type(n).__name__ for n in names})
    if not names or types == ["str"]:
        return np.asarray(names, dtype=object) if names else None
    if "str" in types:
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {types} as feature name / column name types. "
            "If you want feature names to be stored and validated, you must convert "
            "them all to strings, by using X.columns = X.columns.astype(str) for "
            "example. Otherwise you can remove feature / column names from your input "
            "data, or convert them all to a non-string data type."
        )
    return None


def check_feature_names(estimator: Any, X: Any, *, reset: bool) -> None:
    """scikit-learn's rules for `feature_names_in_`: recorded by fit,
    compared (same names, same order) by every later call."""
    names = feature_names(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            delattr(estimator, "feature_names_in_")
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    cls = type(estimator).__name__
    if fitted is None and names is None:
        return
    if names is not None and fitted is None:
        warnings.warn(f"X has feature names, but {cls} was fitted without feature names")
        return
    if names is None and fitted is not None:
        warnings.warn(
            f"X does not have valid feature names, but {cls} was fitted with feature names"
        )
        return
    if len(fitted) == len(names) and np.all(fitted == names):
        return
    message = "The feature names should match those that were passed during fit.\n"
    unexpected = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))

    def listed(items: Sequence[str]) -> str:
        out = ""
        for i, name in enumerate(items):
            if i >= 5:
                return out + "- ...\n"
            out += f"- {name}\n"
        return out

    if unexpected:
        message += "Feature names unseen at fit time:\n" + listed(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listed(missing)
    if not missing and not unexpected:
        message += "Feature names must be in the same order as they were in fit.\n"
    raise ValueError(message)


def rows(
    X: Any, name: str = "X", missing: str = "error"
) -> tuple[np.ndarray, list[str], list[str]]:
    """`X` as a C-contiguous float64 or float32 array (not copied when it
    already is one), with column names and types when `X` is a data frame.
    With ``missing="drop"`` or ``"marginalize"`` a missing value (NaN, or
    null in a frame) is let through as NaN."""
    if is_frame(X):
        try:
            return frame_rows(X, None, name, missing)
        except ImportError:
            pass  # a pandas frame without pyarrow: read through NumPy
    return array_rows(X, name, missing), [], []


def _glob_escape(name: str) -> str:
    """`name` as a column pattern that matches only itself (as `gmm predict`
    escapes a model's column names)."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def frame_rows(
    X: Any, columns: Optional[Sequence[str]], name: str = "X", missing: str = "error"
) -> tuple[np.ndarray, list[str], list[str]]:
    """The numeric columns of a data frame (or those named), read through
    its Arrow C stream: values are checked by the engine's reader."""
    if columns is None and type(X).__module__.split(".")[0] == "pandas":
        # pandas exports an index other than a plain range as a column
        # (`__index_level_0__`): the frame's own columns are the features.
        columns = [str(c) for c in X.columns]
    # Names, not patterns: a column named `a[1]` or `b*` means itself.
    exact = [_glob_escape(str(c)) for c in columns] if columns is not None else None
    x, names, types, skipped = _native.arrow_table(X, exact, name, missing)
    if skipped:
        listed = ", ".join(f"`{c}` ({t}: {why})" for c, t, why in skipped)
        raise ValueError(
            f"{name}: columns that do not hold numbers: {listed}; "
            "select the numeric columns (or encode the others as numbers) first"
        )
    return x, names, types


def array_rows(X: Any, name: str = "X", missing: str = "error") -> np.ndarray:
    """scikit-learn's `check_array` for what the engine takes: 2-D, finite,
    at least one row and one column; float64 or float32 in C order (copied
    only when the input is not already that). float32 stays float32, half
    the memory: the engine reads each value as the float64 it equals."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "Sparse data was passed, but dense data is required: gmm-engine fits dense "
            "rows. Use X.toarray() to convert to a dense numpy array."
        )
    if (
        isinstance(X, np.ndarray)
        and X.dtype in (np.float64, np.float32)
        and X.flags.c_contiguous
        and X.flags.aligned
    ):
        a = X  # read in place: the caller must not change it during the call
    else:
        a = np.asarray(X)
        if a.dtype == object and hasattr(X, "to_numpy"):
            # A pandas frame of nullable numbers read without pyarrow:
            # its <NA> become NaN (then refused or dealt with by `missing`).
            try:
                a = X.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                pass
        if np.iscomplexobj(a):
            raise ValueError("Complex data not supported")
        if a.dtype.kind in "USV":
            raise ValueError(
                f"{name} holds text ({a.dtype}), not numbers: convert it to numbers first"
            )
        a = np.ascontiguousarray(a, dtype=np.float32 if a.dtype == np.float32 else np.float64)
    if a.ndim != 2:
        shape = "scalar" if a.ndim == 0 else f"{a.ndim}D"
        raise ValueError(
            f"Expected a 2D array, got {shape} array instead: {name} has shape {a.shape}. "
            "Reshape your data either using array.reshape(-1, 1) if your data has a single "
            "feature or array.reshape(1, -1) if it contains a single sample."
        )
    n, d = a.shape
    if n == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={a.shape}) while a minimum of 1 is required."
        )
    if d == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={a.shape}) while a minimum of 1 is required."
        )
    check_values(a, name, allow_nan=missing != "error")
    return a


def check_values(a: np.ndarray, name: str, allow_nan: bool = False) -> None:
    """NaN (unless `allow_nan`), infinity and values too large to square are
    refused, naming the first column and row (two passes without a
    temporary when all is well)."""
    lo, hi = float(a.min()), float(a.max())
    if np.isfinite(lo) and np.isfinite(hi) and max(-lo, hi) <= MAX_ABS_VALUE:
        return
    bad = ~np.isfinite(a)
    if allow_nan:
        bad &= ~np.isnan(a)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(a[i, j]) else f"infinity or a value too large for dtype('{a.dtype}')"
        raise ValueError(
            f"Input {name} contains {what} at {name}[{i}, {j}] "
            f"({np.count_nonzero(bad)} such values); drop or impute them first"
        )
    big = np.argwhere(np.abs(a) > MAX_ABS_VALUE)
    if not len(big):
        return  # only NaN, which `allow_nan` lets through
    i, j = big[0]
    raise ValueError(
        f"Input {name} has values too large to compute with (beyond 1e150 in magnitude, "
        f"where squares overflow), the first at {name}[{i}, {j}] ({a[i, j]:g}); "
        "rescale the column, for example divide it by a power of ten"
    )


def sample_weight(weights: Any, n: int) -> Optional[np.ndarray]:
    """scikit-learn's `_check_sample_weight`: None, a number for every
    row, or one finite non-negative value per row."""
    if weights is None:
        return None
    if np.isscalar(weights):
        w = np.full(n, weights, dtype=np.float64)
    else:
        w = np.ascontiguousarray(np.asarray(weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError("Sample weights must be 1D array or scalar")
        if w.shape != (n,):
            raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n,)}!")
        if w is weights:
            w = w.copy()  # never written, but the caller's array stays theirs
    if not np.isfinite(w).all():
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if (w < 0).any():
        raise ValueError("Negative values in data passed to `sample_weight`")
    if not (w > 0).any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w


def noise_init(flags: Any, n: int) -> Optional[np.ndarray]:
    """An initial noise set: None, or one flag per row, booleans or the
    numbers 1 and 0, as a contiguous uint8 array."""
    if flags is None:
        return None
    a = np.asarray(flags)
    if a.ndim != 1 or a.shape != (n,):
        raise ValueError(f"noise_init.shape == {a.shape}, expected {(n,)}: one flag per row of X")
    if a.dtype != np.bool_:
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"noise_init holds {a.dtype} values; give True or False (1 or 0) for each row"
            )
        bad = np.flatnonzero((a != 0) & (a != 1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"noise_init[{i}] is {a[i].item()!r}; give True or False (1 or 0) for each row"
            )
    return np.ascontiguousarray(a != 0, dtype=np.uint8)


def check_noise_labels(flags: Any, y: Any, mode: Any, out: np.ndarray) -> None:
    """Refuses a row both in the initial noise set `flags` and labeled by
    `y` in a semi-supervised fit (`mode` not None: its labeled rows start
    their classes, and under "em" stay in them), naming its index in X;
    rows left out for a missing value (the mask `out`) do not count."""
    if flags is None or y is None or mode in (None, False):
        return
    n = len(out)
    codes = labels(y, n)[0]
    if codes is None:
        return
    both = noise_init(flags, n).astype(bool) & (codes != np.iinfo(np.uint32).max) & ~out
    both = np.flatnonzero(both)
    if both.size:
        i = int(both[0])
        raise ValueError(
            f"noise_init marks row {i} of X, which y labels; a labeled row belongs to its "
            "class: unmark it, or give it -1 in y"
        )


def labels(
    y: Any, n: int
) -> tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[list[str]]]:
    """scikit-learn's semi-supervised convention: one label per row, `-1`
    (or None, or the text "-1" in a text array) for a row without one.
    Returns the code of each row (`0..n_classes`, or 2**32 - 1), the
    classes in the order the engine gives them components (numbers
    numerically, text as text), and their names; all None when no row is
    labeled."""
    a = np.asarray(y)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"y must hold one label per row of X: shape {a.shape}, expected {(n,)}")
    if a.dtype.kind in "iu":
        unlabeled = a == -1
    elif a.dtype.kind == "f":
        unlabeled = np.isnan(a) | (a == -1)
        if not np.all(a[~unlabeled] == np.round(a[~unlabeled])):
            raise ValueError("y holds fractional numbers; class labels must be whole numbers or text")
        a = np.where(unlabeled, -1, a).astype(np.int64)
    elif a.dtype.kind == "b":
        unlabeled = np.zeros(n, dtype=bool)
    elif a.dtype.kind in "US":
        unlabeled = a == ("-1" if a.dtype.kind == "U" else b"-1")
    else:
        unlabeled = np.fromiter((_unlabeled(v) for v in a), dtype=bool, count=n)
    known = a[~unlabeled]
    if known.size == 0:
        return None, None, None
    try:
        classes = np.unique(known)
    except TypeError as e:
        raise ValueError(f"y mixes labels of different types (numbers and text): {e}") from None
    names = [str(c) for c in classes]
    if classes.dtype.kind not in "iub":
        # Text labels that all read as whole numbers are ordered as numbers,
        # as the `gmm` command orders them.
        try:
            as_int = [int(s) for s in names]
            order = np.argsort(as_int, kind="stable")
            classes, names = classes[order], [names[i] for i in order]
        except ValueError:
            pass
    codes = np.full(n, np.iinfo(np.uint32).max, dtype=np.uint32)
    if classes.dtype.kind in "iub":
        codes[~unlabeled] = np.searchsorted(classes, known)  # np.unique sorted them
    else:
        codes[~unlabeled] = _positions(classes, known)
    return codes, classes, names


def _unlabeled(v: Any) -> bool:
    """-1, "-1", None, NaN or pandas' NA: a row without a label."""
    if v is None or type(v).__name__ == "NAType":
        return True
    if isinstance(v, (str, bytes)):
        return v in ("-1", b"-1")
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return bool(v != v or v == -1)
    return False


def _positions(classes: np.ndarray, values: np.ndarray) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes.tolist())}
    return np.fromiter((index[v] for v in values.tolist()), dtype=np.uint32, count=values.size)
