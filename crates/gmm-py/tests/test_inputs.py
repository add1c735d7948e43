"""Every kind of input gives the same rows: NumPy in any layout and type,
pandas, polars and pyarrow through the Arrow C stream; bad values are
refused naming the column and row; C-contiguous float64 and float32 are
not copied."""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import gmm_engine as gmm
from gmm_engine import _input


def fitted(X, **kw):
    return gmm.GaussianMixture(3, n_init=2, random_state=5, **kw).fit(X)


def test_every_input_gives_the_same_model_and_predictions(blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    inputs = {
        "numpy C": blobs,
        "numpy F": np.asfortranarray(blobs),
        "list": blobs.tolist(),
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "pyarrow table": table,
        "pyarrow reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches(400)),
    }
    reference = fitted(blobs)
    expected = reference.predict_proba(blobs)
    for name, X in inputs.items():
        est = fitted(X)
        np.testing.assert_array_equal(est.means_, reference.means_, err_msg=name)
        np.testing.assert_array_equal(est.covariances_, reference.covariances_, err_msg=name)
        if name == "pyarrow reader":  # a stream is read once
            X = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(400))
        np.testing.assert_array_equal(est.predict_proba(X), expected, err_msg=name)
        named = name in ("pandas", "polars", "pyarrow table", "pyarrow reader")
        assert hasattr(est, "feature_names_in_") == named, name
        if named:
            assert list(est.feature_names_in_) == ["a", "b", "c"]


