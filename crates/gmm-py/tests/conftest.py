"""Shared fixtures: the repository's data and the `gmm` command built from
the same sources (scripts/test_python.sh builds it first)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def gmm_bin() -> Path:
    path = Path(os.environ.get("GMM_BIN", ROOT / "target" / "release" / "gmm"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build --release` (or set GMM_BIN)")
    return path


@pytest.fixture(scope="session")
def run_gmm(gmm_bin):
    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(gmm_bin), *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    return run


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path) as f:
        header = f.readline().strip().split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


@pytest.fixture(scope="session")
def customers():
    """The customers example: unlabeled rows, then the labeled survey."""
    _, unlabeled = read_csv(ROOT / "data" / "customers" / "unlabeled.csv")
    _, labeled = read_csv(ROOT / "data" / "customers" / "labeled.csv")
    return unlabeled, labeled[:, :2], labeled[:, 2].astype(int)


@pytest.fixture(scope="session")
def blobs():
    """Three separated 3-D blobs of 1500 rows, unevenly spread."""
    rng = np.random.default_rng(7)
    centers = np.array([[0.0, 0.0, 0.0], [6.0, 1.0, -2.0], [-3.0, 7.0, 4.0]])
    scales = np.array([[1.0, 0.5, 2.0], [0.7, 1.5, 0.4], [1.2, 1.0, 0.8]])
    return np.vstack([c + s * rng.standard_normal((500, 3)) for c, s in zip(centers, scales)])


def model_numbers(text: str) -> dict:
    """The parameters and figures of a model file, without provenance."""
    m = json.loads(text)
    return {k: m[k] for k in (
        "covariance_type", "weights", "means", "covariances", "precisions_cholesky",
        "mean_log_likelihood", "n_iter", "converged", "bic", "aic", "n_rows", "n_parameters",
        "reg_covar", "classes")
        if k in m}
