"""The batched, padded likelihood equals each station's own Gaussian likelihood."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo import earth, mcmc


def _rf_station(rng, n, slowness, gauss, source):
    times = np.arange(n) / 10.0
    rf = 0.02 * rng.standard_normal(n)
    return earth.Observations(rf_times=times, rf=rf, rf_sigma=np.full(n, 0.02) * (1 + rng.random(n)),
                              slowness=slowness, gauss=gauss, source=source)


def _direct_loglik(observations, params):
    predicted = earth.observation_operator(observations, earth.SimulatorConfig(dtype="float64"))(params)
    total = 0.0
    for kind in observations.kinds:
        d, s = getattr(observations, kind), getattr(observations, f"{kind}_sigma")
        r = (np.asarray(predicted[kind]) - d) / s
        total += -0.5 * np.sum(r**2) - np.sum(np.log(s)) - 0.5 * d.size * np.log(2 * np.pi)
    return total


@pytest.mark.slow  # ~40 s of compilation
def test_padded_stations_keep_their_own_likelihood(rng):
    stations = [_rf_station(rng, 41, 0.05, 2.0, "a"), _rf_station(rng, 61, 0.07, 2.5, "b")]
    config = earth.SimulatorConfig(dtype="float64")
    batch = mcmc.StationBatch.from_observations(stations, config=config)
    assert batch.kinds == ("rf",) and batch.arrays["rf"].shape == (2, 61)
    assert batch.arrays["rf_weight"][0, 41:].sum() == 0.0
    params = earth.sample_prior(jax.random.key(2), 2, jnp.float64)
    loglik = mcmc.log_likelihood_fn(batch, config)
    arrays = batch.device_arrays(jnp.float64)
    values = jax.jit(jax.vmap(loglik))(params, arrays)
    for i, o in enumerate(stations):
        # the batch's static RF frequency count (valid for its longest, padded window) is larger
        # than a single station's: the RF synthesis then agrees to ~1e-7, not to rounding
        np.testing.assert_allclose(values[i], _direct_loglik(o, params[i]), rtol=1e-6)
    # the log-posterior adds the prior and the logit Jacobian
    transform = mcmc.prior_transform()
    x = transform.to_unbounded(params)
    logp = jax.vmap(mcmc.log_posterior_fn(batch, config))(x, arrays)
    expected = values + earth.log_prior(params) + transform.log_det_jacobian(x)
    np.testing.assert_allclose(logp, expected, rtol=1e-9)


def test_batch_validation(rng):
    station = _rf_station(rng, 21, 0.06, 2.5, "a")
    with pytest.raises(ValueError, match="kinds"):
        mcmc.StationBatch.from_observations(station, kinds=("love",))
    with pytest.raises(ValueError, match="a: no data"):
        mcmc.StationBatch.from_observations(station, kinds=("phase",))
    with pytest.raises(ValueError, match="at least one station"):
        mcmc.StationBatch.from_observations([])
    with pytest.raises(ValueError, match="sampler"):
        mcmc.sample(jax.random.key(0), station, sampler="hmc")
    with pytest.raises(ValueError, match="n_chains"):
        mcmc.sample(jax.random.key(0), station, n_chains=1)
    with pytest.raises(ValueError, match="thin"):
        mcmc.sample(jax.random.key(0), station, n_samples=10, thin=20)
