"""Diagnostics on chains with known answers, and the logit transform."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo import mcmc


def _ar1(rng, n_chains, n, rho):
    x = np.empty((n_chains, n))
    x[:, 0] = rng.standard_normal(n_chains)
    noise = rng.standard_normal((n_chains, n)) * np.sqrt(1.0 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + noise[:, t]
    return x


def test_iid_chains_have_rhat_one_and_ess_n(rng):
    draws = rng.standard_normal((4, 2000, 3))
    r = mcmc.rhat(draws)
    e = mcmc.ess_bulk(draws)
    assert r.shape == (3,) and e.shape == (3,)
    np.testing.assert_array_less(r, 1.01)
    np.testing.assert_allclose(e, 8000, rtol=0.15)


def test_chains_with_different_means_have_large_rhat(rng):
    draws = rng.standard_normal((4, 1000, 2))
    draws[1, :, 0] += 1.0  # one chain elsewhere in the first parameter only
    r = mcmc.rhat(draws)
    assert r[0] > 1.05
    assert r[1] < 1.01


def test_ar1_ess_matches_theory(rng):
    rho, n_chains, n = 0.9, 4, 5000
    draws = _ar1(rng, n_chains, n, rho)[..., None]
    expected = n_chains * n * (1 - rho) / (1 + rho)  # 1,053
    e = float(mcmc.ess_bulk(draws)[0])
    assert abs(e - expected) < 0.25 * expected, (e, expected)
    assert e < 0.1 * n_chains * n


def test_leading_axes_are_mapped(rng):
    draws = rng.standard_normal((2, 4, 200, 3))
    assert mcmc.rhat(draws).shape == (2, 3)
    assert mcmc.ess_bulk(draws).shape == (2, 3)
    with pytest.raises(ValueError, match="draws"):
        mcmc.rhat(draws[:, :1])


def test_warnings_name_the_parameters(rng):
    r = np.array([[1.0, 1.2, 1.0]])
    e = np.array([[500.0, 50.0, 80.0]])
    with pytest.warns(RuntimeWarning) as record:
        messages = mcmc.convergence_warnings(r, e, ["a", "b", "c"], groups=["STA1"])
    text = str(record[0].message)
    assert "STA1" in text and "R-hat > 1.05 for b (1.200)" in text and "bulk ESS < 100 for b (50), c (80)" in text
    assert messages == [text]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mcmc.convergence_warnings(np.ones((1, 3)), np.full((1, 3), 400.0), ["a", "b", "c"]) == []


def test_summaries():
    values = np.arange(101.0).reshape(1, 101)
    s = mcmc.summarise(values, axis=1)
    np.testing.assert_allclose([s["mean"][0], s["p05"][0], s["p50"][0], s["p95"][0]], [50, 5, 50, 95])


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_transform_round_trip_and_jacobian(dtype):
    t = mcmc.prior_transform()
    x = jnp.linspace(-6.0, 6.0, 23, dtype=dtype)[None] * jnp.ones((2, 1), dtype)
    theta = t.to_bounded(x)
    assert theta.dtype == dtype and theta.shape == (2, 23)
    tol = 1e-4 if dtype == jnp.float32 else 1e-10
    np.testing.assert_allclose(t.to_unbounded(theta), x, atol=tol * 40)
    jac = jax.jacfwd(lambda v: t.to_bounded(v))(x[0])
    expected = jnp.sum(jnp.log(jnp.abs(jnp.diag(jac))))
    np.testing.assert_allclose(t.log_det_jacobian(x[0]), expected, rtol=10 * tol)
    far = t.log_det_jacobian(jnp.full((23,), 60.0, dtype))  # θ on the bound; the density stays finite
    assert jnp.isfinite(far) and far < -1000
    with pytest.raises(ValueError, match="index 1"):
        mcmc.BoxTransform(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
