"""jit/vmap/grad behaviour, precision envelope and wrap-around control."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from receiver_models import crustal_model, random_model

from jaxgeo.receiver import frequency_count, receiver_function

TIMES = np.arange(-2.0, 25.0, 0.1)


def padded(models):
    """Stack models of different layer counts, padding with zero-thickness layers."""
    n = max(len(m[0]) for m in models)
    out = []
    for thickness, vp, vs, rho in models:
        k = n - len(thickness)
        insert = lambda a, value: np.concatenate([a[:-1], np.full(k, value), a[-1:]])
        out.append((insert(thickness, 0.0), insert(vp, vp[-2]), insert(vs, vs[-2]), insert(rho, rho[-2])))
    return tuple(np.stack(a) for a in zip(*out))


def test_vmap_over_models_slownesses_and_widths_matches_loop():
    models = [crustal_model(n) for n in ("sediment_crust", "basin", "lvz_crust")]
    batch = padded(models)
    slowness = np.array([0.04, 0.06, 0.075])
    gauss = np.array([1.0, 2.5, 4.0])
    n_freq = frequency_count(TIMES, *batch, slowness=slowness, gauss=gauss)
    fn = partial(receiver_function, n_freq=n_freq)
    batched = jax.jit(
        jax.vmap(lambda th, vp, vs, rho, p, a: fn(TIMES, th, vp, vs, rho, slowness=p, gauss=a))
    )(*batch, slowness, gauss)
    for i, model in enumerate(models):
        single = receiver_function(TIMES, *model, slowness=slowness[i], gauss=gauss[i])
        peak = np.abs(single).max()
        np.testing.assert_allclose(batched[i], single, rtol=0, atol=1e-5 * peak)  # different n_freq
        # same n_freq: jit/vmap and eager agree to rounding
        eager = receiver_function(TIMES, *model, slowness=slowness[i], gauss=gauss[i], n_freq=n_freq)
        np.testing.assert_allclose(batched[i], eager, rtol=0, atol=1e-12 * peak)


def test_traced_inputs_need_a_static_frequency_count():
    model = crustal_model("sediment_crust")
    with pytest.raises(ValueError, match="n_freq"):
        jax.jit(lambda vs: receiver_function(TIMES, model[0], model[1], vs, model[3], slowness=0.06, gauss=2.5))(
            model[2]
        )


def test_no_recompilation_on_second_call():
    model = crustal_model("sediment_crust")
    traces = []

    @jax.jit
    def rf(vs, p):
        traces.append(1)
        return receiver_function(TIMES, model[0], model[1], vs, model[3], slowness=p, gauss=2.5, n_freq=300)

    rf(model[2], 0.06).block_until_ready()
    rf(model[2] * 0.99, 0.07).block_until_ready()
    assert len(traces) == 1


def test_too_few_frequencies_under_jit_gives_nan():
    """The wrap-around guard: a period shorter than the model needs is flagged, not wrapped."""
    model = crustal_model("basin")
    n_freq = frequency_count(TIMES, *model, slowness=0.06, gauss=2.5)
    rf = jax.jit(lambda vs: receiver_function(TIMES, model[0], model[1], vs, model[3], slowness=0.06, gauss=2.5, n_freq=n_freq // 2))(
        model[2]
    )
    assert np.all(np.isnan(rf))


def test_supercritical_slowness_under_jit_gives_nan():
    model = crustal_model("sediment_crust")
    rf = jax.jit(lambda p: receiver_function(TIMES, *model, slowness=p, gauss=2.5, n_freq=400))(0.2)
    assert np.all(np.isnan(rf))


@pytest.mark.parametrize("name", ["basin", "sediment_crust"])
def test_default_sampling_has_no_wrap_around(name):
    """Against an 8× longer period: any leaked reverberation would show up as a difference."""
    model = crustal_model(name)
    times = np.arange(-5.0, 60.0, 0.05)
    n_freq = frequency_count(times, *model, slowness=0.06, gauss=2.5)
    rf = np.asarray(receiver_function(times, *model, slowness=0.06, gauss=2.5))
    long = np.asarray(receiver_function(times, *model, slowness=0.06, gauss=2.5, n_freq=8 * n_freq))
    peak = np.abs(long).max()
    assert np.abs(rf - long).max() < 1e-5 * peak


def test_short_windows_do_not_wait_for_the_multiples_and_do_not_leak():
    """0–12 s windows (the simulator's and the benchmark's): the period covers the
    primary conversions but not the multiples of deep, slow stacks, whose wrapped
    remainder the damping keeps below 2e-6 (float64) and 3e-5 (float32) of the peak."""
    from jaxgeo.receiver._synthesis import required_period

    rng = np.random.default_rng(12)
    models = [random_model(rng, 60) for _ in range(2)] + [crustal_model("basin")]
    times = np.arange(0.0, 12.05, 0.1)
    for model in models:
        thickness, vp, vs, _ = model
        eta_p, eta_s = np.sqrt(1 / vp[:-1] ** 2 - 0.06**2), np.sqrt(1 / vs[:-1] ** 2 - 0.06**2)
        multiples = float(np.sum(thickness[:-1] * (eta_p + eta_s)))
        assert float(required_period(0.0, 12.0, thickness, vp, vs, 0.06, 2.5, xp=np)) < 12.0 + 2.4 + multiples
        n_freq = frequency_count(times, *model, slowness=0.06, gauss=2.5)
        long = np.asarray(receiver_function(times, *model, slowness=0.06, gauss=2.5, n_freq=8 * n_freq))
        peak = np.abs(long).max()
        rf64 = np.asarray(receiver_function(times, *model, slowness=0.06, gauss=2.5))
        rf32 = receiver_function(times.astype(np.float32), *(a.astype(np.float32) for a in model), slowness=0.06, gauss=2.5)
        assert np.abs(rf64 - long).max() < 2e-6 * peak
        assert np.abs(np.asarray(rf32, dtype=float) - long).max() < 3e-5 * peak


def test_wrap_around_check_detects_a_short_period():
    """Negative control for the test above: without damping and with a period of half the
    requirement, the basin's ringing visibly wraps in, so that comparison can fail."""
    from jaxgeo.receiver._propagator import transfer_function

    model = crustal_model("basin")
    times = np.arange(-5.0, 60.0, 0.05)
    gauss = 2.5

    def undamped(period):
        step = 2 * np.pi / period
        omega = step * np.arange(int(8.6 * gauss / step) + 2)
        spectrum = np.asarray(transfer_function(omega + 0j, *model, 0.06)) * np.exp(-(omega**2) / (4 * gauss**2))
        weights = np.ones_like(omega)
        weights[0] = 0.5
        return (step / np.pi) * np.real(np.exp(1j * np.outer(times, omega)) @ (weights * spectrum))

    reference = np.asarray(receiver_function(times, *model, slowness=0.06, gauss=gauss))
    assert np.abs(undamped(70.0) - reference).max() > 1e-2 * np.abs(reference).max()
    assert np.abs(undamped(600.0) - reference).max() < 1e-4 * np.abs(reference).max()


