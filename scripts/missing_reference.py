"""Write the reference fixtures for EM with missing values (tests/data/missing).

Run from the repository root, after ``bash scripts/setup_python.sh``::

    .venv/bin/python scripts/missing_reference.py

Pure NumPy (numpy.linalg), numpy 2.4.6 as pinned in ``scripts/requirements.txt``
(the script refuses to run with another), CPython 3.11; BLAS and OpenMP limited
to one thread so that every rerun writes the same bytes.

Data (``tests/data/missing/*.csv``; a missing value is an EMPTY field, rows
whose every value is missing stay in the file: they contribute only the prior)
----------------------------------------------------------------------------
``blobs3d_mcar{05,20,40}.csv``
    ``tests/data/blobs3d.csv`` (x1, x2, x3; 600 rows) with MCAR holes at rate
    0.05, 0.2, 0.4: ``rng = numpy.random.default_rng(2026 + int(rate * 100))``
    (seeds 2031, 2046, 2066), ``mask = rng.random((600, 3)) < rate``. Observed
    fields are the original text fields, copied unchanged.
``blobs6d_mcar20.csv``
    x1..x6, 800 rows. ``rng = numpy.random.default_rng(7)``; first the three
    covariances, in order, ``A = rng.standard_normal((6, 6));
    cov = A @ A.T / 6 + 0.25 * I``; then 400, 240, 160 rows of the Gaussians
    with means ``MEANS6`` and those covariances, each drawn as
    ``mean + rng.standard_normal((n, 6)) @ L.T`` with
    ``L = numpy.linalg.cholesky(cov)``, stacked, shuffled by
    ``rng.permutation(800)``, written with ``"%.6f"`` ("-0.000000" written as
    "0.000000"); then ``mask = numpy.random.default_rng(2046).random((800, 6))
    < 0.2``. The complete 6-D data are not written anywhere.

Every fit reads its data back from the CSV text (empty field -> NaN).

Fixtures (``tests/data/missing/em_{data}_{cov}.json``, ``json.dump(...,
indent=1)``, floats as Python's ``repr``), for each data file above and each
``cov`` in full, diag, spherical, tied
----------------------------------------------------------------------------
Keys: ``data`` (CSV path relative to the repo root), ``columns``,
``covariance_type``, ``n_components`` (3), ``reg_covar`` (1e-6), ``max_iter``
(25), ``init`` {``weights``, ``means``, ``covariances``}, ``weights``,
``means``, ``covariances`` (scikit-learn's ``covariances_`` shapes: full
K x d x d, diag K x d, spherical K, tied d x d), ``lower_bounds`` (25
objectives), ``final_mean_log_likelihood``, ``predict``, ``predict_proba``,
``score_samples``, ``n_missing_values``, ``n_incomplete_rows``,
``n_fully_missing_rows``.

Initial parameters: weights ``numpy.linspace(1, 2, 3)`` normalised; means:
rows ``[0, 3, 2]`` of X with each missing value replaced by the mean of that
column's observed values, plus 0.05; covariances: ``0.5 * B`` with ``B`` the
pairwise biased covariance: ``B[j, l] = mean((x_j - mean(x_j)) * (x_l -
mean(x_l)))`` over the rows where both columns j and l are observed, the two
means taken over those same rows (so ``B[j, j]`` is the biased variance of
column j's observed values). If ``0.5 * B`` has no Cholesky factor, its
diagonal is used instead (it never happens for these data). In each type's
shape: full: that matrix for every component; diag: its diagonal per
component; spherical: the mean of its diagonal per component; tied: the matrix.
On complete data this is ``make_fixtures.py``'s ``em_init`` (to rounding).

Algorithm (the engine's and scikit-learn's conventions)
-------------------------------------------------------
Each component's covariance is a d x d matrix ``S_k`` (diag and spherical:
diagonal; tied: the same for every k). Rows are grouped by their pattern of
observed (o) and missing (m) coordinates.

E-step, row i, component k: ``log p_ik = log w_k + log N(x_o; mu_k[o],
S_k[o,o])`` (``log N = 0`` when nothing is observed), via the Cholesky factor
of ``S_k[o,o]``; ``log_norm_i = logsumexp_k log p_ik`` (max subtracted);
``r_ik = exp(log p_ik - log_norm_i)``; ``xhat_ik`` = x with
``x_m = mu_k[m] + S_k[m,o] S_k[o,o]^-1 (x_o - mu_k[o])``; ``C_ik`` = d x d
zeros with block ``[m,m] = S_k[m,m] - S_k[m,o] S_k[o,o]^-1 S_k[o,m]``
(``numpy.linalg.solve`` with ``S_k[o,o]``).

M-step: ``n_k = sum_i r_ik + 10 * eps`` (``numpy.finfo(float).eps``);
``mu_k = sum_i r_ik xhat_ik / n_k``; ``Q_k = sum_i r_ik [(xhat_ik - mu_k)
(xhat_ik - mu_k)^T + C_ik] / n_k`` with the new mu_k. full: ``Q_k + reg *
I``; diag: ``diag(Q_k) + reg``; spherical: ``mean(diag(Q_k)) + reg``; tied:
``sum_k n_k Q_k / sum_k n_k + reg * I``; ``w_k = n_k / sum_k n_k``.

One iteration = E-step with the current parameters (its ``mean_i
log_norm_i`` is that iteration's ``lower_bounds`` entry, as scikit-learn's
``lower_bounds_``), then M-step; exactly 25 iterations, no tolerance stop.
A last E-step with the final parameters gives ``final_mean_log_likelihood``,
``predict_proba`` (r), ``score_samples`` (log_norm) and ``predict`` (argmax
of r, first on ties).

Self-checks (the script stops if one fails): every objective trace is
non-decreasing (to 1e-12 relative); on the complete blobs3d.csv the same code
matches a plain complete-data EM written separately in ``check_complete``,
and scikit-learn's ``tests/data/sklearn/em_blobs3d_*.json``.
"""

