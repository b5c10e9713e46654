"""Both samplers against closed-form posteriors, and on a small dispersion inversion."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo import mcmc
from jaxgeo.dispersion import phase_velocity

# --------------------------------------------------------------------------- linear Gaussian
A = np.array([[1.0, 0.5, 0.0], [0.2, 1.0, -0.4], [0.0, 0.3, 1.0], [0.7, -0.2, 0.1], [0.1, 0.1, 0.1]])
SIGMA, TAU = 0.5, 2.0


def _linear_gaussian(rng, n_groups):
    truth = rng.normal(size=(n_groups, 3))
    y = truth @ A.T + SIGMA * rng.normal(size=(n_groups, A.shape[0]))
    precision = A.T @ A / SIGMA**2 + np.eye(3) / TAU**2
    covariance = np.linalg.inv(precision)
    mean = y @ A @ covariance / SIGMA**2  # (G, 3); covariance is symmetric
    return y, mean, covariance


def _linear_logdensity(x, y):
    a = jnp.asarray(A)
    r = y - a @ x
    return -0.5 * jnp.sum(r * r) / SIGMA**2 - 0.5 * jnp.sum(x * x) / TAU**2


@pytest.mark.parametrize("name, n_warmup, n_samples", [("rwm", 1000, 4000), ("nuts", 200, 600)])
def test_linear_gaussian_posterior_moments(rng, name, n_warmup, n_samples):
    y, mean, covariance = _linear_gaussian(rng, n_groups=2)
    build = mcmc.rwm if name == "rwm" else mcmc.nuts
    sampler = build(_linear_logdensity, n_warmup=n_warmup)
    x0 = jnp.asarray(rng.normal(size=(2, 4, 3)) * 3.0)
    run = mcmc.run_chains(jax.random.key(3), sampler, x0, jnp.asarray(y), n_samples=n_samples, progress=False)
    draws = run.positions
    assert draws.shape == (2, 4, n_samples, 3)
    ess = mcmc.ess_bulk(draws)
    assert np.all(mcmc.rhat(draws) < 1.02)
    assert np.all(ess > 300)
    sd = np.sqrt(np.diag(covariance))
    estimate = draws.mean(axis=(1, 2))
    np.testing.assert_array_less(np.abs(estimate - mean), 4.5 * sd / np.sqrt(ess))
    variance = draws.reshape(2, -1, 3).var(axis=1, ddof=1)
    np.testing.assert_array_less(np.abs(variance / sd**2 - 1.0), 4.5 * np.sqrt(2.0 / ess))
    acceptance = run.acceptance_rate.mean()
    assert (0.12 < acceptance < 0.4) if name == "rwm" else (0.6 < acceptance < 0.97)
    assert run.divergent.sum() == 0
    # the frozen proposal/metric covariance estimates the posterior covariance
    np.testing.assert_allclose(run.covariance[0], covariance, atol=0.6 * sd.max() ** 2)  # a short last window
    # ε and Σ after the run are those frozen at the end of warmup and used by every sampling step
    np.testing.assert_allclose(np.exp(np.asarray(run.state.adaptation.log_step_size_avg)), run.step_size)
    assert run.n_steps == n_warmup + n_samples and np.all(np.asarray(run.state.step) == n_warmup + n_samples)


def test_sampler_options_are_validated():
    with pytest.raises(ValueError, match="n_warmup"):
        mcmc.rwm(_linear_logdensity, n_warmup=-1)
    with pytest.raises(ValueError, match="target_acceptance"):
        mcmc.nuts(_linear_logdensity, n_warmup=10, target_acceptance=1.5)
    with pytest.raises(ValueError, match="max_tree_depth"):
        mcmc.nuts(_linear_logdensity, n_warmup=10, max_tree_depth=0)
    sampler = mcmc.rwm(_linear_logdensity, n_warmup=10)
    with pytest.raises(ValueError, match="n_samples"):
        mcmc.run_chains(jax.random.key(0), sampler, jnp.zeros((1, 2, 3)), jnp.zeros((1, 5)), n_samples=1)
    with pytest.raises(ValueError, match="positions"):
        mcmc.run_chains(jax.random.key(0), sampler, jnp.zeros((2, 3)), None, n_samples=10)


# --------------------------------------------------------------------------- 2-parameter dispersion
PERIODS = np.array([5.0, 15.0, 30.0, 60.0])
LOWER, UPPER = np.array([20.0, 3.0]), np.array([50.0, 4.0])  # crustal thickness (km), crustal Vs (km/s)
TRUTH = np.array([35.0, 3.5])
NOISE = 0.02  # km/s


def _phase(params):
    thickness, vs = params[0], params[1]
    dtype = params.dtype
    model = (
        jnp.stack([thickness, jnp.zeros((), dtype)]),
        jnp.stack([1.75 * vs, jnp.asarray(8.0, dtype)]),
        jnp.stack([vs, jnp.asarray(4.5, dtype)]),
        jnp.asarray([2.8, 3.3], dtype),
    )
    return phase_velocity(jnp.asarray(PERIODS, dtype), *model, validate=False, n_grid=48)


def _two_parameter_problem(rng):
    data = np.asarray(_phase(jnp.asarray(TRUTH))) + NOISE * rng.normal(size=PERIODS.size)
    transform = mcmc.BoxTransform(LOWER, UPPER)

    def logdensity(x, d):
        theta = transform.to_bounded(x)
        r = (_phase(theta) - d) / NOISE
        value = -0.5 * jnp.sum(r * r) + transform.log_det_jacobian(x)
        return jnp.where(jnp.isfinite(value), value, -jnp.inf)

    return transform, jnp.asarray(data)[None], logdensity


def _check_converged_and_covers(transform, run):
    theta = np.asarray(transform.to_bounded(jnp.asarray(run.positions)))
    assert np.all(mcmc.rhat(theta) < 1.05), mcmc.rhat(theta)
    lo, hi = np.percentile(theta[0].reshape(-1, 2), [0.5, 99.5], axis=0)
    assert np.all((lo < TRUTH) & (TRUTH < hi)), (lo, hi)
    sd = theta[0].reshape(-1, 2).std(axis=0)
    assert sd[0] < 5.0 and sd[1] < 0.1  # the data constrain both


@pytest.mark.slow  # ~45 s; the samplers' statistics are tested on the linear-Gaussian posterior
def test_two_parameter_dispersion_rwm(rng):
    transform, data, logdensity = _two_parameter_problem(rng)
    x0 = jnp.asarray(rng.normal(size=(1, 4, 2)))
    run = mcmc.run_chains(jax.random.key(5), mcmc.rwm(logdensity, n_warmup=300), x0, data, n_samples=900,
                          chunk=300, progress=False)
    _check_converged_and_covers(transform, run)


@pytest.mark.slow
def test_two_parameter_dispersion_nuts(rng):
    transform, data, logdensity = _two_parameter_problem(rng)
    x0 = jnp.asarray(rng.normal(size=(1, 4, 2)))
    run = mcmc.run_chains(jax.random.key(6), mcmc.nuts(logdensity, n_warmup=150), x0, data, n_samples=300,
                          chunk=150, progress=False)
    _check_converged_and_covers(transform, run)
    assert run.divergent.sum() == 0
