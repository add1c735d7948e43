"""Model selection over a grid of component counts and covariance types,
and fits on files that Python never loads."""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from . import _input, _native
from ._estimator import GaussianMixture, _kept_labels, _subset, _without_missing
from ._parameters import MCLUST_FAMILIES, model_classes

CRITERIA = ("bic", "aic", "icl")


def select(
    X: Any,
    components: Iterable[int] = range(1, 11),
    covariance_types: Sequence[str] = ("full", "tied", "diag", "spherical"),
    criterion: str = "bic",
    n_init: int = 1,
    *,
    y: Any = None,
    sample_weight: Any = None,
    noise_init: Any = None,
    **params: Any,
) -> tuple[Any, GaussianMixture]:
    """Fit every (covariance type, number of components) cell of a grid and
    pick the one with the lowest criterion.

    Parameters
    ----------
    X : array-like or data frame
        As for :meth:`GaussianMixture.fit`; read once for the whole grid.
    components : iterable of int, default=range(1, 11)
    covariance_types : sequence of str, or "all", default=scikit-learn's four
        Covariance types by scikit-learn's or mclust's names; ``"all"``
        (alone or in the list) stands for mclust's fourteen families.
    criterion : {'bic', 'aic', 'icl'}, default='bic'
        scikit-learn's BIC and AIC of each cell's fit on `X` (weighted when
        ``sample_weight`` is given), or ICL (BIC plus twice the
        classification entropy). Lower is better. mclust reports BIC
        negated (higher is better).
    n_init : int, default=1
        Restarts per cell.
    y, sample_weight, noise_init :
        As for :meth:`GaussianMixture.fit`.
    **params :
        Any other :class:`GaussianMixture` parameter, for every cell.

    Returns
    -------
    table : pandas or polars DataFrame (as `X` was), else a dict of arrays
        One row per cell: covariance_type, n_components, bic, aic, icl,
        mean_log_likelihood, n_parameters, n_iter, converged, seconds.
    best : GaussianMixture
        The fitted estimator of the winning cell.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {list(CRITERIA)}; got {criterion!r}")
    ks = [int(k) for k in ([components] if np.isscalar(components) else components)]
    kinds = [covariance_types] if isinstance(covariance_types, str) else list(covariance_types)
    kinds = [k for kind in kinds for k in (MCLUST_FAMILIES if kind == "all" else [kind])]
    if not ks or not kinds:
        raise ValueError("select needs at least one number of components and one covariance type")
    probe = GaussianMixture(n_init=n_init, **params)
    probe._check_params()
    _input.check_feature_names(probe, X, reset=True)
    x, columns, types = _input.rows(X, missing=probe.missing)
    n = len(x)
    x, out = _without_missing(x, probe.missing)
    if probe.noise:
        _input.check_noise_labels(
            noise_init, y, probe.semi_supervised,
            out if out is not None else np.zeros(n, dtype=bool),
        )
    if out is not None:
        if out.all():
            raise ValueError(f"every row of X ({len(out)}) misses a feature value; nothing is left to fit")
        ignored = probe.semi_supervised in (None, False)
        y = None if y is None or ignored else _kept_labels(y, out)
        sample_weight = None if sample_weight is None else _subset(
            sample_weight, ~out, len(out), "sample_weight"
        )
        noise_init = None if noise_init is None else _subset(
            noise_init, ~out, len(out), "noise_init"
        )
    names = getattr(probe, "feature_names_in_", None)
    rows: dict[str, list] = {k: [] for k in (
        "covariance_type", "n_components", "bic", "aic", "icl", "mean_log_likelihood",
        "n_parameters", "n_iter", "converged", "seconds")}
    best: Optional[GaussianMixture] = None
    best_score = np.inf
    if y is not None and probe.semi_supervised not in (None, False):
        classes = _input.labels(y, x.shape[0])[1]
        n_classes = 0 if classes is None else len(classes)
        if any(k < n_classes for k in ks):
            warnings.warn(
                f"select: y has {n_classes} classes, so cells of fewer components are "
                f"skipped ({sorted({k for k in ks if k < n_classes})})"
            )
            ks = [k for k in ks if k >= n_classes]
        if not ks:
            raise ValueError(f"y has {n_classes} classes: every cell has fewer components")
    for kind in kinds:
        for k in ks:
            est = GaussianMixture(n_components=k, covariance_type=kind, n_init=n_init, **params)
            est._check_params()
            started = time.perf_counter()
            report = est._fit_rows(x, columns, types, y, sample_weight, noise_init)
            seconds = time.perf_counter() - started
            if names is not None:
                est.feature_names_in_ = names
            values = {c: report[c] for c in ("bic", "aic", "icl", "mean_log_likelihood",
                                            "n_parameters", "n_iter", "converged")}
            for c, v in values.items():
                rows[c].append(v)
            rows["covariance_type"].append(kind)
            rows["n_components"].append(k)
            rows["seconds"].append(seconds)
            if values[criterion] < best_score:
                best, best_score = est, values[criterion]
    assert best is not None
    return _table(rows, X), best


def _table(rows: dict[str, list], like: Any) -> Any:
    """The table in the kind of frame the input was."""
    module = type(like).__module__.split(".")[0]
    arrays = {k: np.asarray(v) for k, v in rows.items()}
    if module == "pandas":
        import pandas as pd

        return pd.DataFrame(arrays)
    if module == "polars":
        import polars as pl

        return pl.DataFrame(arrays)
    return arrays


def fit_parquet(
    path: Union[str, os.PathLike],
    columns: Optional[Sequence[str]] = None,
    *,
    label_column: Optional[str] = None,
    weight_column: Optional[str] = None,
    noise_init_column: Optional[str] = None,
    labeled: Optional[Union[str, os.PathLike]] = None,
    max_memory: Optional[Union[int, str]] = None,
    cache_dir: Optional[Union[str, os.PathLike]] = None,
    precision: str = "f64",
    missing: str = "error",
    filter: Optional[str] = None,
    storage: Optional[dict] = None,
    **params: Any,
) -> GaussianMixture:
    """Fit a :class:`GaussianMixture` to a table on disk without loading it
    into Python: the ``gmm fit`` loader reads it (Parquet, Arrow IPC or
    CSV; a file, a directory of Parquet files, or a glob; on disk or at an
    ``s3://``, ``gs://``, ``az://`` or ``https://`` URL), into memory or,
    when the selected columns exceed ``max_memory``, through the
    out-of-core cache.

    Parameters
    ----------
    path : str or path
    columns : list of str, default=None
        Feature columns (names or globs); None: every numeric column but
        the label and weight columns.
    label_column : str, default=None
        Class labels (empty or null for unlabeled rows): a semi-supervised
        fit, as ``gmm fit --label-column``.
    weight_column : str, default=None
    noise_init_column : str, default=None
        With ``noise=True``: a column of true/false (or 1/0) marking the
        rows the noise component starts from, as ``gmm fit
        --noise-init-column`` (see :meth:`GaussianMixture.fit`'s
        ``noise_init``).
    labeled : str or path, default=None
        A second table of labeled rows, stacked after the first.
    max_memory : int or str, default=None
        Memory budget for the rows in bytes, or text such as "8GiB"; None:
        half of physical memory.
    cache_dir : str or path, default=None
        Where the out-of-core cache lives (default ``.gmm-cache``).
    precision : {"f64", "f32"} or np.float64, np.float32, default="f64"
        The type rows are held in, as ``gmm fit --precision``: "f32" halves
        the memory and the cache, each value rounded to the nearest float32.
    missing : {"error", "drop", "marginalize"}, default="error"
        Rows that miss a feature value (null, empty, NaN), as ``gmm fit
        --missing``: an error, left out of the fit (``n_rows`` of the model
        counts the rows fitted), or kept with the missing values integrated
        out.
    filter : str, default=None
        Only the rows that pass a condition on data columns and on the
        ``key=value`` directories of a partitioned dataset, as ``gmm fit
        --filter``, e.g. ``"day >= '2026-11-01' and amount > 0"``.
    storage : dict, default=None
        How tables at URLs are reached, as a config's ``[storage]``:
        ``endpoint`` (an S3-compatible server, an emulator), ``region``,
        ``anonymous`` (unsigned requests, for public buckets) and ``profile``
        (of ``~/.aws/credentials``). Credentials come from each cloud's
        environment variables and files, as for the ``gmm`` command.
    **params :
        :class:`GaussianMixture` parameters.
    """
    est = GaussianMixture(missing=missing, **params)
    est._check_params()
    unused = [p for p in ("weights_init", "means_init", "precisions_init", "warm_start")
              if params.get(p) is not None and params.get(p) is not False]
    if unused:
        raise ValueError(f"fit_parquet does not take {', '.join(unused)}: use GaussianMixture.fit")
    if noise_init_column is not None and not est.noise:
        raise ValueError(
            f"noise_init_column={noise_init_column!r} marks the rows the noise component "
            "starts from, and noise=False fits none: set noise=True, or leave the column out"
        )
    ignore = est.semi_supervised in (None, False)
    mode = None if ignore or label_column is None else est.semi_supervised
    if mode == "auto":
        mode = "em"
    model, report = _native.fit_files(
        os.fspath(path),
        json.dumps(est._engine_params(mode, n_init=est.n_init)),
        ignore_labels=ignore,
        columns=list(columns) if columns is not None else None,
        label_column=label_column,
        weight_column=weight_column,
        noise_init_column=noise_init_column,
        labeled=os.fspath(labeled) if labeled is not None else None,
        max_memory=_bytes(max_memory),
        cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
        precision=_precision(precision),
        missing=missing,
        filter=filter,
        storage_json=json.dumps(storage) if storage is not None else None,
        n_threads=est.n_threads,
        verbose=int(est.verbose),
        verbose_interval=int(est.verbose_interval),
    )
    est._set_fitted(model, json.loads(report), model_classes(model))
    est.feature_names_in_ = np.asarray(model.columns, dtype=object)
    est._warn_if_not_converged()
    return est


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 10**6,
          "mib": 1 << 20, "g": 1 << 30, "gb": 10**9, "gib": 1 << 30, "t": 1 << 40, "tb": 10**12,
          "tib": 1 << 40}


def _precision(precision: Any) -> str:
    """"f64" or "f32", also from a NumPy type or dtype name (np.float32)."""
    if isinstance(precision, str) and precision in ("f64", "f32"):
        return precision
    kind = None
    if precision is not None and not isinstance(precision, str):
        try:
            kind = np.dtype(precision)
        except TypeError:
            pass
    if kind == np.float64:
        return "f64"
    if kind == np.float32:
        return "f32"
    raise ValueError(f'precision must be "f64" or "f32" (or np.float64, np.float32), not {precision!r}')


def _bytes(size: Optional[Union[int, str]]) -> Optional[int]:
    """A memory budget in bytes from a number or text such as "8GiB"."""
    if size is None or (isinstance(size, (int, np.integer)) and not isinstance(size, bool)):
        if size is not None and size < 0:
            raise ValueError(f"max_memory must be a number of bytes >= 0; got {size}")
        return None if size is None else int(size)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(size))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"max_memory {size!r} is not a size such as 8GiB, 512MB or 1000000")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