import os

# One thread everywhere, set before numpy loads its BLAS (reproducible bytes).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "missing"
BLOBS3D = "tests/data/blobs3d.csv"

K, REG_COVAR, MAX_ITER = 3, 1e-6, 25
COV_TYPES = ("full", "diag", "spherical", "tied")
INIT_ROWS, MEAN_OFFSET = [0, 3, 2], 0.05
EPS10 = 10 * np.finfo(np.float64).eps
MCAR_RATES = (0.05, 0.2, 0.4)

# blobs6d: (row count, mean) per component; covariances are drawn (docstring).
MEANS6 = [
    (400, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
    (240, [3.0, 2.0, -1.0, 0.0, 1.5, -2.0]),
    (160, [-2.5, 3.0, 2.5, 1.0, -1.0, 0.5]),
]


def pinned_numpy():
    pins = (ROOT / "scripts" / "requirements.txt").read_text().splitlines()
    return next(ln.split("==")[1].strip() for ln in pins if ln.startswith("numpy=="))


# ---------------------------------------------------------------- data files


def masked_text(header, fields, mask):
    """CSV text: the given text fields, masked entries as empty fields."""
    rows = [",".join("" if m else f for f, m in zip(row, miss)) for row, miss in zip(fields, mask)]
    return "\n".join([",".join(header)] + rows) + "\n"


def write_data():
    """Writes the four CSVs; returns [(name, repo-relative path)]."""
    OUT.mkdir(parents=True, exist_ok=True)
    out = []
    lines = (ROOT / BLOBS3D).read_text(encoding="utf-8").splitlines()
    header, fields = lines[0].split(","), [ln.split(",") for ln in lines[1:]]
    for rate in MCAR_RATES:
        rng = np.random.default_rng(2026 + int(rate * 100))
        mask = rng.random((len(fields), len(header))) < rate
        name = f"blobs3d_mcar{int(rate * 100):02d}"
        (OUT / f"{name}.csv").write_text(masked_text(header, fields, mask), encoding="utf-8")
        out.append((name, f"tests/data/missing/{name}.csv"))
    # blobs6d: draw, format as text, then mask the text fields.
    rng = np.random.default_rng(7)
    covs = [a @ a.T / 6 + 0.25 * np.eye(6) for a in (rng.standard_normal((6, 6)) for _ in MEANS6)]
    parts = [np.asarray(mean) + rng.standard_normal((n, 6)) @ np.linalg.cholesky(cov).T
             for (n, mean), cov in zip(MEANS6, covs)]
    n6 = sum(n for n, _ in MEANS6)
    x = np.vstack(parts)[rng.permutation(n6)]
    fields = [[("%.6f" % v).replace("-0.000000", "0.000000") for v in row] for row in x]
    mask = np.random.default_rng(2046).random((n6, 6)) < 0.2
    header = [f"x{j + 1}" for j in range(6)]
    (OUT / "blobs6d_mcar20.csv").write_text(masked_text(header, fields, mask), encoding="utf-8")
    out.append(("blobs6d_mcar20", "tests/data/missing/blobs6d_mcar20.csv"))
    return out


def read_csv(rel):
    """Header and float matrix (empty field -> NaN) of a CSV in the repo."""
    lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
    rows = [[float(f) if f != "" else np.nan for f in ln.split(",")] for ln in lines[1:]]
    return lines[0].split(","), np.array(rows, dtype=np.float64)


# ---------------------------------------------------------------- parameters


def initial(x):
    """Initial (weights, means, d x d base covariance) from data with NaNs."""
    obs, d = ~np.isnan(x), x.shape[1]
    w = np.linspace(1.0, 2.0, K)
    w /= w.sum()
    col_mean = np.array([x[obs[:, j], j].mean() for j in range(d)])
    means = np.where(obs[INIT_ROWS], x[INIT_ROWS], col_mean) + MEAN_OFFSET
    base = np.empty((d, d))
    for j in range(d):
        for l in range(d):
            both = obs[:, j] & obs[:, l]
            xj, xl = x[both, j], x[both, l]
            base[j, l] = np.mean((xj - xj.mean()) * (xl - xl.mean()))
    base *= 0.5
    try:
        np.linalg.cholesky(base)
    except np.linalg.LinAlgError:
        base = np.diag(np.diag(base))
    return w, means, base


def to_sklearn(cov_type, mats):
    """K x d x d matrices -> scikit-learn's covariances_ shape."""
    diags = np.array([np.diag(c) for c in mats])
    shaped = {"full": mats, "diag": diags, "spherical": diags.mean(axis=1), "tied": mats[0]}
    return shaped[cov_type].copy()


def from_sklearn(cov_type, covs, d):
    """scikit-learn's covariances_ shape -> K x d x d matrices."""
    c = np.asarray(covs, dtype=np.float64)
    if cov_type == "full":
        return c.copy()
    if cov_type == "tied":
        return np.array([c] * K)
    return np.array([np.diag(v) if cov_type == "diag" else v * np.eye(d) for v in c])


# ---------------------------------------------------------------- EM


def e_step(x, w, mu, sig):
    """log_norm (n), r (n x K), xhat (K x n x d), C (K x n x d x d)."""
    n, d = x.shape
    logp, xhat, cond = np.empty((n, K)), np.empty((K, n, d)), np.zeros((K, n, d, d))
    patterns, group = np.unique(np.isnan(x), axis=0, return_inverse=True)
    for g, m in enumerate(patterns):  # m: missing coordinates of this pattern
        rows, o = np.flatnonzero(group.ravel() == g), ~m
        no, xo, mi = int(o.sum()), x[np.ix_(rows, o)], np.flatnonzero(m)
        for k in range(K):
            s, xk = sig[k], np.tile(mu[k], (len(rows), 1))  # xhat: mu_k, then x_o
            xk[:, o] = xo
            lognorm = np.zeros(len(rows))  # log N = 0 when nothing is observed
            if no > 0:
                soo, diff = s[np.ix_(o, o)], xo - mu[k, o]
                lower = np.linalg.cholesky(soo)
                z = np.linalg.solve(lower, diff.T)  # L^-1 (x_o - mu_o)
                logdet = 2.0 * np.sum(np.log(np.diag(lower)))
                lognorm = -0.5 * (no * np.log(2 * np.pi) + logdet + np.sum(z**2, axis=0))
            if m.any():
                smm = s[np.ix_(m, m)]
                if no > 0:
                    b = np.linalg.solve(soo, s[np.ix_(o, m)])  # S_oo^-1 S_om
                    xk[:, m] = mu[k, m] + diff @ b
                    smm = smm - s[np.ix_(m, o)] @ b
                cond[k][np.ix_(rows, mi, mi)] = smm
            logp[rows, k] = np.log(w[k]) + lognorm
            xhat[k, rows] = xk
    top = logp.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.sum(np.exp(logp - top), axis=1))
    return log_norm, np.exp(logp - log_norm[:, None]), xhat, cond


