"""`GaussianMixture`: scikit-learn's estimator of the same name, fitted by
the gmm engine."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Optional, Union

import numpy as np

from . import _input, _native
from ._base import BASES, ConvergenceWarning, NotFittedError
from ._parameters import CANONICAL, STORAGE, covariances, model_classes, precisions, seed

#: `init_params` values: scikit-learn's, and gmm's own.
INIT_METHODS = {
    "kmeans": "kmeans",
    "k-means++": "kmeans++",
    "kmeans++": "kmeans++",
    "random": "random",
    "random_from_data": "random-from-data",
    "random-from-data": "random-from-data",
    "random-params": "random-params",
    "labeled": "labeled",
    "hc": "hc",
}
COVARIANCE_TYPES = tuple(STORAGE)
SEMI_SUPERVISED = ("auto", "em", "init", None, False)
ON_DEGENERATE = ("reseed", "drop-restart", "error")


class GaussianMixture(*BASES):  # type: ignore[misc]
    """Gaussian mixture fitted by Expectation-Maximization on the gmm engine.

    The parameters, attributes and methods are those of
    :class:`sklearn.mixture.GaussianMixture` (and scikit-learn's results
    from the same start), plus gmm's own parameters below. Fits run in
    Rust, in parallel, with the GIL released; Ctrl-C stops them within a
    second with ``KeyboardInterrupt``.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'} or one of mclust's fourteen families by name ('VVV', 'EVV', 'EII', ...), default='full'
        The form of the components' covariances. mclust's families other
        than the four are held in the arrays of the least of the four that
        holds them (``covariances_`` of EVV is ``(K, d, d)``, of VEI
        ``(K, d)``, of EII ``(K,)``).
    tol : float, default=1e-3
        Convergence threshold: EM stops when the lower bound (mean
        log-likelihood per row) gains less than this.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance.
    max_iter : int, default=100
        EM iterations per restart.
    n_init : int, default=1
        Restarts; the best is kept. gmm advances all restarts together,
        one pass over the rows per iteration.
    init_params : str, default='kmeans'
        How restarts start: scikit-learn's 'kmeans', 'k-means++', 'random',
        'random_from_data', or gmm's 'random-params', 'labeled' (class
        statistics of the labeled rows: the `gmm` command's start for
        semi-supervised fits) and 'hc' (mclust's default: hierarchical
        agglomeration of ``hc_rows`` sampled rows, cut at K clusters).
    weights_init, means_init, precisions_init : array-like, default=None
        Starting parameters in scikit-learn's shapes. The first restart
        starts from them; ``means_init`` is needed with either of the
        others, and missing weights or precisions come from assigning each
        row to its nearest mean.
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice; the same seed and data give the same
        model bit for bit, whatever ``n_threads``.
    warm_start : bool, default=False
        Start the next ``fit`` from this fit's parameters (one restart).
    verbose : int, default=0
        1: a line per restart; 2: also every ``verbose_interval`` iterations.
        Printed to ``sys.stderr``.
    verbose_interval : int, default=10
        Iterations between lines at ``verbose=2``.
    n_threads : int or None, default=None
        Threads of the engine; None: one per core.
    semi_supervised : {'auto', 'em', 'init'} or None, default='auto'
        How ``fit(X, y)`` uses labels (``-1`` marks a row without one):
        'em' keeps labeled rows in every M-step with their class's component
        fixed, 'init' only starts from them, 'auto' is 'em' when ``y`` labels
        any row. None: ``y`` is ignored, as scikit-learn's GaussianMixture
        ignores it. Class ``i`` (in sorted order) is component ``i``.
    unlabeled_weight : float, default=1.0
        Weight of the unlabeled rows' log-likelihood in 'em' mode.
    on_degenerate : {'reseed', 'drop-restart', 'error'}, default='reseed'
        What a component whose covariance is singular does.
    prior : bool, default=False
        mclust's conjugate prior (``priorControl()``): every M-step gives
        the posterior mode, which keeps components from collapsing without
        ``reg_covar``. Not for EVE, VEE, VVE and EVV.
    noise : bool, default=False
        mclust's noise component: a uniform density over the rows' region
        with its own weight, for rows in no cluster. ``predict`` gives
        those rows -1 (None for text classes), ``predict_proba`` has one
        more column, the noise's, last (a row left out by
        ``missing="drop"`` also predicts -1, with probabilities of NaN);
        ``sample`` and ``to_sklearn`` refuse (the noise has a volume, not a
        region to draw from, and scikit-learn has no noise). Not with
        ``missing="marginalize"``.
    noise_volume : float or None, default=None
        The volume the noise is uniform over (mclust's ``1 / Vinv``); by
        default that of the rows, as mclust's ``hypvol``: the smaller of
        their bounding box's and their principal components' box's.
    hc_rows : int, default=2000
        Rows the 'hc' start agglomerates (mclust's subset, 2,000; all of
        them when there are no more), from K to 10,000: memory and time
        grow with its square.
    max_seconds : float or None, default=None
        A wall-clock budget for the fit; restarts still running when it is
        spent stop there (not converged).
    missing : {'error', 'drop', 'marginalize'}, default='error'
        Rows that miss a feature value (NaN, or null in a data frame), as
        ``gmm fit --missing``: an error, left out, or kept with the missing
        values integrated out. With 'drop', ``fit`` leaves them out (with
        their labels and weights); ``predict`` gives them -1 (None for text
        classes), ``predict_proba`` and ``score_samples`` rows of NaN, and
        ``score``, ``bic`` and ``aic`` use the other rows. With
        'marginalize', EM for incomplete data fits every row from its
        observed values, and every method gives every row a result (its
        density is that of its observed columns).

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (n_components, n_features, n_features) for 'full',
        (n_features, n_features) for 'tied', (n_components, n_features) for
        'diag', (n_components,) for 'spherical'.
    precisions_ : ndarray, shaped as covariances_
    precisions_cholesky_ : ndarray, shaped as covariances_
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        The best restart's final mean objective per row (the mean
        log-likelihood; for 'em' semi-supervised fits, the semi-supervised
        objective).
    lower_bounds_ : list of float
        The best restart's objective at every iteration.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when fitted on a data frame whose column names are all text.
    classes_ : ndarray
        The classes of a semi-supervised fit; ``predict`` returns them.
    noise_weight_ : float or None
        The noise component's weight (``weights_`` sum to one minus it);
        None without ``noise``.
    noise_volume_ : float or None
        The volume it is uniform over; None without ``noise``.
    restarts_ : list of dict
        How each restart went (start, iterations, ending, trace).
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        n_threads: Optional[int] = None,
        semi_supervised: Optional[str] = "auto",
        unlabeled_weight: float = 1.0,
        on_degenerate: str = "reseed",
        prior: bool = False,
        noise: bool = False,
        noise_volume: Optional[float] = None,
        hc_rows: int = 2000,
        max_seconds: Optional[float] = None,
        missing: str = "error",
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_threads = n_threads
        self.semi_supervised = semi_supervised
        self.unlabeled_weight = unlabeled_weight
        self.on_degenerate = on_degenerate
        self.prior = prior
        self.noise = noise
        self.noise_volume = noise_volume
        self.hc_rows = hc_rows
        self.max_seconds = max_seconds
        self.missing = missing

    # -- fitting ---------------------------------------------------------

    def fit(
        self, X: Any, y: Any = None, sample_weight: Any = None, noise_init: Any = None
    ) -> "GaussianMixture":
        """Fit the mixture to the rows of `X` by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or data frame
            NumPy arrays (float64 and float32 C-contiguous arrays are
            read in place; float32 in another layout is made C-order
            float32, other types converted once to float64; float32 rows
            take half the memory and fit exactly as the float64 array of
            the same values), or pandas, polars or pyarrow tables
            (read through the Arrow C stream interface: their numeric
            columns, by name).
        y : array-like of shape (n_samples,), default=None
            Class labels with ``-1`` for unlabeled rows (see
            ``semi_supervised``); ignored when ``semi_supervised`` is None.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row.
        noise_init : array-like of bool of shape (n_samples,), default=None
            With ``noise=True``: the rows the noise component starts from
            (True or 1), mclust's ``initialization = list(noise = ...)``.
            Every restart's Gaussians start from the other rows, and the
            noise's weight from the marked rows' share. None: each start
            gives the noise the rows it explains less well than the noise's
            uniform density (between 1 % and 50 % of them).

        Returns
        -------
        self : GaussianMixture
        """
        self._fit_read(X, y, sample_weight, noise_init)
        return self

    def fit_predict(
        self, X: Any, y: Any = None, sample_weight: Any = None, noise_init: Any = None
    ) -> np.ndarray:
        """Fit, then return ``predict(X)``."""
        x, out = self._fit_read(X, y, sample_weight, noise_init)
        return self._spread_labels(
            self._labels(self._predict(x)), out
        )

    def _read_for_fit(self, X: Any) -> tuple[np.ndarray, list[str], list[str]]:
        self._check_params()
        _input.check_feature_names(self, X, reset=True)
        return _input.rows(X, missing=self.missing)

    def _fit_read(
        self, X: Any, y: Any, sample_weight: Any, noise_init: Any = None
    ) -> tuple[np.ndarray, Any]:
        """Reads `X` and fits the rows that miss no value; returns those rows
        and the mask of the others (None when there are none)."""
        x, columns, types = self._read_for_fit(X)
        kept, out = _without_missing(x, self.missing)
        if self.noise:
            _input.check_noise_labels(
                noise_init, y, self.semi_supervised,
                out if out is not None else np.zeros(len(x), dtype=bool),
            )
        if out is not None:
            if out.all():
                raise ValueError(
                    f"every row of X ({len(x)}) misses a feature value; nothing is left to fit"
                )
            ignored = self.semi_supervised in (None, False)
            y = None if y is None or ignored else _kept_labels(y, out)
            sample_weight = None if sample_weight is None else _subset(
                sample_weight, ~out, len(x), "sample_weight"
            )
            noise_init = None if noise_init is None else _subset(
                noise_init, ~out, len(x), "noise_init"
            )
        self._fit_rows(kept, columns, types, y, sample_weight, noise_init)
        return kept, out

    def _fit_rows(
        self,
        x: np.ndarray,
        columns: list[str],
        column_types: list[str],
        y: Any,
        sample_weight: Any,
        noise_init: Any = None,
    ) -> dict:
        n, d = x.shape
        w = _input.sample_weight(sample_weight, n)
        if noise_init is not None and not self.noise:
            raise ValueError(
                "noise_init marks the rows the noise component starts from, and "
                "noise=False fits none: set noise=True, or leave noise_init out"
            )
        flags = _input.noise_init(noise_init, n)
        if flags is not None and self.warm_start and hasattr(self, "converged_"):
            raise ValueError(
                "warm_start=True continues the last fit, whose noise component has its "
                "weight already, and noise_init would start one: leave noise_init out, "
                "or set warm_start=False"
            )
        mode = None if self.semi_supervised in (None, False) else self.semi_supervised
        codes = classes = names = None
        if mode is not None and y is not None:
            codes, classes, names = _input.labels(y, n)
            if codes is None and mode != "auto":
                raise ValueError(
                    f"semi_supervised={mode!r}, but y labels no row (-1 marks a row "
                    "without a label)"
                )
        if codes is None:
            mode = None
        elif mode == "auto":
            mode = "em"
        warm = self.warm_start and hasattr(self, "converged_")
        if warm and (self._model.n_components, self._model.covariance_type) != (
            self.n_components, CANONICAL[self.covariance_type]
        ):
            raise ValueError(
                "warm_start=True continues the last fit, which has "
                f"n_components={self._model.n_components} and covariance_type="
                f"'{self._model.covariance_type}': set them back, or warm_start=False"
            )
        if warm and d != self.n_features_in_:
            raise ValueError(
                f"X has {d} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (warm_start=True)."
            )
        init_model, lower = None, None
        if warm:
            init_model, lower = self._model, self.lower_bound_
        elif self.means_init is not None or self.weights_init is not None or self.precisions_init is not None:
            init_model = self._initial_model(x, w)
        params = self._engine_params(mode, n_init=1 if warm else self.n_init)
        model, report = _native.fit(
            x,
            json.dumps(params),
            missing=self._marginalize(),
            weights=w,
            labels=codes,
            classes=names,
            init_model=init_model,
            init_lower_bound=lower,
            columns=columns or None,
            column_types=column_types or None,
            n_threads=self.n_threads,
            verbose=int(self.verbose),
            verbose_interval=int(self.verbose_interval),
            noise_init=flags,
        )
        report = json.loads(report)
        self._set_fitted(model, report, classes)
        self._warn_if_not_converged()
        return report

    def _warn_if_not_converged(self) -> None:
        if not self.converged_:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
            )

    def _check_params(self) -> None:
        def whole(name: str, low: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"The '{name}' parameter must be an int >= {low}; got {v!r}.")

        def number(name: str) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v >= 0:
                raise ValueError(f"The '{name}' parameter must be a number >= 0; got {v!r}.")

        whole("n_components", 1)
        whole("n_init", 1)
        whole("max_iter", 1)
        whole("verbose_interval", 1)
        number("tol")
        number("reg_covar")
        number("unlabeled_weight")
        for name, valid in (
            ("covariance_type", COVARIANCE_TYPES),
            ("init_params", tuple(INIT_METHODS)),
            ("semi_supervised", SEMI_SUPERVISED),
            ("on_degenerate", ON_DEGENERATE),
            ("missing", ("error", "drop", "marginalize")),
        ):
            if getattr(self, name) not in valid:
                raise ValueError(
                    f"The '{name}' parameter must be one of {list(valid)}; got "
                    f"{getattr(self, name)!r}."
                )
        whole("verbose", 0)
        whole("hc_rows", 2)
        for name in ("warm_start", "prior", "noise"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(
                    f"The '{name}' parameter must be True or False; got {getattr(self, name)!r}.")
        if self.n_threads is not None:
            whole("n_threads", 1)
        if self.noise_volume is not None:
            v = self.noise_volume
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not (
                    0 < v < float("inf")):
                raise ValueError(
                    f"The 'noise_volume' parameter must be a finite number > 0; got {v!r}.")
        if self.max_seconds is not None:
            number("max_seconds")
            if not self.max_seconds > 0:
                raise ValueError(f"The 'max_seconds' parameter must be above 0; got {self.max_seconds!r}.")
        rs = self.random_state
        if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool) and not 0 <= rs < 2**64:
            raise ValueError(f"The 'random_state' parameter must be an int in [0, 2**64); got {rs!r}.")

    def _engine_params(self, mode: Optional[str], n_init: int) -> dict:
        """The engine's settings (`gmm_core::FitParams`) of this estimator."""
        p: dict[str, Any] = {
            "n_components": int(self.n_components),
            "covariance_type": self.covariance_type,
            "reg_covar": float(self.reg_covar),
            "tol": float(self.tol),
            "max_iter": int(self.max_iter),
            "n_init": int(n_init),
            "init": INIT_METHODS[self.init_params],
            "seed": seed(self.random_state),
            "on_degenerate": self.on_degenerate,
            "prior": bool(self.prior),
            "noise": bool(self.noise),
            "hc_rows": int(self.hc_rows),
        }
        if self.noise_volume is not None:
            p["noise_volume"] = float(self.noise_volume)
        if mode is not None:
            p["semi_supervised"] = {"mode": mode, "unlabeled_weight": float(self.unlabeled_weight)}
        if self.max_seconds is not None:
            p["max_seconds"] = float(self.max_seconds)
        return p

    def _initial_model(self, x: np.ndarray, w: Optional[np.ndarray]) -> "_native.Model":
        """The first restart's start from ``weights_init``, ``means_init``
        and ``precisions_init``."""
        k, d = int(self.n_components), x.shape[1]
        if self.means_init is None:
            raise ValueError(
                "weights_init and precisions_init need means_init as well: gmm starts a "
                "restart from whole parameters"
            )
        means = np.ascontiguousarray(self.means_init, dtype=np.float64)
        if means.shape != (k, d):
            raise ValueError(
                f"The parameter 'means' should have the shape of ({k}, {d}), but got {means.shape}"
            )
        nearest = None
        if self.weights_init is None or self.precisions_init is None:
            # In float64 whatever the rows are held in (float32 rows give
            # the start of the float64 array of their values).
            x = np.asarray(x, dtype=np.float64)
            if self._marginalize() and np.isnan(x).any():
                # A missing value reads as its column's (weighted) mean, as
                # in the engine's own starts; a column with none is the
                # engine's error, raised by the fit.
                seen = ~np.isnan(x)
                wts_col = (np.ones(x.shape[0]) if w is None else w)[:, None] * seen
                with np.errstate(invalid="ignore", divide="ignore"):
                    fill = np.where(seen, x, 0.0).sum(0) / wts_col.sum(0)
                x = np.where(seen, x, np.nan_to_num(fill))
            dist = (x * x).sum(1)[:, None] - 2.0 * (x @ means.T) + (means * means).sum(1)[None, :]
            nearest = dist.argmin(1)
        wts = np.ones(x.shape[0]) if w is None else w
        if self.weights_init is not None:
            weights = np.ascontiguousarray(self.weights_init, dtype=np.float64)
            if weights.shape != (k,):
                raise ValueError(
                    f"The parameter 'weights' should have the shape of ({k},), but got "
                    f"{weights.shape}"
                )
        else:
            weights = np.bincount(nearest, weights=wts, minlength=k) + 10 * np.finfo(float).eps
            weights /= weights.sum()
        columns = [f"x{j}" for j in range(d)]
        kind = self.covariance_type
        if self.precisions_init is not None:
            prec = np.asarray(self.precisions_init, dtype=np.float64)
            shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[
                STORAGE[kind]
            ]
            if prec.shape != shape:
                raise ValueError(
                    f"The parameter '{kind} precision' should have the shape of {shape}, "
                    f"but got {prec.shape}"
                )
            cov = np.linalg.inv(prec) if STORAGE[kind] in ("full", "tied") else 1.0 / prec
            return _native.Model.from_parameters(
                weights, means, kind, np.ascontiguousarray(cov), columns, cholesky=False
            )
        resp = np.zeros((x.shape[0], k))
        resp[np.arange(x.shape[0]), nearest] = wts
        cov = covariances(x, resp, means, kind, float(self.reg_covar))
        return _native.Model.from_parameters(weights, means, kind, cov, columns, cholesky=False)

    def _set_fitted(self, model: "_native.Model", report: dict, classes: Optional[np.ndarray]) -> None:
        self._model = model
        self.weights_ = model.weights
        self.means_ = model.means
        self.covariances_ = model.covariances
        self.precisions_cholesky_ = model.precisions_cholesky
        self.precisions_ = precisions(self.precisions_cholesky_, model.covariance_type)
        noise = model.noise
        self.noise_weight_ = None if noise is None else float(noise[0])
        self.noise_volume_ = None if noise is None else float(noise[1])
        self.converged_ = bool(report["converged"])
        self.n_iter_ = int(report["n_iter"])
        self.lower_bound_ = float(report["lower_bound"])
        best = report["restarts"][report["best_restart"]]
        self.lower_bounds_ = list(best["trace"])
        self.restarts_ = report["restarts"]
        self.n_features_in_ = model.n_features
        if classes is not None:
            self.classes_ = classes
        elif hasattr(self, "classes_"):
            del self.classes_

    # -- using a fitted model ----------------------------------------------

    def _rows(self, X: Any) -> np.ndarray:
        self._check_fitted()
        _input.check_feature_names(self, X, reset=False)
        names = getattr(self, "feature_names_in_", None)
        missing = getattr(self, "missing", "error")
        if _input.is_frame(X) and names is not None:
            try:
                x = _input.frame_rows(X, list(names), missing=missing)[0]
            except ImportError:
                x = _input.array_rows(X, missing=missing)
        else:
            x = _input.rows(X, missing=missing)[0]
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return x

    def _labels(self, components: np.ndarray) -> np.ndarray:
        classes = getattr(self, "classes_", None)
        k = int(self._model.n_components)
        if classes is None:
            # A row the noise component explains best: -1.
            out = components.astype(np.int64)
            out[out == k] = -1
            return out
        if self._model.noise is not None:
            # The noise's rows (component k) have no class either.
            k += 1
        if k > len(classes):
            if classes.dtype.kind == "u":
                # -1 marks a component without a class: a signed type holds it.
                classes = classes.astype(np.int64)
            none = -1 if classes.dtype.kind in "iu" else None
            classes = np.concatenate([classes, np.array([none] * (k - len(classes)), dtype=classes.dtype if none == -1 else object)])
        return classes[components]

    def predict(self, X: Any) -> np.ndarray:
        """The most probable component of each row (``-1`` for a row the
        noise component explains best); for semi-supervised fits, its class
        (``-1`` or None for a component without one, and for the noise's
        rows); ``-1`` or None for a row left out by ``missing="drop"``."""
        x, out = self._kept_rows(X)
        components = (
            self._predict(x) if len(x) else np.empty(0, np.int64)
        )
        return self._spread_labels(self._labels(components), out)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The posterior probability of each component, shape
        (n_samples, n_components), with the noise component's last when
        there is one (n_samples, n_components + 1); NaN for a row left out
        by ``missing="drop"``."""
        x, out = self._kept_rows(X)
        if not len(x):
            width = int(self._model.n_components) + (self._model.noise is not None)
            return _spread(np.empty((0, width)), out)
        proba = self._model.predict_proba(x, n_threads=self.n_threads, missing=self._marginalize())
        return _spread(proba, out)

    def score_samples(self, X: Any) -> np.ndarray:
        """The log-likelihood ``ln p(x)`` of each row; NaN for a row left
        out by ``missing="drop"``."""
        x, out = self._kept_rows(X)
        if not len(x):
            return _spread(np.empty(0), out)
        ln_p = self._model.score_samples(x, n_threads=self.n_threads, missing=self._marginalize())
        return _spread(ln_p, out)

    def score(self, X: Any, y: Any = None) -> float:
        """The mean log-likelihood per row of `X` (of the rows that miss no
        value, with ``missing="drop"``)."""
        x = self._scored_rows(X)
        return float(self._mean_log_likelihood(x))

    def bic(self, X: Any) -> float:
        """Bayesian information criterion on `X` (lower is better)."""
        x = self._scored_rows(X)
        n = x.shape[0]
        return -2 * self._mean_log_likelihood(x) * n + self._n_parameters() * np.log(n)

    def aic(self, X: Any) -> float:
        """Akaike information criterion on `X` (lower is better)."""
        x = self._scored_rows(X)
        return -2 * self._mean_log_likelihood(x) * x.shape[0] + 2 * self._n_parameters()

    def _marginalize(self) -> bool:
        """Whether missing values (NaN) are integrated out."""
        return getattr(self, "missing", "error") == "marginalize"

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return self._model.predict(x, n_threads=self.n_threads, missing=self._marginalize())

    def _mean_log_likelihood(self, x: np.ndarray) -> float:
        return self._model.score(x, n_threads=self.n_threads, missing=self._marginalize())

    def _kept_rows(self, X: Any) -> tuple[np.ndarray, Any]:
        """The rows of `X` that miss no value and the mask of the others
        (None when there are none)."""
        return _without_missing(self._rows(X), getattr(self, "missing", "error"))

    def _scored_rows(self, X: Any) -> np.ndarray:
        x, out = self._kept_rows(X)
        if out is not None and out.all():
            raise ValueError(f"every row of X ({len(out)}) misses a feature value; nothing to score")
        return x

    def _spread_labels(self, labels: np.ndarray, out: Any) -> np.ndarray:
        """`labels` of the kept rows, with -1 (None for text classes) for the
        rows left out."""
        if out is None:
            return labels
        if labels.dtype.kind in "iu":
            full = np.full(len(out), -1, dtype=np.int64)
        else:
            full = np.full(len(out), None, dtype=object)
        full[~out] = labels
        return full

    def _n_parameters(self) -> int:
        return int(self._model.n_parameters)

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw rows from the mixture: ``(X, component of each row)``."""
        self._check_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples}. The sampling requires at "
                "least one sample."
            )
        if self._model.noise is not None:
            raise ValueError(
                "The model has a noise component, which has a volume but no region to draw "
                "rows from; refit without noise to sample its Gaussians."
            )
        x, c = self._model.sample(int(n_samples), seed(self.random_state))
        return x, c.astype(np.int64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "_model"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    # -- model files ---------------------------------------------------------

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the model file the ``gmm`` command reads (``gmm predict
        --model``); it appears complete or not at all."""
        self._check_fitted()
        self._model.save(os.fspath(path))

    def to_json(self) -> str:
        """The model file's text."""
        self._check_fitted()
        return self._model.to_json()

    @classmethod
    def _from_model(cls, model: "_native.Model") -> "GaussianMixture":
        est = cls(
            n_components=model.n_components,
            covariance_type=model.covariance_type,
            reg_covar=model.reg_covar,
            noise=model.noise is not None,
        )
        report = {
            "converged": model.converged,
            "n_iter": model.n_iter,
            "lower_bound": model.mean_log_likelihood,
            "best_restart": 0,
            "restarts": [{"trace": []}],
        }
        est._set_fitted(model, report, model_classes(model))
        if model.column_types is not None:
            est.feature_names_in_ = np.asarray(model.columns, dtype=object)
        return est

    def to_sklearn(self) -> Any:
        """A fitted :class:`sklearn.mixture.GaussianMixture` with these
        parameters (scikit-learn must be installed). scikit-learn knows no
        classes: for a semi-supervised fit its ``predict`` gives components
        (class ``i`` is component ``i``). Nor mclust's families beyond its
        four: those become the type that holds them (EVV full, VEI diag, EII
        spherical, as ``covariances_`` are shaped), with the same densities;
        refitting it fits that type."""
        self._check_fitted()
        if self._model.noise is not None:
            raise ValueError(
                "The model has a noise component, which scikit-learn's GaussianMixture "
                "cannot hold; refit without noise to export it."
            )
        from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

        init = self.init_params if self.init_params in (
            "kmeans", "k-means++", "random", "random_from_data") else "kmeans"
        sk = SklearnGaussianMixture(
            n_components=self.n_components,
            covariance_type=STORAGE[self.covariance_type],
            tol=self.tol,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            n_init=self.n_init,
            init_params=init,
            random_state=self.random_state if not hasattr(self.random_state, "integers") else None,
        )
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_",
                     "converged_", "n_iter_", "lower_bound_", "n_features_in_"):
            setattr(sk, name, np.copy(getattr(self, name)) if isinstance(getattr(self, name), np.ndarray) else getattr(self, name))
        if hasattr(self, "feature_names_in_"):
            sk.feature_names_in_ = self.feature_names_in_
        return sk

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_model")


