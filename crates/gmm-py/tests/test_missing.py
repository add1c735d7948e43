"""missing="drop": rows that miss a value (NaN, or null in a data frame)
are left out of a fit with their labels and weights, and come back from
predict as -1 (None for text classes) and from predict_proba and
score_samples as NaN rows, as `gmm fit --missing drop` and `gmm predict`
write them. Every result must equal the same call on the complete rows."""

import numpy as np
import pandas as pd
import polars as pl
import pytest

import gmm_engine as gmm
from conftest import ROOT


@pytest.fixture
def gappy():
    rng = np.random.default_rng(3)
    n = 600
    x = np.column_stack([np.where(np.arange(n) % 2 == 0, 0.0, 5.0) + rng.normal(size=n), rng.normal(size=n)])
    gaps = x.copy()
    gaps[::9, 0] = np.nan
    gaps[4::11, 1] = np.nan
    out = np.isnan(gaps).any(axis=1)
    return gaps, out


def fitted(**kw):
    return gmm.GaussianMixture(n_components=2, random_state=0, n_init=2, **kw)


def test_drop_fits_the_complete_rows_and_spreads_results_back(gappy):
    x, out = gappy
    keep = ~out
    a = fitted(missing="drop").fit(x)
    b = fitted().fit(x[keep])
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    labels = a.predict(x)
    assert labels.dtype == np.int64 and len(labels) == len(x)
    assert (labels[out] == -1).all()
    np.testing.assert_array_equal(labels[keep], b.predict(x[keep]))
    proba = a.predict_proba(x)
    assert np.isnan(proba[out]).all() and not np.isnan(proba[keep]).any()
    np.testing.assert_array_equal(proba[keep], b.predict_proba(x[keep]))
    ll = a.score_samples(x)
    assert np.isnan(ll[out]).all()
    np.testing.assert_array_equal(ll[keep], b.score_samples(x[keep]))
    assert a.score(x) == b.score(x[keep])
    assert a.bic(x) == b.bic(x[keep])
    fp = fitted(missing="drop").fit_predict(x)
    np.testing.assert_array_equal(fp, labels)


def test_labels_and_weights_of_dropped_rows_are_dropped_with_them(gappy):
    x, out = gappy
    keep = ~out
    i = np.arange(len(x))
    y = np.where(i % 10 == 0, (i // 10) % 2, -1)
    w = 1.0 + (np.arange(len(x)) % 3)
    a = fitted(missing="drop").fit(x, y, sample_weight=w)
    b = fitted().fit(x[keep], y[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(a.means_, b.means_)
    # Text classes: a row left out predicts None.
    names = np.where(y == -1, None, np.where(y == 0, "left", "right")).astype(object)
    t = fitted(missing="drop").fit(x, names)
    got = t.predict(x)
    assert all(v is None for v in got[out])
    assert set(got[~out]) <= {"left", "right"}


def test_frames_with_nulls_drop_the_same_rows(gappy):
    x, out = gappy
    ref = fitted(missing="drop").fit(x)
    pdf = pd.DataFrame({"a": x[:, 0], "b": x[:, 1]})
    pdf["a"] = pdf["a"].astype("Float64")  # a nullable column: NaN becomes <NA>
    assert pdf["a"].isna().sum() == np.isnan(x[:, 0]).sum()
    plf = pl.DataFrame({"a": x[:, 0], "b": x[:, 1]}).with_columns(pl.col("a").fill_nan(None))
    assert plf["a"].null_count() > 0
    for frame in (pdf, plf):
        m = fitted(missing="drop").fit(frame)
        np.testing.assert_array_equal(m.means_, ref.means_)
        assert (m.predict(frame)[out] == -1).all()
        np.testing.assert_array_equal(m.predict(frame), ref.predict(x))


def test_the_python_fit_is_the_command_s_fit(gappy, tmp_path):
    # The shipped table with gaps: read by pandas and by the command's
    # loader (fit_parquet), the same rows are fitted. The loader keeps a
    # dropped row in place with weight 0 (so that chunks and predictions
    # keep the input's rows) where the estimator takes it out, so sums
    # group otherwise: equal to rounding, not bit for bit.
    csv = ROOT / "data" / "customers" / "with-gaps.csv"
    frame = pd.read_csv(csv)[["x1", "x2"]]
    a = fitted(missing="drop").fit(frame.to_numpy())
    b = gmm.fit_parquet(csv, ["x1", "x2"], n_components=2, random_state=0, n_init=2, missing="drop")
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-13, atol=0)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-12, atol=0)
    assert a.n_iter_ == b.n_iter_


def test_error_stays_the_default_and_bad_values_are_refused(gappy):
    x, _ = gappy
    with pytest.raises(ValueError, match="NaN"):
        fitted().fit(x)
    model = fitted().fit(np.nan_to_num(x))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(x)
    with pytest.raises(ValueError, match="'missing' parameter"):
        fitted(missing="skip").fit(x)
    inf = x.copy()
    inf[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fitted(missing="drop").fit(inf)
    with pytest.raises(ValueError, match="every row"):
        fitted(missing="drop").fit(np.full((5, 2), np.nan))
    # Predicting rows that all miss a value gives all -1, as the command
    # writes null rows; scoring them is an error.
    m = fitted(missing="drop").fit(x)
    assert (m.predict(np.full((3, 2), np.nan)) == -1).all()
    with pytest.raises(ValueError, match="every row"):
        m.score(np.full((3, 2), np.nan))


def test_edge_cases_of_labels_weights_and_fit_parquet(gappy, tmp_path):
    x, out = gappy
    keep = ~out
    # A single weight for every row, as scikit-learn takes it.
    a = fitted(missing="drop").fit(x, sample_weight=2.0)
    np.testing.assert_array_equal(a.means_, fitted().fit(x[keep], sample_weight=2.0).means_)
    # A class held only by rows that are left out: an error, as the command's.
    i = np.arange(len(x))
    y = np.where(i % 10 == 0, (i // 10) % 2, -1)
    only_dropped = np.flatnonzero(out)[0]
    y[only_dropped] = 7
    with pytest.raises(ValueError, match="class 7 of y is held only by rows that miss"):
        fitted(missing="drop").fit(x, y)
    # y is not looked at when it is ignored.
    fitted(missing="drop", semi_supervised=None).fit(x, np.zeros((len(x), 2)))
    # Unsigned classes: -1 for a row left out, in int64.
    yu = np.where(i % 10 == 0, (i // 10) % 2, -1)
    m = fitted(missing="drop").fit(x, np.where(yu < 0, -1, yu))
    m.classes_ = m.classes_.astype(np.uint32)
    got = m.predict(x)
    assert got.dtype == np.int64 and (got[out] == -1).all()
    # fit_parquet's estimator keeps the setting for its own predictions.
    csv = tmp_path / "gaps.csv"
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1]})
    frame.to_csv(csv, index=False)
    est = gmm.fit_parquet(csv, n_components=2, random_state=0, missing="drop")
    assert est.get_params()["missing"] == "drop"
    assert (est.predict(frame)[out] == -1).all()