def m_step(cov_type, r, xhat, cond):
    """New (w, mu, K x d x d sig) from the E-step's expectations."""
    d = xhat.shape[2]
    nk = r.sum(axis=0) + EPS10
    mu = np.array([r[:, k] @ xhat[k] for k in range(K)]) / nk[:, None]
    q = np.empty((K, d, d))
    for k in range(K):
        diff = xhat[k] - mu[k]
        q[k] = ((r[:, k, None] * diff).T @ diff + np.tensordot(r[:, k], cond[k], 1)) / nk[k]
    if cov_type == "tied":
        q[:] = np.tensordot(nk, q, 1) / nk.sum()
    sig = from_sklearn(cov_type, to_sklearn(cov_type, q), d)
    return nk / nk.sum(), mu, sig + REG_COVAR * np.eye(d)


def fit(x, cov_type, w, mu, sig):
    lower_bounds = []
    for _ in range(MAX_ITER):
        log_norm, r, xhat, cond = e_step(x, w, mu, sig)
        lower_bounds.append(float(np.mean(log_norm)))
        w, mu, sig = m_step(cov_type, r, xhat, cond)
    log_norm, r, _, _ = e_step(x, w, mu, sig)
    return w, mu, sig, lower_bounds, log_norm, r


def check_monotone(tag, lb):
    for a, b in zip(lb, lb[1:]):
        if b < a - 1e-12 * abs(a):
            sys.exit(f"missing_reference.py: {tag}: objective decreased {a!r} -> {b!r}")