def read_model(path: Union[str, os.PathLike], storage: Optional[dict] = None) -> GaussianMixture:
    """A fitted estimator from a model file written by ``gmm fit`` or
    :meth:`GaussianMixture.save`; `path` may be an object storage URL,
    reached with `storage` as in :func:`fit_parquet`."""
    storage_json = json.dumps(storage) if storage is not None else None
    return GaussianMixture._from_model(_native.Model.read(os.fspath(path), storage_json))


def _without_missing(x: np.ndarray, missing: str) -> tuple[np.ndarray, Any]:
    """With ``missing="drop"``, `x` less its rows holding a NaN and the mask
    of those rows (None when there are none); else `x` as it is, not read
    again."""
    if missing != "drop":
        return x, None
    # Values are finite or NaN and at most 1e150 here: a row's sum is NaN
    # exactly when the row holds one (n values of memory, not n x d).
    out = np.isnan(x.sum(axis=1, dtype=np.float64))
    if not out.any():
        return x, None
    return np.ascontiguousarray(x[~out]), out


def _spread(values: np.ndarray, out: Any) -> np.ndarray:
    """Per-row `values` of the kept rows, with NaN rows for the others."""
    if out is None:
        return values
    full = np.full((len(out),) + values.shape[1:], np.nan, dtype=np.float64)
    full[~out] = values
    return full


def _kept_labels(y: Any, out: np.ndarray) -> np.ndarray:
    """The labels of the kept rows. As ``gmm fit --missing drop``, a class
    whose every labeled row is left out is an error, not a class quietly
    gone (which would renumber the others' components)."""
    every = _input.labels(y, len(out))[1]
    kept = _subset(y, ~out, len(out), "y")
    left = _input.labels(kept, len(kept))[1]
    gone = [c for c in (every if every is not None else []) if left is None or c not in left]
    if gone:
        c = gone[0].item() if isinstance(gone[0], np.generic) else gone[0]
        raise ValueError(
            f"class {c!r} of y is held only by rows that miss a feature value "
            "(missing=\"drop\" leaves them out); label some complete rows with it, or drop it from y"
        )
    return kept


def _subset(values: Any, keep: np.ndarray, n: int, name: str) -> Any:
    """The entries of a per-row argument for the kept rows (a single value
    stays as it is)."""
    if np.ndim(values) == 0:
        return values
    a = np.asarray(values)
    if a.ndim != 1 or len(a) != n:
        raise ValueError(f"{name} has {len(a) if a.ndim else 0} entries for {n} rows of X")
    return a[keep]
