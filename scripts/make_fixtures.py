"""Write the scikit-learn reference fixtures that gmm-core is tested against.

Run from the repository root, after ``bash scripts/setup_python.sh``::

    .venv/bin/python scripts/make_fixtures.py

Pinned versions (``scripts/requirements.txt``; the script refuses to run with
others, since the fixtures are compared digit for digit): scikit-learn 1.9.1,
numpy 2.4.6, scipy 1.17.1 (with joblib 1.6.0, threadpoolctl 3.8.0), on
CPython 3.11. BLAS and OpenMP are limited to one thread so that every rerun
writes the same bytes.

Data
----
* ``data/customers/unlabeled.csv`` (x1, x2; 1000 rows) and
  ``data/customers/labeled.csv`` (x1, x2, y; 100 rows), shipped in the repo.
* ``tests/data/blobs3d.csv`` (x1, x2, x3; 600 rows), written by this script:
  ``rng = numpy.random.default_rng(2024)``; 300, 180 and 120 rows (weights
  0.5, 0.3, 0.2) of three 3-D Gaussians with the means and full covariances in
  ``BLOBS``, each drawn as ``mean + rng.standard_normal((n, 3)) @ L.T`` with
  ``L = numpy.linalg.cholesky(cov)``, stacked, shuffled by
  ``rng.permutation(600)``, written with ``"%.6f"``. Every fit reads the data
  back from the CSV text, exactly as the Rust tests do.

Fixtures (``tests/data/sklearn/*.json``, ``json.dump(..., indent=1)``, floats
as Python's ``repr``)
----------------------------------------------------------------------------
``scaled_{customers,blobs3d}_{full,diag,tied}.json``
    As ``em_*`` with ``reg_covar=0`` (one isotropic reg_covar would mean
    different things per column), for data whose columns the Rust test
    multiplies by 1e-6, 1e6 and 1 (``column_scales``); init and result are in
    the original units (the fit is equivariant under column scaling), and
    ``sklearn_on_scaled_data`` records what scikit-learn does with the scaled
    data itself.
``em_{customers,blobs3d}_{full,diag,spherical,tied}.json``
    K = 2 (customers) or 3 (blobs3d). Fixed initial parameters (``em_init``):
    weights ``w = numpy.linspace(1, 2, K); w /= w.sum()``; means: rows
    ``[44, 640]`` (customers) or ``[0, 3, 2]`` (blobs3d) of X, plus 0.05;
    covariances: ``0.5 * numpy.cov(X.T, bias=True)`` in scikit-learn's
    ``covariances_`` shape (full: that matrix for every component, K x d x d;
    diag: its diagonal, K x d; spherical: the mean of its diagonal, K; tied:
    the matrix, d x d). Then::

        GaussianMixture(n_components=K, covariance_type=cov, reg_covar=1e-6,
                        tol=0.0, max_iter=25, weights_init=w, means_init=m,
                        precisions_init=P).fit(X)

    with ``P`` the inverse of the initial covariances in the precision shapes
    (full: ``numpy.linalg.inv`` of each matrix; tied: ``numpy.linalg.inv``;
    diag and spherical: ``1 / var``). tol=0 makes it run exactly max_iter
    iterations (its ConvergenceWarning is silenced). Recorded: ``weights_``,
    ``means_``, ``covariances_``, ``precisions_cholesky_``, ``n_iter_``,
    ``converged_``, ``lower_bound_``, ``lower_bounds_`` (the per-iteration
    trace), ``score(X)``, ``bic(X)``, ``aic(X)``,
    ``predict(X)``, ``predict_proba(X)``, ``score_samples(X)``.

``semi_init_customers.json``
    The seed tutorial's semi-supervised start, done right. From labeled.csv,
    classes sorted (0, 1): weights = class counts / 100, means = class means,
    covariances = ``numpy.cov(Xc.T, bias=True) + 1e-6 * I``. Then::

        GaussianMixture(n_components=2, covariance_type="full",
                        reg_covar=1e-6, tol=1e-3, max_iter=100,
                        weights_init=w, means_init=m,
                        precisions_init=numpy.linalg.inv(covs)).fit(X_unlabeled)

    with the same result keys as ``em_*``. ``tutorial_mistake_agreement`` is
    the fraction of rows where ``predict(X_unlabeled)`` of that fit agrees with
    the one of the same call given ``precisions_init=covs`` (the tutorial's
    bug: covariances passed as precisions); for documentation only.

``best_{customers,blobs3d}_{full,diag,spherical,tied}.json``
    For ``s in range(30)``::

        GaussianMixture(K, covariance_type=cov, n_init=1, init_params="kmeans",
                        tol=1e-10, max_iter=2000, reg_covar=1e-6,
                        random_state=s).fit(X)

    ``best_score`` is the largest ``score(X)`` of the 30 fits;
    ``best_weights``, ``best_means`` and ``bic`` (``bic(X)``) are those of the
    first fit reaching it; ``scores`` lists all 30.
"""

