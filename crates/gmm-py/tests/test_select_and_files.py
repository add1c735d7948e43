"""`select` over a grid, `fit_parquet` on files (in memory and out of
core), progress, and Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gmm_engine as gmm


def test_select_returns_the_table_in_the_input_kind_and_the_winner(blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    table, best = gmm.select(frame, components=range(1, 5), covariance_types=["full", "diag"],
                             random_state=0)
    assert isinstance(table, pd.DataFrame) and len(table) == 8
    i = table["bic"].idxmin()
    assert (best.covariance_type, best.n_components) == (
        table["covariance_type"][i], table["n_components"][i])
    assert best.n_components == 3
    assert list(best.feature_names_in_) == ["a", "b", "c"]
    # The table's BIC is the fit's, as bic(X) computes it.
    assert table["bic"][i] == pytest.approx(best.bic(frame), rel=1e-12)
    one = gmm.GaussianMixture(3, covariance_type=best.covariance_type, random_state=0).fit(frame)
    np.testing.assert_array_equal(one.means_, best.means_)
    polars_table, _ = gmm.select(pl.from_pandas(frame), components=[2, 3],
                                 covariance_types=["tied"], criterion="aic", random_state=0)
    assert isinstance(polars_table, pl.DataFrame)
    arrays, _ = gmm.select(blobs, components=[2], covariance_types=["spherical"])
    assert isinstance(arrays, dict) and arrays["n_components"].tolist() == [2]
    with pytest.raises(ValueError, match="criterion"):
        gmm.select(blobs, criterion="loglik")
    one_type, _ = gmm.select(blobs, components=3, covariance_types="diag")
    assert one_type["covariance_type"].tolist() == ["diag"]
    # "all": mclust's fourteen families, in its order, by gmm's names.
    every, best = gmm.select(blobs, components=3, covariance_types="all", n_init=1)
    assert every["covariance_type"].tolist() == [
        "EII", "spherical", "EEI", "VEI", "EVI", "diag", "tied", "VEE", "EVE", "VVE", "EEV",
        "VEV", "EVV", "full"]
    assert np.isfinite(every["bic"]).all()
    assert best._model.covariance_type == best.covariance_type
    y = np.full(len(blobs), -1)
    y[:3], y[600:603] = 0, 1
    with pytest.warns(UserWarning, match=r"cells of fewer components are skipped \(\[1\]\)"):
        labeled, _ = gmm.select(blobs, components=[1, 2, 3], covariance_types=["full"], y=y)
    assert labeled["n_components"].tolist() == [2, 3]


def test_fit_parquet_equals_fit_in_memory_and_out_of_core(tmp_path, blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    frame["w"] = np.linspace(0.5, 1.5, len(frame))
    frame["id"] = np.arange(len(frame))
    data = tmp_path / "data"
    data.mkdir()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for part in range(3):  # a dataset of three files
        pq.write_table(table.slice(part * 500, 500), data / f"part-{part}.parquet",
                       row_group_size=128)
    params = dict(n_components=3, n_init=2, random_state=4)
    ref = gmm.GaussianMixture(**params).fit(frame[["a", "b", "c"]], sample_weight=frame["w"])
    est = gmm.fit_parquet(data, columns=["a", "b", "c"], weight_column="w", **params)
    np.testing.assert_array_equal(est.means_, ref.means_)
    np.testing.assert_array_equal(est.covariances_, ref.covariances_)
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    # A budget below the rows' size: read through the memory-mapped cache.
    cached = gmm.fit_parquet(str(data / "*.parquet"), columns=["a", "b", "c"], weight_column="w",
                             max_memory="16KiB", cache_dir=tmp_path / "cache", **params)
    np.testing.assert_array_equal(cached.means_, ref.means_)
    assert any(p.suffix == ".gmmcache" for p in (tmp_path / "cache").iterdir())
    # precision="f32": the rows rounded to float32, as the float32 array
    # of the same values fits, in memory and through an f32 cache.
    narrow = gmm.fit_parquet(data, columns=["a", "b", "c"], weight_column="w", precision="f32",
                             **params)
    ref32 = gmm.GaussianMixture(**params).fit(
        frame[["a", "b", "c"]].to_numpy().astype(np.float32), sample_weight=frame["w"])
    np.testing.assert_array_equal(narrow.means_, ref32.means_)
    assert not np.array_equal(narrow.means_, ref.means_)
    np.testing.assert_allclose(narrow.means_, ref.means_, rtol=1e-6)
    cached32 = gmm.fit_parquet(data, columns=["a", "b", "c"], weight_column="w", precision="f32",
                               max_memory="16KiB", cache_dir=tmp_path / "cache", **params)
    np.testing.assert_array_equal(cached32.means_, ref32.means_)
    assert sum(p.suffix == ".gmmcache" for p in (tmp_path / "cache").iterdir()) == 2
    for bad in ("f16", np.float16, None):
        with pytest.raises(ValueError, match="precision"):
            gmm.fit_parquet(data, columns=["a", "b", "c"], precision=bad)
    same = gmm.fit_parquet(data, columns=["a", "b", "c"], weight_column="w", precision=np.float32,
                           **params)
    np.testing.assert_array_equal(same.means_, narrow.means_)
    with pytest.raises(FileNotFoundError, match="nothing.parquet"):
        gmm.fit_parquet(tmp_path / "nothing.parquet")
    with pytest.raises(ValueError, match="column `zz`"):
        gmm.fit_parquet(data, columns=["zz"])


def test_fit_parquet_with_a_label_column_is_semi_supervised(tmp_path, customers):
    unlabeled, lx, ly = customers
    X = np.vstack([unlabeled, lx])
    y = np.concatenate([np.full(len(unlabeled), -1), ly])
    labels = pa.array([None if v == -1 else int(v) for v in y], type=pa.int64())
    pq.write_table(pa.table({"x1": X[:, 0], "x2": X[:, 1], "y": labels}), tmp_path / "c.parquet")
    est = gmm.fit_parquet(tmp_path / "c.parquet", label_column="y", n_components=2, n_init=5,
                          random_state=0, init_params="labeled")
    ref = gmm.GaussianMixture(2, n_init=5, random_state=0, init_params="labeled").fit(X, y)
    np.testing.assert_array_equal(est.means_, ref.means_)
    assert list(est.classes_) == [0, 1]
    # semi_supervised=None: the label column is read (so it is no feature)
    # and its labels dropped.
    ignored = gmm.fit_parquet(tmp_path / "c.parquet", label_column="y", n_components=2,
                              random_state=0, semi_supervised=None)
    plain = gmm.GaussianMixture(2, random_state=0).fit(X)
    assert list(ignored.feature_names_in_) == ["x1", "x2"]
    np.testing.assert_array_equal(ignored.means_, plain.means_)
    assert not hasattr(ignored, "classes_")
    # The default ('auto') uses the labels with the estimator's weight.
    light = dict(n_components=2, n_init=5, random_state=0, init_params="labeled",
                 unlabeled_weight=0.25)
    est = gmm.fit_parquet(tmp_path / "c.parquet", label_column="y", **light)
    ref = gmm.GaussianMixture(**light).fit(X, y)
    np.testing.assert_array_equal(est.means_, ref.means_)
    assert json.loads(est.to_json())["semi_supervised"]["unlabeled_weight"] == 0.25
    with pytest.raises(ValueError, match="does not take means_init"):
        gmm.fit_parquet(tmp_path / "c.parquet", n_components=2, means_init=ref.means_)


def test_fit_parquet_leaves_out_missing_rows_and_filters_partitions(tmp_path, blobs):
    frame = pd.DataFrame(blobs, columns=["a", "b", "c"])
    gaps = frame.copy()
    gaps.loc[::7, "b"] = np.nan  # pandas' missing float
    gaps.to_csv(tmp_path / "gaps.csv", index=False)
    with pytest.raises(ValueError, match="missing=\"drop\"|--missing drop"):
        gmm.fit_parquet(tmp_path / "gaps.csv", n_components=1)
    # One component: the fit is the mean and covariance of the rows, so
    # leaving rows out must give the complete rows' exactly (to rounding).
    dropped = gmm.fit_parquet(tmp_path / "gaps.csv", n_components=1, missing="drop")
    complete = gmm.GaussianMixture(1).fit(frame.drop(index=frame.index[::7]).to_numpy())
    np.testing.assert_allclose(dropped.means_, complete.means_, rtol=1e-12)
    np.testing.assert_allclose(dropped.covariances_, complete.covariances_, rtol=1e-10)
    n_left = len(frame) - len(frame.index[::7])
    assert json.loads(dropped.to_json())["n_rows"] == n_left
    assert "total_weight" not in json.loads(dropped.to_json())
    with pytest.raises(ValueError, match="'missing' parameter must be one of"):
        gmm.fit_parquet(tmp_path / "gaps.csv", n_components=1, missing="skip")
    # A partitioned dataset: only the files the filter keeps.
    for day in ("2026-10-31", "2026-11-01"):
        (tmp_path / "ds" / f"day={day}").mkdir(parents=True)
        part = frame.iloc[:750] if day < "2026-11" else frame.iloc[750:]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False),
                       tmp_path / "ds" / f"day={day}" / "p.parquet")
    later = gmm.fit_parquet(tmp_path / "ds", n_components=1, filter="day >= '2026-11-01'")
    np.testing.assert_allclose(later.means_, frame.iloc[750:].mean().to_numpy()[None], rtol=1e-12)
    assert list(later.feature_names_in_) == ["a", "b", "c"]
    positive = gmm.fit_parquet(tmp_path / "ds", n_components=1, filter="a > 0")
    np.testing.assert_allclose(positive.means_, frame[frame.a > 0].mean().to_numpy()[None],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="no column `zz`"):
        gmm.fit_parquet(tmp_path / "ds", n_components=1, filter="zz > 0")
    with pytest.raises(ValueError, match="filter"):
        gmm.fit_parquet(tmp_path / "ds", n_components=1, filter="day >")


def test_verbose_prints_progress_to_stderr(capsys, blobs):
    gmm.GaussianMixture(3, n_init=2, random_state=0, verbose=2, verbose_interval=1).fit(blobs)
    err = capsys.readouterr().err
    assert "restart 1: started (kmeans" in err and "restart 2: started" in err
    assert "restart 1 iteration 1: mean log-likelihood" in err
    assert "converged after" in err


CHILD = textwrap.dedent("""
    import sys, time, threading, os
    import numpy as np
    import gmm_engine as gmm
    x = np.random.default_rng(0).standard_normal((2_000_000, 8))
    est = gmm.GaussianMixture(16, n_init=4, max_iter=100000, tol=0.0, random_state=0)
    tasks = lambda: len(os.listdir("/proc/self/task"))
    before = tasks()
    print("fitting", flush=True)
    try:
        est.fit(x)
        print("not interrupted", flush=True)
    except KeyboardInterrupt:
        caught = time.time()
        time.sleep(0.5)
        print(f"interrupted {caught!r} {before} {tasks()}", flush=True)
        est2 = gmm.GaussianMixture(2, random_state=0).fit(x[:1000])
        print("fits again", est2.converged_, flush=True)
""")


def test_ctrl_c_stops_a_fit_within_a_second(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "fitting"
    time.sleep(1.5)  # into the fit (initialization or EM)
    sent = time.time()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    lines = out.split("\n")
    assert lines[0].startswith("interrupted"), out
    _, caught, before, after = lines[0].split()
    assert float(caught) - sent < 1.0, float(caught) - sent
    assert int(after) <= int(before), "threads of the interrupted fit are left"
    assert lines[1] == "fits again True"
    assert child.returncode == 0
