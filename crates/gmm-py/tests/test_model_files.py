"""Model files shared with the `gmm` command both ways, pickling, and
scikit-learn's estimator rebuilt from a fit."""

import json
import pickle

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import gmm_engine as gmm
from conftest import ROOT


def test_python_model_predicts_in_the_command_bit_for_bit(tmp_path, run_gmm, blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    est = gmm.GaussianMixture(3, covariance_type="diag", n_init=3, random_state=2).fit(frame)
    est.save(tmp_path / "model.json")
    frame.to_parquet(tmp_path / "rows.parquet")
    run_gmm("predict", "--model", tmp_path / "model.json", "--input", tmp_path / "rows.parquet",
            "--out", tmp_path / "pred.parquet")
    pred = pq.read_table(tmp_path / "pred.parquet").to_pandas()
    proba = pred[[f"proba_{k}" for k in range(3)]].to_numpy()
    np.testing.assert_array_equal(proba, est.predict_proba(frame))
    np.testing.assert_array_equal(pred["component"].to_numpy(), est.predict(frame))


def test_command_model_predicts_in_python_bit_for_bit(tmp_path, run_gmm):
    run_gmm("fit", ROOT / "configs" / "customers-semi.toml", "--out", tmp_path / "run",
            "--no-plots", "--predictions-format", "parquet")
    est = gmm.read_model(tmp_path / "run" / "model.json")
    assert list(est.feature_names_in_) == ["x1", "x2"]
    assert list(est.classes_) == [0, 1]
    rows = pd.read_csv(ROOT / "data" / "customers" / "unlabeled.csv")
    pred = pq.read_table(tmp_path / "run" / "predictions.parquet").to_pandas()
    proba = pred[["proba_0", "proba_1"]].to_numpy()[: len(rows)]
    np.testing.assert_array_equal(est.predict_proba(rows), proba)
    # Semi-supervised: predict answers with classes.
    np.testing.assert_array_equal(est.predict(rows), pred["component"].to_numpy()[: len(rows)])


def test_save_read_and_pickle_round_trips(tmp_path, customers):
    unlabeled, lx, ly = customers
    X = np.vstack([unlabeled, lx])
    y = np.array(["none"] * len(unlabeled) + ["gold" if v else "basic" for v in ly], dtype=object)
    y[: len(unlabeled)] = -1
    est = gmm.GaussianMixture(2, random_state=0, init_params="labeled").fit(X, y)
    assert list(est.classes_) == ["basic", "gold"]
    assert set(est.predict(X)) <= {"basic", "gold"}
    est.save(tmp_path / "m.json")
    back = gmm.read_model(tmp_path / "m.json")
    assert list(back.classes_) == ["basic", "gold"]
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    assert json.loads(again.to_json()) == json.loads(est.to_json())
    with pytest.raises(ValueError, match="not \"gmm-model\""):
        (tmp_path / "bad.json").write_text('{"format": "other"}')
        gmm.read_model(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        gmm.read_model(tmp_path / "missing.json")


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_to_sklearn_gives_the_same_predictions(blobs, kind):
    est = gmm.GaussianMixture(3, covariance_type=kind, random_state=0).fit(blobs)
    sk = est.to_sklearn()
    np.testing.assert_allclose(sk.predict_proba(blobs), est.predict_proba(blobs), atol=1e-12)
    np.testing.assert_allclose(sk.score_samples(blobs), est.score_samples(blobs), rtol=1e-12)
    assert sk.bic(blobs) == pytest.approx(est.bic(blobs), rel=1e-12)
    sampled, comps = sk.sample(10)
    assert sampled.shape == (10, 3)


def test_classes_come_back_as_they_were_written(tmp_path, blobs):
    y = np.full(len(blobs), "-1", dtype=object)
    y[:5], y[600:605], y[1100:1105] = "007", "010", "7"
    est = gmm.GaussianMixture(3, random_state=0).fit(blobs, y)
    est.save(tmp_path / "m.json")
    back = gmm.read_model(tmp_path / "m.json")
    assert list(back.classes_) == list(est.classes_)
    np.testing.assert_array_equal(back.predict(blobs), est.predict(blobs))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_continues_from_the_fit(blobs):
    est = gmm.GaussianMixture(3, random_state=0, warm_start=True, max_iter=2, tol=0.0)
    est.fit(blobs)
    first = est.lower_bound_
    est.fit(blobs)
    assert est.lower_bound_ >= first - 1e-12 * abs(first)
    full = gmm.GaussianMixture(3, random_state=0, max_iter=4, tol=0.0).fit(blobs)
    np.testing.assert_allclose(est.means_, full.means_, rtol=1e-12)
    est.set_params(n_components=2)
    with pytest.raises(ValueError, match="warm_start=True continues the last fit"):
        est.fit(blobs)


def test_a_fit_that_does_not_converge_warns(blobs):
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="did not converge"):
        gmm.GaussianMixture(3, random_state=0, max_iter=1, tol=0.0).fit(blobs)
