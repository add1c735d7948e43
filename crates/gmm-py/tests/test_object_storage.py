"""fit_parquet on tables in object storage, against the S3 server that
scripts/test_s3.sh starts (it sets AWS_* and GMM_TEST_S3_BUCKET and runs
this file after the Rust tests); skipped where no server is given. Tables
go up with pyarrow's own S3 client and must fit exactly as on disk."""

import os
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import fs

import gmm_engine

BUCKET = os.environ.get("GMM_TEST_S3_BUCKET")
pytestmark = pytest.mark.skipif(
    BUCKET is None, reason="needs the S3 server of scripts/test_s3.sh"
)


def _s3() -> fs.S3FileSystem:
    scheme, host = os.environ["AWS_ENDPOINT_URL"].split("://")
    return fs.S3FileSystem(
        endpoint_override=host,
        scheme=scheme,
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region="us-east-1",
    )


@pytest.fixture
def dataset(tmp_path):
    """A two-day partitioned dataset on disk and its copy in the bucket."""
    rng = np.random.default_rng(0)
    local = tmp_path / "sales"
    for day in ["2026-11-01", "2026-11-02"]:
        d = local / f"day={day}"
        d.mkdir(parents=True)
        n = 400
        x1 = np.where(np.arange(n) % 2 == 0, 0.0, 4.0) + rng.normal(size=n)
        pq.write_table(pa.table({"x1": x1, "x2": rng.normal(size=n)}), d / "part-0.parquet")
    prefix = f"{BUCKET}/py-{uuid.uuid4().hex}"
    fs.copy_files(str(local), f"{prefix}/sales", destination_filesystem=_s3())
    return local, f"s3://{prefix}/sales/"


def test_fit_parquet_reads_a_partitioned_dataset_in_a_bucket_as_on_disk(dataset):
    local, url = dataset
    kw = dict(n_components=2, random_state=0, filter="day = '2026-11-02'")
    a = gmm_engine.fit_parquet(local, ["x1", "x2"], **kw)
    b = gmm_engine.fit_parquet(url, ["x1", "x2"], **kw)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    assert a.lower_bound_ == b.lower_bound_
    assert list(b.feature_names_in_) == ["x1", "x2"]


def test_the_storage_dict_gives_the_endpoint(dataset, monkeypatch):
    local, url = dataset
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    kw = dict(n_components=2, random_state=0)
    a = gmm_engine.fit_parquet(local, ["x1", "x2"], **kw)
    b = gmm_engine.fit_parquet(url, ["x1", "x2"], storage={"endpoint": endpoint}, **kw)
    np.testing.assert_array_equal(a.means_, b.means_)
    with pytest.raises(ValueError, match="endpoint, region, anonymous and profile"):
        gmm_engine.fit_parquet(url, storage={"endpiont": endpoint}, n_components=2)


def test_a_missing_object_and_wrong_keys_are_clear_errors(dataset, monkeypatch):
    _, url = dataset
    with pytest.raises(FileNotFoundError, match="no such object"):
        gmm_engine.fit_parquet(url + "nothere.parquet", n_components=2)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(ValueError, match="access denied"):
        gmm_engine.fit_parquet(url, n_components=2)


def test_read_model_reads_a_model_file_in_a_bucket(dataset, tmp_path):
    local, url = dataset
    est = gmm_engine.fit_parquet(local, ["x1", "x2"], n_components=2, random_state=0)
    path = tmp_path / "model.json"
    est.save(path)
    key = url[len("s3://"):] + "model.json"
    fs.copy_files(str(path), key, destination_filesystem=_s3())
    back = gmm_engine.read_model("s3://" + key)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    again = gmm_engine.read_model("s3://" + key, storage={"endpoint": endpoint})
    np.testing.assert_array_equal(again.means_, est.means_)
    np.testing.assert_array_equal(back.means_, est.means_)
    assert list(back.feature_names_in_) == ["x1", "x2"]
    np.testing.assert_array_equal(back.covariances_, est.covariances_)
