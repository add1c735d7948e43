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