def test_gradients_match_central_differences():
    thickness, vp, vs, rho = crustal_model("sediment_crust")
    times = np.arange(-1.0, 20.0, 0.1)
    weights = np.random.default_rng(0).normal(size=times.size)
    n_freq = 2 * frequency_count(times, thickness, vp, vs, rho, slowness=0.06, gauss=2.5)

    def loss(thickness, vp, vs, rho, p, a):
        rf = receiver_function(times, thickness, vp, vs, rho, slowness=p, gauss=a, n_freq=n_freq)
        return jnp.sum(weights * rf)

    args = [jnp.asarray(a) for a in (thickness, vp, vs, rho)] + [jnp.asarray(0.06), jnp.asarray(2.5)]
    grads = jax.jit(jax.grad(loss, argnums=tuple(range(6))))(*args)
    f = jax.jit(loss)
    eps = 1e-6
    for i, (arg, grad) in enumerate(zip(args, grads)):
        flat = np.atleast_1d(np.asarray(arg))
        indices = range(flat.size - 1) if i == 0 else range(flat.size)  # half-space thickness is ignored
        for j in indices:
            delta = np.zeros_like(flat)
            delta[j] = eps * max(abs(flat[j]), 1.0)
            shape = np.shape(arg)
            plus = [*args]
            minus = [*args]
            plus[i] = jnp.asarray((flat + delta).reshape(shape))
            minus[i] = jnp.asarray((flat - delta).reshape(shape))
            fd = (f(*plus) - f(*minus)) / (2 * delta[j])
            g = np.atleast_1d(np.asarray(grad))[j]
            np.testing.assert_allclose(g, fd, rtol=2e-5, atol=1e-6 * np.abs(fd) + 1e-8, err_msg=f"arg {i} index {j}")
    assert float(np.asarray(grads[0])[-1]) == 0.0  # half-space thickness does not enter


@pytest.mark.parametrize("n_layers", [4, 60])
def test_float32_within_1e_3_of_the_peak(n_layers):
    if n_layers == 4:
        model = crustal_model("basin")
    else:
        model = random_model(np.random.default_rng(n_layers), n_layers)
    times = np.arange(-2.0, 30.0, 0.1)
    n_freq = frequency_count(times, *model, slowness=0.07, gauss=2.5)
    rf64 = np.asarray(receiver_function(times, *model, slowness=0.07, gauss=2.5, n_freq=n_freq))
    rf32 = receiver_function(
        times.astype(np.float32), *(a.astype(np.float32) for a in model), slowness=0.07, gauss=2.5, n_freq=n_freq
    )
    assert rf32.dtype == jnp.float32 and rf64.dtype == np.float64
    assert np.abs(np.asarray(rf32, dtype=float) - rf64).max() <= 1e-3 * np.abs(rf64).max()
