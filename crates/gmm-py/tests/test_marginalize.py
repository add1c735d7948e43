"""missing="marginalize": rows that miss a value (NaN, or null in a data
frame) stay in the fit with the missing values integrated out (EM for
incomplete data), and every method gives every row a result, as
`gmm fit --missing marginalize` and `gmm predict --missing marginalize`
do. The numbers are those of the engine's NumPy-checked implementation:
here, the same fit as the command line's, and a direct computation of the
marginal densities."""

import json

import numpy as np
import pandas as pd
import pytest

import gmm_engine as gmm
from conftest import ROOT


@pytest.fixture
def holes():
    rng = np.random.default_rng(11)
    n = 900
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 3.0, 2.0]])
    x = centres[np.arange(n) % 3] + rng.normal(size=(n, 3)) @ np.array(
        [[1.0, 0.4, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.8]]
    )
    gaps = np.where(rng.random(x.shape) < 0.2, np.nan, x)
    return gaps


def fitted(**kw):
    return gmm.GaussianMixture(n_components=3, random_state=0, n_init=2, **kw)


def marginal(est, x):
    """ln p(x_o) and posteriors of each row from the fitted parameters,
    straight from the observed columns' means and covariances."""
    k, d = est.means_.shape
    c = est.covariances_
    covs = {
        "full": lambda: list(c),
        "tied": lambda: [c] * k,
        "diag": lambda: [np.diag(v) for v in c],
        "spherical": lambda: [v * np.eye(d) for v in c],
    }[est.covariance_type]()
    ln = np.empty(len(x))
    post = np.empty((len(x), k))
    for i, row in enumerate(x):
        o = ~np.isnan(row)
        lp = np.log(est.weights_).copy()
        for c in range(k):
            if o.any():
                s = covs[c][np.ix_(o, o)]
                r = row[o] - est.means_[c, o]
                _, logdet = np.linalg.slogdet(s)
                lp[c] += -0.5 * (r @ np.linalg.solve(s, r) + logdet + o.sum() * np.log(2 * np.pi))
        m = lp.max()
        ln[i] = m + np.log(np.exp(lp - m).sum())
        post[i] = np.exp(lp - ln[i])
    return ln, post


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
def test_every_row_is_fitted_and_scored_from_its_observed_values(holes, kind):
    est = fitted(missing="marginalize", covariance_type=kind).fit(holes)
    assert est.converged_
    assert np.all(np.diff(est.lower_bounds_) >= -1e-9 * np.abs(est.lower_bounds_[1:]))
    ln, post = marginal(est, holes)
    np.testing.assert_allclose(est.score_samples(holes), ln, rtol=1e-10)
    np.testing.assert_allclose(est.predict_proba(holes), post, atol=1e-10)
    assert est.predict(holes).shape == (len(holes),)
    assert est.score(holes) == pytest.approx(ln.mean(), rel=1e-12)
    n = len(holes)
    assert est.bic(holes) == pytest.approx(-2 * ln.sum() + est._n_parameters() * np.log(n), rel=1e-12)


def test_without_missing_values_it_is_the_plain_fit(holes):
    complete = np.nan_to_num(holes, nan=0.5)
    a = fitted(missing="marginalize").fit(complete)
    b = fitted().fit(complete)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)


def test_the_command_line_gives_the_same_model(holes, tmp_path, run_gmm):
    csv = tmp_path / "holes.csv"
    pd.DataFrame(holes, columns=["a", "b", "c"]).to_csv(csv, index=False, float_format="%.17g")
    run = tmp_path / "run"
    run_gmm("fit", "--input", csv, "-k", "3", "--seed", "0", "--n-init", "2",
            "--missing", "marginalize", "--no-plots", "--out", run)
    est = fitted(missing="marginalize").fit(pd.read_csv(csv))
    model = json.loads((run / "model.json").read_text())
    np.testing.assert_allclose(est.means_, np.array(model["means"]), rtol=1e-12)
    cli = gmm.read_model(run / "model.json").set_params(missing="marginalize")
    np.testing.assert_array_equal(cli.predict(pd.read_csv(csv)), est.predict(pd.read_csv(csv)))


def test_frames_with_nulls_are_integrated_like_nan(holes):
    frame = pd.DataFrame(holes, columns=["a", "b", "c"]).astype("Float64")  # NaN -> <NA>
    assert frame.isna().any().any()
    a = fitted(missing="marginalize").fit(frame)
    b = fitted(missing="marginalize").fit(holes)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_semi_supervised_and_weighted_rows_with_missing_values(holes):
    y = np.full(len(holes), -1)
    y[:60] = np.arange(60) % 3
    w = np.linspace(0.5, 1.5, len(holes))
    est = fitted(missing="marginalize", semi_supervised="em").fit(holes, y, sample_weight=w)
    assert list(est.predict(holes[:3])) == [0, 1, 2]


def test_a_column_with_no_value_is_refused(holes):
    x = holes.copy()
    x[:, 1] = np.nan
    with pytest.raises(ValueError, match="column 1 has no observed value"):
        fitted(missing="marginalize").fit(x)


def test_the_option_is_checked():
    with pytest.raises(ValueError, match="'missing' parameter must be one of"):
        fitted(missing="impute").fit(np.zeros((10, 2)))


def test_fit_parquet_integrates_out_as_the_estimator_does():
    # The shipped table with gaps, through the command's loader and
    # through pandas: every row is kept either way, so the same fit.
    csv = ROOT / "data" / "customers" / "with-gaps.csv"
    a = fitted(missing="marginalize").fit(pd.read_csv(csv)[["x1", "x2"]].to_numpy())
    b = gmm.fit_parquet(csv, ["x1", "x2"], n_components=3, random_state=0, n_init=2,
                        missing="marginalize")
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-13, atol=0)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-12, atol=0)
    assert b.missing == "marginalize"
    assert np.isfinite(b.predict_proba(pd.read_csv(csv)[["x1", "x2"]])).all()


def test_nullable_frames_read_through_numpy_have_nan_for_na(holes):
    # pandas without pyarrow: the frame goes through NumPy, <NA> as NaN.
    from gmm_engine import _input

    frame = pd.DataFrame(holes, columns=["a", "b", "c"]).astype("Float64")
    x = _input.array_rows(frame, missing="marginalize")
    np.testing.assert_array_equal(np.isnan(x), np.isnan(holes))
    with pytest.raises(ValueError, match="NaN"):
        _input.array_rows(frame)