def test_a_pandas_index_is_not_a_feature(blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    subset = frame[frame["a"] > 0]  # its index is no longer a plain range
    est = fitted(subset)
    assert est.n_features_in_ == 3
    np.testing.assert_array_equal(est.means_, fitted(subset.to_numpy()).means_)
    unnamed = pd.DataFrame(blobs)[lambda f: f[0] > 0]  # integer column names
    assert fitted(unnamed).n_features_in_ == 3


def test_float32_and_integers_are_read_as_float64(blobs):
    as32 = blobs.astype(np.float32)
    a = fitted(as32)
    b = fitted(as32.astype(np.float64))
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    assert a.lower_bound_ == b.lower_bound_
    assert a.means_.dtype == np.float64
    # The model file says the rows were float32 (as `gmm fit --precision f32`).
    import json
    assert json.loads(a.to_json())["provenance"]["precision"] == "f32"
    assert "precision" not in json.loads(b.to_json())["provenance"]
    # Predictions and scores of float32 rows too, and weights beside them.
    np.testing.assert_array_equal(a.predict_proba(as32), a.predict_proba(as32.astype(np.float64)))
    assert a.score(as32) == a.score(as32.astype(np.float64))
    w = np.linspace(0.5, 2.0, len(blobs))
    np.testing.assert_array_equal(
        fitted(as32).fit(as32, sample_weight=w).means_,
        fitted(as32).fit(as32.astype(np.float64), sample_weight=w).means_,
    )
    # A start from means only (the rest from the rows) is the same too: the
    # start's variances are summed in float64 (in float32 they differ).
    means = blobs[:3]
    for kind in ("full", "diag", "spherical"):
        est = gmm.GaussianMixture(3, means_init=means, covariance_type=kind)
        start32 = est._initial_model(as32, None).covariances
        start64 = est._initial_model(as32.astype(np.float64), None).covariances
        np.testing.assert_array_equal(start32, start64, err_msg=kind)
    # A float32 array in another layout is made C-contiguous float32.
    rows = _input.rows(np.asfortranarray(as32))[0]
    assert rows.dtype == np.float32 and rows.flags.c_contiguous
    np.testing.assert_array_equal(fitted(np.asfortranarray(as32)).means_, a.means_)
    ints = np.round(blobs * 100).astype(np.int64)
    np.testing.assert_array_equal(fitted(ints).means_, fitted(ints.astype(np.float64)).means_)
    frame32 = pl.DataFrame({"a": as32[:, 0], "b": as32[:, 1], "c": as32[:, 2]})
    np.testing.assert_array_equal(fitted(frame32).means_, a.means_)
    # A frame of float32 columns is read as float32 (half the memory), one
    # with any wider column as float64; the fit is the same either way.
    assert _input.rows(frame32)[0].dtype == np.float32
    assert _input.rows(frame32.to_pandas())[0].dtype == np.float32
    assert _input.frame_rows(frame32, ["a", "c"])[0].dtype == np.float32
    mixed = frame32.with_columns(pl.col("c").cast(pl.Float64))
    assert _input.rows(mixed)[0].dtype == np.float64
    np.testing.assert_array_equal(fitted(mixed).means_, a.means_)
    np.testing.assert_array_equal(fitted(frame32).predict_proba(frame32), a.predict_proba(as32))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_float64_c_arrays_are_read_in_place(blobs):
    assert _input.rows(blobs)[0] is blobs
    as32 = blobs.astype(np.float32)
    assert _input.rows(as32)[0] is as32
    big = np.random.default_rng(0).standard_normal((200_000, 8))
    for X in (big, big.astype(np.float32)):
        tracemalloc.start()
        gmm.GaussianMixture(2, max_iter=3, random_state=0).fit(X)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # NumPy reports its allocations to tracemalloc: a copy would be
        # 12.8 MB (6.4 MB in float32).
        assert peak < X.nbytes / 10, (X.dtype, peak)


def test_frame_columns_named_like_patterns_mean_themselves(blobs):
    # `a[1]` as a pattern would match `a1`; `b*` would match `b1` too.
    frame = pd.DataFrame({"a[1]": blobs[:, 0], "a1": blobs[:, 1] * 10, "b*": blobs[:, 2]})
    x, names, _ = _input.frame_rows(frame, ["a[1]", "b*"])
    assert names == ["a[1]", "b*"]
    np.testing.assert_array_equal(x, blobs[:, [0, 2]])
    est = fitted(frame[["a[1]", "b*"]])
    assert list(est.feature_names_in_) == ["a[1]", "b*"]
    np.testing.assert_array_equal(est.means_, fitted(blobs[:, [0, 2]]).means_)
    plain = fitted(blobs[:, [0, 2]])
    np.testing.assert_array_equal(
        est.predict_proba(frame[["a[1]", "b*"]]), plain.predict_proba(blobs[:, [0, 2]])
    )


def test_frames_columns_are_matched_by_name(blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    est = fitted(frame)
    with pytest.raises(ValueError, match="same order"):
        est.predict(frame[["c", "a", "b"]])
    with pytest.raises(ValueError, match="unseen at fit time:\n- d"):
        est.predict(frame.rename(columns={"c": "d"}))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(blobs)
    plain = fitted(blobs)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        plain.predict(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(est.predict(pl.from_pandas(frame)), est.predict(frame))


def test_bad_values_are_refused_with_their_place(blobs):
    x = blobs.copy()
    x[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"Input X contains NaN at X\[7, 1\]"):
        fitted(x)
    x[7, 1] = 1e200
    with pytest.raises(ValueError, match=r"too large .* at X\[7, 1\]"):
        fitted(x)
    frame = pl.DataFrame({"a": [1.0, None, 3.0], "b": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"`a`.*row 2"):
        gmm.GaussianMixture(1).fit(frame)
    texts = pl.DataFrame({"a": [1.0, 2.0, 3.0], "name": ["x", "y", "z"]})
    with pytest.raises(ValueError, match=r"columns that do not hold numbers: `name`"):
        gmm.GaussianMixture(1).fit(texts)
    with pytest.raises(ValueError, match=r"column `name` is \w+, not numeric"):
        gmm.GaussianMixture(1).fit(texts.to_pandas())
    with pytest.raises(ValueError, match="2 features, but GaussianMixture is expecting 3"):
        fitted(blobs).predict(blobs[:, :2])
    with pytest.raises(ValueError, match="sample_weight"):
        gmm.GaussianMixture(1).fit(blobs, sample_weight=-np.ones(len(blobs)))
    with pytest.raises(ValueError, match="covariance_type"):
        gmm.GaussianMixture(1, covariance_type="VVX").fit(blobs)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weights_count_as_repeated_rows(blobs):
    """From the same start, weight 2 is the row twice (EM is exact in the
    weights; starts that sample rows would differ)."""
    w = np.ones(len(blobs))
    w[::3] = 2.0
    twice = np.vstack([blobs, blobs[::3]])
    start = gmm.GaussianMixture(3, random_state=1, max_iter=1).fit(blobs)
    common = dict(weights_init=start.weights_, means_init=start.means_,
                  precisions_init=start.precisions_, tol=1e-10, max_iter=50)
    a = gmm.GaussianMixture(3, **common).fit(blobs, sample_weight=w)
    b = gmm.GaussianMixture(3, **common).fit(twice)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-10)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-9)


def test_one_column_containers_and_lazy_frames_are_told_apart(blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="Expected a 2D array, got 1D"):
        gmm.GaussianMixture(1).fit(frame["a"])
    with pytest.raises(ValueError, match="Expected a 2D array, got 1D"):
        gmm.GaussianMixture(1).fit(pl.from_pandas(frame)["a"])
    with pytest.raises(TypeError, match=r"call \.collect\(\)"):
        gmm.GaussianMixture(1).fit(pl.from_pandas(frame).lazy())
    with pytest.raises(ValueError, match="holds text"):
        gmm.GaussianMixture(1).fit(blobs.astype(str))


def test_labels_mark_unlabeled_rows_in_every_container(blobs):
    n = len(blobs)
    text = np.array(["-1"] * n, dtype=object)
    text[:20], text[600:620], text[1100:1120] = "p", "q", "r"
    expected = gmm.GaussianMixture(3, random_state=0).fit(blobs, text.astype(str))
    for y in (text, pd.Series(text), pd.Series(text, dtype="category"),
              np.where(text == "-1", None, text)):
        est = gmm.GaussianMixture(3, random_state=0).fit(blobs, y)
        assert list(est.classes_) == ["p", "q", "r"]
        np.testing.assert_array_equal(est.means_, expected.means_)
    codes = pd.Series(np.where(text == "-1", pd.NA, np.select(
        [text == "p", text == "q"], [0, 1], 2)), dtype="Int64")
    est = gmm.GaussianMixture(3, random_state=0).fit(blobs, codes)
    assert list(est.classes_) == [0, 1, 2]
    np.testing.assert_array_equal(est.means_, expected.means_)
    floats = codes.astype("float64").to_numpy(na_value=np.nan)
    np.testing.assert_array_equal(
        gmm.GaussianMixture(3, random_state=0).fit(blobs, floats).means_, expected.means_)