def check_complete():
    """On complete data the missing-value EM must be ordinary EM."""
    _, x = read_csv(BLOBS3D)
    n, d = x.shape
    w0, mu0, base = initial(x)
    assert np.allclose(base, 0.5 * np.cov(x.T, bias=True), rtol=1e-13, atol=0)
    for cov_type in COV_TYPES:
        sig0 = from_sklearn(cov_type, to_sklearn(cov_type, np.array([base] * K)), d)
        w, mu, sig, lb, log_norm, _ = fit(x, cov_type, w0, mu0, sig0)
        # Plain EM: dense densities from inv/slogdet, no missing-value logic;
        # MAX_ITER iterations, then the final E-step (plse).
        pw, pmu, psig, plb = w0, mu0, sig0, []
        for it in range(MAX_ITER + 1):
            logp = np.empty((n, K))
            for k in range(K):
                diff = x - pmu[k]
                maha = np.sum(diff @ np.linalg.inv(psig[k]) * diff, axis=1)
                logp[:, k] = np.log(pw[k]) - 0.5 * (
                    d * np.log(2 * np.pi) + np.linalg.slogdet(psig[k])[1] + maha)
            plse = np.logaddexp.reduce(logp, axis=1)
            if it == MAX_ITER:
                break
            plb.append(np.mean(plse))
            r = np.exp(logp - plse[:, None])
            nk = r.sum(0) + EPS10
            pmu = r.T @ x / nk[:, None]
            q = np.array([(r[:, k, None] * (x - pmu[k])).T @ (x - pmu[k]) / nk[k] for k in range(K)])
            if cov_type == "tied":
                q[:] = sum(nk[k] * q[k] for k in range(K)) / nk.sum()
            psig = from_sklearn(cov_type, to_sklearn(cov_type, q), d) + REG_COVAR * np.eye(d)
            pw = nk / nk.sum()
        sk = json.loads((ROOT / f"tests/data/sklearn/em_blobs3d_{cov_type}.json").read_text())
        sk = sk["result"]
        sk_ref = (sk["lower_bounds"], sk["means"], from_sklearn(cov_type, sk["covariances"], d),
                  sk["weights"], sk["score_samples"])
        for label, ref in (("plain EM", (plb, pmu, psig, pw, plse)), ("scikit-learn", sk_ref)):
            for ours, theirs in zip((lb, mu, sig, w, log_norm), ref):
                err = np.max(np.abs(np.asarray(ours) - np.asarray(theirs)))
                if not err <= 1e-10 * max(1.0, np.max(np.abs(theirs))):
                    sys.exit(f"missing_reference.py: complete blobs3d {cov_type}: "
                             f"differs from {label} by {err:.3e}")
        check_monotone(f"complete blobs3d {cov_type}", lb)
        print(f"check: complete blobs3d {cov_type:9s} matches plain EM and scikit-learn")


