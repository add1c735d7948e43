"""gmm-engine: Gaussian mixture models fitted by EM on large tables.

``GaussianMixture`` is scikit-learn's estimator of that name on the gmm
engine (Rust, parallel, bit-identical for any thread count); ``select``
fits a grid of models and picks one by BIC; ``fit_parquet`` fits tables on
disk without loading them into Python; ``read_model`` reads the model files
that the ``gmm`` command and :meth:`GaussianMixture.save` write.

    >>> import gmm_engine as gmm
    >>> est = gmm.GaussianMixture(n_components=2, random_state=0).fit(X)
"""

from ._native import Model, __version__
from ._estimator import GaussianMixture, read_model
from ._select import fit_parquet, select

__all__ = ["GaussianMixture", "Model", "fit_parquet", "read_model", "select", "__version__"]