import os

# One thread everywhere, set before numpy loads its BLAS, so that reductions
# (and so the fixtures' last bits) do not depend on the machine's core count.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

PINNED = {"scikit-learn": "1.9.1", "numpy": "2.4.6", "scipy": "1.17.1"}
INSTALLED = {
    "scikit-learn": sklearn.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
}

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "sklearn"

REG_COVAR = 1e-6
COV_TYPES = ("full", "diag", "spherical", "tied")
EM_MAX_ITER = 25
N_FITS = 30

# Three 3-D Gaussians: (row count, mean, full covariance).
BLOBS = [
    (300, [0.0, 0.0, 0.0], [[1.0, 0.6, 0.2], [0.6, 1.5, -0.3], [0.2, -0.3, 0.8]]),
    (180, [3.5, 2.0, -1.0], [[0.5, -0.2, 0.1], [-0.2, 0.7, 0.25], [0.1, 0.25, 1.2]]),
    (120, [-2.5, 3.0, 2.5], [[2.0, 0.8, -0.5], [0.8, 1.0, 0.0], [-0.5, 0.0, 1.3]]),
]

# name -> (CSV relative to the repo root, K, rows of X that start the means).
DATASETS = {
    "customers": ("data/customers/unlabeled.csv", 2, [44, 640]),
    "blobs3d": ("tests/data/blobs3d.csv", 3, [0, 3, 2]),
}
LABELED = "data/customers/labeled.csv"
MEAN_OFFSET = 0.05