# ---------------------------------------------------------------- fixtures


def main():
    if np.__version__ != pinned_numpy():
        sys.exit(f"missing_reference.py: need numpy {pinned_numpy()}, found {np.__version__}; "
                 "run `bash scripts/setup_python.sh` and use .venv/bin/python")
    check_complete()
    for name, rel in write_data():
        columns, x = read_csv(rel)
        miss, d = np.isnan(x), x.shape[1]
        w0, mu0, base = initial(x)
        for cov_type in COV_TYPES:
            covs0 = to_sklearn(cov_type, np.array([base] * K))
            w, mu, sig, lb, log_norm, r = fit(x, cov_type, w0, mu0, from_sklearn(cov_type, covs0, d))
            check_monotone(f"{name} {cov_type}", lb)
            fixture = {
                "data": rel,
                "columns": columns,
                "covariance_type": cov_type,
                "n_components": K,
                "reg_covar": REG_COVAR,
                "max_iter": MAX_ITER,
                "init": {"weights": w0.tolist(), "means": mu0.tolist(), "covariances": covs0.tolist()},
                "weights": w.tolist(),
                "means": mu.tolist(),
                "covariances": to_sklearn(cov_type, sig).tolist(),
                "lower_bounds": lb,
                "final_mean_log_likelihood": float(np.mean(log_norm)),
                "predict": [int(v) for v in np.argmax(r, axis=1)],
                "predict_proba": r.tolist(),
                "score_samples": log_norm.tolist(),
                "n_missing_values": int(miss.sum()),
                "n_incomplete_rows": int(miss.any(axis=1).sum()),
                "n_fully_missing_rows": int(miss.all(axis=1).sum()),
            }
            path = OUT / f"em_{name}_{cov_type}.json"
            with open(path, "w", encoding="utf-8") as f:
                json.dump(fixture, f, indent=1)
                f.write("\n")
            print(f"{path.relative_to(ROOT)}: n={len(x)} missing={fixture['n_missing_values']} "
                  f"incomplete={fixture['n_incomplete_rows']} empty={fixture['n_fully_missing_rows']} "
                  f"lb[0]={lb[0]:.6f} final={fixture['final_mean_log_likelihood']:.6f} "
                  f"{path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
