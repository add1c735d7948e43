"""The package works without scikit-learn: its own base class, errors and
warnings stand in (run in a child process where `import sklearn` fails)."""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import sys
    sys.modules["sklearn"] = None  # `import sklearn` now raises ImportError
    import warnings
    import numpy as np
    import gmm_engine as gmm
    from gmm_engine import _base
    assert not _base.HAVE_SKLEARN
    x = np.random.default_rng(0).standard_normal((300, 2))
    x[:150] += 4
    est = gmm.GaussianMixture(2, random_state=0)
    assert "GaussianMixture(n_components=2, random_state=0)" == repr(est), repr(est)
    est.set_params(n_init=2)
    assert est.get_params()["n_init"] == 2
    try:
        est.predict(x)
    except _base.NotFittedError as e:
        assert isinstance(e, ValueError) and isinstance(e, AttributeError)
    else:
        raise AssertionError("predict before fit")
    est.fit(x)
    assert est.converged_ and sorted(np.round(est.means_[:, 0])) == [0.0, 4.0], est.means_
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gmm.GaussianMixture(2, max_iter=1, tol=0.0, random_state=0).fit(x)
    assert any(issubclass(w.category, _base.ConvergenceWarning) for w in caught)
    try:
        est.to_sklearn()
    except ImportError:
        pass
    else:
        raise AssertionError("to_sklearn without scikit-learn")
    print("ok")
""")


def test_the_package_works_without_scikit_learn():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
