"""The estimator's parameters in the engine's terms and back: seeds,
precisions from their Cholesky factors, a start's covariances, a model
file's classes."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _native


def model_classes(model: "_native.Model") -> Optional[np.ndarray]:
    """A model file's classes (text there) as the labels they were: whole
    numbers when all read as such."""
    if model.classes is None:
        return None
    names = model.classes
    try:
        numbers = [int(c) for c in names]
    except ValueError:
        return np.asarray(names)
    # "007" stays text: only labels written as whole numbers were numbers.
    return np.asarray(numbers) if [str(v) for v in numbers] == names else np.asarray(names)


def seed(random_state: Any) -> int:
    """The engine's 64-bit seed: the int itself, or drawn from NumPy's
    generator (the global one for None), as scikit-learn draws."""
    if random_state is None:
        return int(np.random.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int64).max))
    raise ValueError(f"{random_state!r} cannot be used to seed a GaussianMixture")


# How each of mclust's fourteen families is held: the scikit-learn type
# whose arrays it uses (its shapes in ``covariances_`` and the factors).
STORAGE = {
    "full": "full", "diag": "diag", "spherical": "spherical", "tied": "tied",
    "VVV": "full", "VVI": "diag", "VII": "spherical", "EEE": "tied",
    "EII": "spherical", "EEI": "diag", "VEI": "diag", "EVI": "diag",
    "VEE": "full", "EVE": "full", "VVE": "full", "EEV": "full", "VEV": "full", "EVV": "full",
}

# mclust's fourteen, in its order, by the names gmm writes.
MCLUST_FAMILIES = ["EII", "spherical", "EEI", "VEI", "EVI", "diag", "tied",
                   "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "full"]

# The name gmm writes for each: scikit-learn's where it has one.
CANONICAL = {name: name for name in STORAGE}
CANONICAL.update({"VVV": "full", "VVI": "diag", "VII": "spherical", "EEE": "tied"})


def precisions(prec_chol: np.ndarray, kind: str) -> np.ndarray:
    """scikit-learn's ``precisions_`` from ``precisions_cholesky_``."""
    kind = STORAGE.get(kind, kind)
    if kind == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if kind == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def covariances(x: np.ndarray, resp: np.ndarray, means: np.ndarray, kind: str, reg: float) -> np.ndarray:
    """Covariances of each component's rows around the given means
    (scikit-learn's M-step estimates)."""
    nk = resp.sum(0) + 10 * np.finfo(float).eps
    d = x.shape[1]
    kind = STORAGE.get(kind, kind)
    if kind in ("full", "tied"):
        out = np.empty((len(nk), d, d))
        for k in range(len(nk)):
            diff = x - means[k]
            out[k] = (resp[:, k] * diff.T) @ diff / nk[k]
        if kind == "tied":
            return (nk[:, None, None] * out).sum(0) / nk.sum() + reg * np.eye(d)
        return out + reg * np.eye(d)
    avg_sq = resp.T @ (x * x) / nk[:, None]
    diag = avg_sq - 2 * means * (resp.T @ x) / nk[:, None] + means**2 + reg
    return np.ascontiguousarray(diag if kind == "diag" else diag.mean(1))
