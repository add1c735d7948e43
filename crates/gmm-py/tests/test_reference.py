"""Results against independent references: scikit-learn from the same
start (1e-6), and the `gmm` command on the same data and settings (bit for
bit)."""

import json

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

import gmm_engine as gmm
from conftest import ROOT, model_numbers

KINDS = ["full", "tied", "diag", "spherical"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def sklearn_start(X, k, kind):
    """A start scikit-learn makes (k-means, one EM step), to hand both."""
    sk = SklearnGaussianMixture(k, covariance_type=kind, max_iter=1, random_state=3).fit(X)
    return sk.weights_, sk.means_, sk.precisions_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", KINDS)
def test_same_start_same_result_as_sklearn(blobs, kind):
    w, m, p = sklearn_start(blobs, 3, kind)
    common = dict(covariance_type=kind, weights_init=w, means_init=m, precisions_init=p,
                  tol=1e-8, max_iter=300)
    ours = gmm.GaussianMixture(3, **common).fit(blobs)
    ref = SklearnGaussianMixture(3, **common).fit(blobs)
    assert ours.converged_ and ref.converged_
    assert ours.n_iter_ == ref.n_iter_
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)
    np.testing.assert_allclose(ours.score_samples(blobs), ref.score_samples(blobs), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(blobs), ref.predict_proba(blobs), atol=1e-9)
    assert ours.bic(blobs) == pytest.approx(ref.bic(blobs), rel=1e-9)
    assert ours.aic(blobs) == pytest.approx(ref.aic(blobs), rel=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_same_model_file_as_the_command(tmp_path, run_gmm, blobs, kind):
    csv = tmp_path / "blobs.csv"
    np.savetxt(csv, blobs, delimiter=",", header="a,b,c", comments="", fmt="%.17g")
    run_gmm("fit", "--input", csv, "-k", 3, "--covariance", kind, "--n-init", 4, "--seed", 11,
            "--out", tmp_path / "run", "--no-plots")
    cli = (tmp_path / "run" / "model.json").read_text()
    import pandas as pd

    frame = pd.read_csv(csv)
    est = gmm.GaussianMixture(3, covariance_type=kind, n_init=4, random_state=11).fit(frame)
    assert model_numbers(est.to_json()) == model_numbers(cli)
    # From NumPy, the same numbers (the columns are then unnamed).
    est2 = gmm.GaussianMixture(3, covariance_type=kind, n_init=4, random_state=11).fit(
        frame.to_numpy())
    np.testing.assert_array_equal(est2.means_, est.means_)
    np.testing.assert_array_equal(est2.covariances_, est.covariances_)


def test_semi_supervised_customers_as_the_command(tmp_path, run_gmm, customers):
    unlabeled, labeled_x, labeled_y = customers
    run_gmm("fit", ROOT / "configs" / "customers-semi.toml", "--out", tmp_path / "run", "--no-plots")
    cli = json.loads((tmp_path / "run" / "model.json").read_text())
    X = np.vstack([unlabeled, labeled_x])
    y = np.concatenate([np.full(len(unlabeled), -1), labeled_y])
    est = gmm.GaussianMixture(2, n_init=5, random_state=0, init_params="labeled").fit(X, y)
    ours = json.loads(est.to_json())
    for key in ("weights", "means", "covariances", "mean_log_likelihood", "n_iter", "bic"):
        assert ours[key] == cli[key], key
    assert cli["classes"] == ["0", "1"] and ours["classes"] == ["0", "1"]
    assert list(est.classes_) == [0, 1]
    assert ours["semi_supervised"] == cli["semi_supervised"]


MCLUST_FAMILIES = ["EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "EEV", "VEV",
                   "EVV", "VVV"]


@pytest.mark.parametrize("family", MCLUST_FAMILIES)
def test_mclust_families_reach_mclusts_fits(family):
    """Every mclust family by its name, from mclust's start (the fixtures of
    scripts/mclust_reference.R, faithful with G = 2): the same fit as
    mclust's em() to 1e-6 and the same log-likelihood to 1e-8. (VVE, where
    mclust's em() stops early, is checked in the Rust tests.)"""
    fx = json.loads((ROOT / f"tests/data/mclust/faithful_{family}_G2.json").read_text())
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful.csv", delimiter=",", skiprows=1)
    init, result = fx["init"], fx["result"]["parameters"]
    cov = np.asarray(init["covariances"])
    kind = {2: "full", 1: "diag", 0: "spherical"}[cov.ndim - 1] if family != "EEE" else "tied"
    prec = np.linalg.inv(cov) if kind in ("full", "tied") else 1.0 / cov
    ours = gmm.GaussianMixture(
        2, covariance_type=family, weights_init=init["weights"], means_init=init["means"],
        precisions_init=prec, reg_covar=0.0, tol=1e-15, max_iter=100_000,
    ).fit(X)
    assert ours.covariance_type == family
    np.testing.assert_allclose(ours.weights_, result["weights"], rtol=1e-6)
    np.testing.assert_allclose(ours.means_, result["means"], rtol=1e-6)
    want = np.asarray(result["covariances"])
    assert ours.covariances_.shape == want.shape
    np.testing.assert_allclose(ours.covariances_, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
    loglik = ours.score(X) * X.shape[0]
    assert loglik == pytest.approx(fx["result"]["loglik"], rel=1e-8)
    assert -ours.bic(X) == pytest.approx(fx["result"]["bic"], rel=1e-8)
    # scikit-learn holds it as the type of its arrays, with the same densities.
    np.testing.assert_allclose(ours.to_sklearn().score_samples(X), ours.score_samples(X),
                               rtol=1e-12)


@pytest.mark.parametrize("family", ["EEE", "VVV", "EVI"])
def test_hc_start_reaches_mclusts_fits(family):
    """init_params="hc" is Mclust()'s own start (hierarchical agglomeration
    of faithful's 272 rows): EM from it reaches mclust's fit without being
    given mclust's starting parameters."""
    fx = json.loads((ROOT / f"tests/data/mclust/faithful_{family}_G2.json").read_text())
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful.csv", delimiter=",", skiprows=1)
    ours = gmm.GaussianMixture(2, covariance_type=family, init_params="hc", reg_covar=0.0,
                               tol=1e-15, max_iter=100_000).fit(X)
    assert ours.score(X) * X.shape[0] == pytest.approx(fx["result"]["loglik"], rel=1e-8)
    np.testing.assert_allclose(ours.means_, fx["result"]["parameters"]["means"], rtol=1e-6)


def test_prior_reaches_mclusts_posterior_mode():
    """prior=True is mclust's priorControl(): from the same start, the fit
    of tests/data/mclust/prior/ (em() with the prior) to 1e-6."""
    fx = json.loads((ROOT / "tests/data/mclust/prior/faithful_VVV_G2.json").read_text())
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful.csv", delimiter=",", skiprows=1)
    init, result = fx["init"], fx["result"]["parameters"]
    ours = gmm.GaussianMixture(
        2, covariance_type="VVV", weights_init=init["weights"], means_init=init["means"],
        precisions_init=np.linalg.inv(np.asarray(init["covariances"])), reg_covar=0.0,
        prior=True, tol=1e-15, max_iter=100_000,
    ).fit(X)
    np.testing.assert_allclose(ours.means_, result["means"], rtol=1e-6)
    np.testing.assert_allclose(ours.covariances_, result["covariances"], rtol=1e-6)
    assert ours.score(X) * X.shape[0] == pytest.approx(fx["result"]["loglik"], rel=1e-8)
    with pytest.raises(ValueError, match="no prior for EVE"):
        gmm.GaussianMixture(2, covariance_type="EVE", prior=True).fit(X)


@pytest.mark.parametrize("family", ["VVV", "EEE", "VEI"])
def test_noise_reaches_mclusts_fit(family):
    """noise=True is mclust's noise component: on faithful with 60 uniform
    rows added, the fit from gmm's own start has mclust's log-likelihood
    (me() with Vinv = hypvol(X), tests/data/mclust/noise/) to 1e-8 and its
    parameters to 1e-5; mclust's volume to 1e-12; rows the noise explains
    best are predicted -1, and each row's probabilities, the noise's last,
    sum to 1."""
    fx = json.loads((ROOT / f"tests/data/mclust/noise/faithful_noisy_{family}_G2.json").read_text())
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful_noisy.csv", delimiter=",", skiprows=1)
    result = fx["result"]
    ours = gmm.GaussianMixture(
        2, covariance_type=family, noise=True, reg_covar=0.0, n_init=10, tol=1e-12,
        max_iter=10_000, random_state=0,
    ).fit(X)
    assert ours.noise_volume_ == pytest.approx(1.0 / fx["vinv"], rel=1e-12)
    assert ours.score(X) * X.shape[0] == pytest.approx(result["loglik"], rel=1e-8)
    want = np.asarray(result["parameters"]["means"])
    np.testing.assert_allclose(
        ours.means_[np.argsort(ours.means_[:, 0])], want[np.argsort(want[:, 0])], rtol=1e-5
    )
    assert ours.noise_weight_ == pytest.approx(result["noise_weight"], rel=1e-5)
    assert ours.weights_.sum() + ours.noise_weight_ == pytest.approx(1.0, abs=1e-12)
    proba = ours.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-12)
    labels = ours.predict(X)
    np.testing.assert_array_equal(labels == -1, proba.argmax(1) == 2)
    assert (labels == -1).sum() > 30
    # BIC as mclust's (two more parameters than without noise), sign flipped.
    assert -ours.bic(X) == pytest.approx(result["bic"], rel=1e-8)
    with pytest.raises(ValueError, match="noise component"):
        ours.sample(5)


def test_noise_models_refuse_what_they_cannot_do():
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful_noisy.csv", delimiter=",", skiprows=1)
    ours = gmm.GaussianMixture(2, noise=True, random_state=0).fit(X)
    with pytest.raises(ValueError, match="scikit-learn's GaussianMixture cannot hold"):
        ours.to_sklearn()
    with pytest.raises(ValueError, match="noise_volume"):
        gmm.GaussianMixture(2, noise=True, noise_volume=0.0).fit(X)
    # A model file with a noise component reads back with it.
    again = gmm.GaussianMixture._from_model(ours._model)
    assert again.noise and again.noise_weight_ == ours.noise_weight_
    np.testing.assert_array_equal(again.predict(X), ours.predict(X))


@pytest.mark.parametrize("family", ["VVV", "EEI"])
def test_noise_init_starts_where_mclust_starts(family, tmp_path):
    """noise_init is mclust's initialization = list(noise = ...): with the
    fixture's noise rows and init_params="hc", the fit is mclust's (its
    log-likelihood to 1e-8, its noise weight to 1e-6), from an array and,
    through fit_parquet's noise_init_column, from a file; 0/1 numbers work
    as booleans, and rows left out for a missing value leave their flags."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    fx = json.loads((ROOT / f"tests/data/mclust/noise/faithful_noisy_{family}_G2.json").read_text())
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful_noisy.csv", delimiter=",", skiprows=1)
    flags = np.zeros(len(X), dtype=bool)
    flags[fx["noise_rows"]] = True
    settings = dict(covariance_type=family, noise=True, init_params="hc", reg_covar=0.0,
                    tol=1e-14, max_iter=100_000)
    ours = gmm.GaussianMixture(2, **settings).fit(X, noise_init=flags)
    result = fx["result"]
    assert ours.score(X) * len(X) == pytest.approx(result["loglik"], rel=1e-8)
    assert ours.noise_weight_ == pytest.approx(result["noise_weight"], abs=1e-6)
    again = gmm.GaussianMixture(2, **settings).fit(X, noise_init=flags.astype(np.int64))
    np.testing.assert_array_equal(again.means_, ours.means_)
    # A row with a missing value, left out with its flag.
    gappy = np.vstack([X, [[np.nan, 70.0]]])
    dropped = gmm.GaussianMixture(2, missing="drop", **settings).fit(
        gappy, noise_init=np.append(flags, True))
    np.testing.assert_array_equal(dropped.means_, ours.means_)
    path = tmp_path / "noisy.parquet"
    pq.write_table(pa.table({"eruptions": X[:, 0], "waiting": X[:, 1], "outlier": flags}), path)
    from_file = gmm.fit_parquet(path, n_components=2, noise_init_column="outlier", **settings)
    np.testing.assert_array_equal(from_file.means_, ours.means_)
    assert list(from_file.feature_names_in_) == ["eruptions", "waiting"]


def test_noise_init_that_cannot_work_is_refused():
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful_noisy.csv", delimiter=",", skiprows=1)
    flags = np.arange(len(X)) % 10 == 0
    with pytest.raises(ValueError, match="set noise=True"):
        gmm.GaussianMixture(2).fit(X, noise_init=flags)
    noisy = gmm.GaussianMixture(2, noise=True)
    with pytest.raises(ValueError, match="expected"):
        noisy.fit(X, noise_init=flags[:-1])
    with pytest.raises(ValueError, match=r"noise_init\[3\] is 2"):
        noisy.fit(X, noise_init=np.where(np.arange(len(X)) == 3, 2, 0))
    with pytest.raises(ValueError, match="initial noise set: the set holds no row"):
        noisy.fit(X, noise_init=np.zeros(len(X), dtype=bool))
    with pytest.raises(ValueError, match="initial noise set: every row with weight is in the set"):
        noisy.fit(X, noise_init=np.ones(len(X), dtype=bool))
    with pytest.raises(ValueError, match="set noise=True"):
        gmm.fit_parquet(ROOT / "tests/data/mclust/faithful_noisy.csv", n_components=2,
                        noise_init_column="waiting")
    # A labeled row in the set, named by its row of X (before rows with a
    # missing value are left out); unlabeled rows flagged are fine.
    y = np.full(len(X) + 1, -1)
    y[[4, 20]] = [0, 1]
    gappy = np.vstack([[np.nan, 70.0], X])
    marked = np.zeros(len(X) + 1, dtype=bool)
    marked[[2, 20]] = True
    semi = gmm.GaussianMixture(2, noise=True, missing="drop")
    with pytest.raises(ValueError, match="noise_init marks row 20 of X, which y labels"):
        semi.fit(gappy, y, noise_init=marked)
    with pytest.raises(ValueError, match="noise_init marks row 20 of X"):
        gmm.GaussianMixture(2, noise=True, missing="drop", semi_supervised="init").fit(
            gappy, y, noise_init=marked)
    marked[20] = False
    semi.fit(gappy, y, noise_init=marked)
    # A labeled row left out for its missing value may be flagged.
    y[0], marked[0] = 1, True
    semi.fit(gappy, y, noise_init=marked)
    # A warm start continues a fit whose noise has its weight already.
    warm = gmm.GaussianMixture(2, noise=True, warm_start=True).fit(X)
    with pytest.raises(ValueError, match="warm_start=True continues the last fit"):
        warm.fit(X, noise_init=flags)


def test_hc_rows_bounds_the_agglomerated_sample():
    """hc_rows is the `gmm` command's --hc-rows: all of faithful's 272 rows
    by default (mclust's start, its fit), fewer when asked; below K, or
    past 10,000, the engine's one-line error."""
    X = np.loadtxt(ROOT / "tests/data/mclust/faithful.csv", delimiter=",", skiprows=1)
    full = gmm.GaussianMixture(3, covariance_type="EEE", init_params="hc", reg_covar=0.0,
                               tol=1e-10, max_iter=1000).fit(X)
    fx = json.loads((ROOT / "tests/data/mclust/faithful_EEE_G3.json").read_text())
    assert full.score(X) * X.shape[0] == pytest.approx(fx["result"]["loglik"], rel=1e-8)
    small = gmm.GaussianMixture(3, covariance_type="EEE", init_params="hc", hc_rows=50,
                                reg_covar=0.0, random_state=0).fit(X)
    assert small.restarts_[0]["init"] != full.restarts_[0]["init"]
    with pytest.raises(ValueError, match="cannot be cut into 3 clusters"):
        gmm.GaussianMixture(3, init_params="hc", hc_rows=2).fit(X)
    with pytest.raises(ValueError, match="hc_rows"):
        gmm.GaussianMixture(3, init_params="hc", hc_rows=20_000).fit(X)
