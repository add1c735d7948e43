"""Type stubs of the extension module (Rust, PyO3)."""

from os import PathLike
from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

# Rows: C-contiguous float64, or float32 (read as the float64 it equals).
Rows = Union[npt.NDArray[np.float64], npt.NDArray[np.float32]]

class Model:
    """A fitted mixture with its model file (columns, classes, figures)."""

    @staticmethod
    def from_json(text: str) -> Model: ...
    @staticmethod
    def read(path: Union[str, PathLike[str]]) -> Model: ...
    @staticmethod
    def from_parameters(
        weights: npt.NDArray[np.float64],
        means: npt.NDArray[np.float64],
        covariance_type: str,
        values: npt.NDArray[np.float64],
        columns: Sequence[str],
        *,
        cholesky: bool = True,
    ) -> Model: ...
    def to_json(self) -> str: ...
    def save(self, path: Union[str, PathLike[str]]) -> None: ...
    @property
    def weights(self) -> npt.NDArray[np.float64]: ...
    @property
    def means(self) -> npt.NDArray[np.float64]: ...
    @property
    def covariances(self) -> npt.NDArray[np.float64]: ...
    @property
    def precisions_cholesky(self) -> npt.NDArray[np.float64]: ...
    @property
    def covariance_type(self) -> str: ...
    @property
    def n_components(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    @property
    def n_parameters(self) -> int: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def column_types(self) -> Optional[list[str]]: ...
    @property
    def classes(self) -> Optional[list[str]]: ...
    @property
    def n_iter(self) -> int: ...
    @property
    def converged(self) -> bool: ...
    @property
    def mean_log_likelihood(self) -> float: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def reg_covar(self) -> float: ...
    @property
    def semi_supervised(self) -> Optional[tuple[str, float, int]]: ...
    def predict(
        self, x: Rows, n_threads: Optional[int] = None, missing: bool = False
    ) -> npt.NDArray[np.uint32]: ...
    def predict_proba(
        self, x: Rows, n_threads: Optional[int] = None, missing: bool = False
    ) -> npt.NDArray[np.float64]: ...
    def score_samples(
        self, x: Rows, n_threads: Optional[int] = None, missing: bool = False
    ) -> npt.NDArray[np.float64]: ...
    def score(
        self,
        x: Rows,
        weights: Optional[npt.NDArray[np.float64]] = None,
        n_threads: Optional[int] = None,
        missing: bool = False,
    ) -> float: ...
    def sample(
        self, n: int, seed: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32]]: ...

def fit(
    x: Rows,
    params_json: str,
    *,
    weights: Optional[npt.NDArray[np.float64]] = None,
    labels: Optional[npt.NDArray[np.uint32]] = None,
    classes: Optional[Sequence[str]] = None,
    init_model: Optional[Model] = None,
    init_lower_bound: Optional[float] = None,
    columns: Optional[Sequence[str]] = None,
    column_types: Optional[Sequence[str]] = None,
    n_threads: Optional[int] = None,
    verbose: int = 0,
    verbose_interval: int = 10,
    missing: bool = False,
    noise_init: Optional[npt.NDArray[np.uint8]] = None,
) -> tuple[Model, str]: ...
def fit_files(
    input: str,
    params_json: str,
    *,
    columns: Optional[Sequence[str]] = None,
    label_column: Optional[str] = None,
    weight_column: Optional[str] = None,
    noise_init_column: Optional[str] = None,
    labeled: Optional[str] = None,
    max_memory: Optional[int] = None,
    cache_dir: Optional[str] = None,
    precision: str = "f64",
    init_model: Optional[Model] = None,
    init_lower_bound: Optional[float] = None,
    n_threads: Optional[int] = None,
    verbose: int = 0,
    verbose_interval: int = 10,
) -> tuple[Model, str]: ...
def arrow_table(
    table: Any, columns: Optional[Sequence[str]] = None, name: str = "X"
) -> tuple[Rows, list[str], list[str], list[tuple[str, str, str]]]: ...