def read_csv(rel):
    """Header and float matrix of a CSV in the repository."""
    with open(ROOT / rel, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    x = np.loadtxt(ROOT / rel, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return header, x


def write_blobs3d():
    rng = np.random.default_rng(2024)
    parts = []
    for n, mean, cov in BLOBS:
        lower = np.linalg.cholesky(np.asarray(cov))
        parts.append(np.asarray(mean) + rng.standard_normal((n, 3)) @ lower.T)
    x = np.vstack(parts)[rng.permutation(sum(n for n, _, _ in BLOBS))]
    path = ROOT / DATASETS["blobs3d"][0]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["x1,x2,x3"] + [",".join("%.6f" % v for v in row) for row in x]
    # "-0.000000" would parse to -0.0: harmless, but keep the text canonical.
    text = "\n".join(lines).replace("-0.000000", "0.000000") + "\n"
    path.write_text(text, encoding="utf-8")


def precisions_from_covariances(cov_type, covs):
    if cov_type == "full":
        return np.array([np.linalg.inv(c) for c in covs])
    if cov_type == "tied":
        return np.linalg.inv(covs)
    return 1.0 / covs


def em_init(name, x, k, cov_type):
    rows = DATASETS[name][2]
    w = np.linspace(1.0, 2.0, k)
    w /= w.sum()
    means = x[rows] + MEAN_OFFSET
    base = 0.5 * np.cov(x.T, bias=True)
    if cov_type == "full":
        covs = np.array([base] * k)
    elif cov_type == "diag":
        covs = np.array([np.diag(base)] * k)
    elif cov_type == "spherical":
        covs = np.full(k, np.mean(np.diag(base)))
    else:
        covs = base
    return w, means, covs


def fitted(gm, x):
    """The result keys shared by the em_* and semi_* fixtures."""
    return {
        "weights": gm.weights_.tolist(),
        "means": gm.means_.tolist(),
        "covariances": gm.covariances_.tolist(),
        "precisions_cholesky": gm.precisions_cholesky_.tolist(),
        "n_iter": int(gm.n_iter_),
        "converged": bool(gm.converged_),
        "lower_bound": float(gm.lower_bound_),
        "lower_bounds": [float(v) for v in gm.lower_bounds_],
        "score": float(gm.score(x)),
        "bic": float(gm.bic(x)),
        "aic": float(gm.aic(x)),
        "labels": [int(v) for v in gm.predict(x)],
        "proba": gm.predict_proba(x).tolist(),
        "score_samples": gm.score_samples(x).tolist(),
    }


def write_json(name, obj):
    with open(OUT / name, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def em_fixtures():
    for name, (rel, k, _) in DATASETS.items():
        columns, x = read_csv(rel)
        for cov_type in COV_TYPES:
            w, means, covs = em_init(name, x, k, cov_type)
            gm = GaussianMixture(
                n_components=k,
                covariance_type=cov_type,
                reg_covar=REG_COVAR,
                tol=0.0,
                max_iter=EM_MAX_ITER,
                weights_init=w,
                means_init=means,
                precisions_init=precisions_from_covariances(cov_type, covs),
            ).fit(x)
            write_json(
                f"em_{name}_{cov_type}.json",
                {
                    "dataset": rel,
                    "columns": columns,
                    "n_components": k,
                    "covariance_type": cov_type,
                    "reg_covar": REG_COVAR,
                    "tol": 0.0,
                    "max_iter": EM_MAX_ITER,
                    "init": {
                        "weights": w.tolist(),
                        "means": means.tolist(),
                        "covariances": covs.tolist(),
                    },
                    "result": fitted(gm, x),
                },
            )


# Columns of very different scales (issue: data far from the origin or of
# very different scales must fit as accurately as centred data). reg_covar is
# 0 here: one isotropic reg_covar would mean different things per column.
COLUMN_SCALES = [1e-6, 1e6, 1.0]
SCALED_COV_TYPES = ["full", "diag", "tied"]


def scaled_fixtures():
    """The same fits as em_* but with reg_covar = 0, for data whose columns
    the Rust test multiplies by ``column_scales``. The reference is
    scikit-learn's fit of the unscaled data (a mixture fit is equivariant
    under column scaling); scikit-learn's own fit of the scaled data is
    recorded in ``sklearn_on_scaled_data`` (it fails or loses digits: its
    uncentered second moments cancel catastrophically)."""
    for name, (rel, k, _) in DATASETS.items():
        columns, x = read_csv(rel)
        scales = np.array(COLUMN_SCALES[: x.shape[1]])
        for cov_type in SCALED_COV_TYPES:
            w, means, covs = em_init(name, x, k, cov_type)

            def fit(data, mu, cv):
                return GaussianMixture(
                    n_components=k,
                    covariance_type=cov_type,
                    reg_covar=0.0,
                    tol=0.0,
                    max_iter=EM_MAX_ITER,
                    weights_init=w,
                    means_init=mu,
                    precisions_init=precisions_from_covariances(cov_type, cv),
                ).fit(data)

            gm = fit(x, means, covs)
            outer = np.outer(scales, scales)
            scaled_covs = covs * (outer if cov_type != "diag" else scales**2)
            try:
                gs = fit(x * scales, means * scales, scaled_covs)
                err = np.max(np.abs(gs.means_ / scales - gm.means_)) / np.max(np.abs(gm.means_))
                on_scaled = f"converged to means {err:.1e} relative away from the unscaled fit"
            except ValueError as e:
                on_scaled = f"failed: {e}"
            write_json(
                f"scaled_{name}_{cov_type}.json",
                {
                    "dataset": rel,
                    "columns": columns,
                    "column_scales": scales.tolist(),
                    "n_components": k,
                    "covariance_type": cov_type,
                    "reg_covar": 0.0,
                    "tol": 0.0,
                    "max_iter": EM_MAX_ITER,
                    "init": {
                        "weights": w.tolist(),
                        "means": means.tolist(),
                        "covariances": covs.tolist(),
                    },
                    "result": fitted(gm, x),
                    "sklearn_on_scaled_data": on_scaled,
                },
            )


def semi_fixture():
    columns, x = read_csv(DATASETS["customers"][0])
    _, labeled = read_csv(LABELED)
    xl, y = labeled[:, :2], labeled[:, 2].astype(int)
    classes = sorted(set(y.tolist()))
    d = xl.shape[1]
    w = np.array([np.sum(y == c) for c in classes], dtype=np.float64) / len(y)
    means = np.array([xl[y == c].mean(axis=0) for c in classes])
    covs = np.array(
        [np.cov(xl[y == c].T, bias=True) + REG_COVAR * np.eye(d) for c in classes]
    )

    def fit(precisions):
        return GaussianMixture(
            n_components=len(classes),
            covariance_type="full",
            reg_covar=REG_COVAR,
            tol=1e-3,
            max_iter=100,
            weights_init=w,
            means_init=means,
            precisions_init=precisions,
        ).fit(x)

    gm = fit(np.array([np.linalg.inv(c) for c in covs]))
    mistake = fit(covs)
    agreement = float(np.mean(gm.predict(x) == mistake.predict(x)))
    write_json(
        "semi_init_customers.json",
        {
            "dataset": DATASETS["customers"][0],
            "labeled": LABELED,
            "columns": columns,
            "n_components": len(classes),
            "covariance_type": "full",
            "reg_covar": REG_COVAR,
            "tol": 1e-3,
            "max_iter": 100,
            "init": {
                "weights": w.tolist(),
                "means": means.tolist(),
                "covariances": covs.tolist(),
            },
            "result": fitted(gm, x),
            "tutorial_mistake_agreement": agreement,
        },
    )


def best_fixtures():
    for name, (rel, k, _) in DATASETS.items():
        columns, x = read_csv(rel)
        for cov_type in COV_TYPES:
            best = None
            scores = []
            for s in range(N_FITS):
                gm = GaussianMixture(
                    k,
                    covariance_type=cov_type,
                    n_init=1,
                    init_params="kmeans",
                    tol=1e-10,
                    max_iter=2000,
                    reg_covar=REG_COVAR,
                    random_state=s,
                ).fit(x)
                score = float(gm.score(x))
                scores.append(score)
                if best is None or score > best[0]:
                    best = (score, gm)
            score, gm = best
            write_json(
                f"best_{name}_{cov_type}.json",
                {
                    "dataset": rel,
                    "columns": columns,
                    "n_components": k,
                    "covariance_type": cov_type,
                    "reg_covar": REG_COVAR,
                    "tol": 1e-10,
                    "max_iter": 2000,
                    "n_fits": N_FITS,
                    "best_score": score,
                    "best_weights": gm.weights_.tolist(),
                    "best_means": gm.means_.tolist(),
                    "bic": float(gm.bic(x)),
                    "scores": scores,
                },
            )


def main():
    if INSTALLED != PINNED:
        sys.exit(
            f"make_fixtures.py: need {PINNED}, found {INSTALLED}; "
            "run `bash scripts/setup_python.sh` and use .venv/bin/python"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        write_blobs3d()
        em_fixtures()
        scaled_fixtures()
        semi_fixture()
        best_fixtures()


if __name__ == "__main__":
    main()
