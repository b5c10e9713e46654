"""Implicit derivatives, sensitivity kernels and transformation behaviour (jit/vmap/grad)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from dispersion_models import MODELS, padded

from jaxgeo.dispersion import group_velocity, phase_velocity, sensitivity_kernels

PERIODS = np.array([3.0, 12.0, 40.0])
NAMES = ("thickness", "vp", "vs", "rho")


def _central_difference(fn, model, index, step):
    up = [a.copy() for a in model]
    down = [a.copy() for a in model]
    up[index] = up[index] * (1.0 + step)
    down[index] = down[index] * (1.0 - step)
    delta = model[index] * 2.0 * step
    return (np.asarray(fn(*up))[:, None] - np.asarray(fn(*down))[:, None]) / delta[None, :]


@pytest.mark.parametrize(
    "wave, velocity",
    [
        ("rayleigh", "phase"),
        # Love phase derivatives also enter the Love group test below.
        pytest.param("love", "phase", marks=pytest.mark.slow),
        ("love", "group"),
        # Second derivatives through the Rayleigh delta matrix compile slowly (~60 s here).
        pytest.param("rayleigh", "group", marks=pytest.mark.slow),
    ],
)
def test_directional_derivative_matches_central_difference(wave, velocity):
    """The implicit JVP along a random model direction equals a central difference."""
    model = [jnp.asarray(a) for a in padded(MODELS["low_velocity_zone"])]
    fn = phase_velocity if velocity == "phase" else group_velocity
    rng = np.random.default_rng(7)
    direction = [jnp.asarray(rng.normal(size=a.shape)) * a * (a > 0) for a in model]

    def along(step):
        return fn(PERIODS, *(a + step * d for a, d in zip(model, direction)), wave=wave, validate=False)

    _, derivative = jax.jvp(along, (0.0,), (1.0,))
    h = 1e-6
    reference = (along(h) - along(-h)) / (2 * h)
    np.testing.assert_allclose(derivative, reference, rtol=1e-5 if velocity == "phase" else 1e-4)


@pytest.mark.parametrize(
    "velocity, wave",
    [
        ("phase", "love"),
        pytest.param("phase", "rayleigh", marks=pytest.mark.slow),
        pytest.param("group", "rayleigh", marks=pytest.mark.slow),
    ],
)
def test_kernels_match_central_differences(velocity, wave):
    model = list(padded(MODELS["low_velocity_zone"]))
    fn = phase_velocity if velocity == "phase" else group_velocity
    kernels = sensitivity_kernels(PERIODS, *model, wave=wave, velocity=velocity)
    np.testing.assert_allclose(kernels["velocity"], fn(PERIODS, *model, wave=wave), rtol=1e-12)
    for index, name in enumerate(NAMES):
        if name == "vp" and wave == "love":
            np.testing.assert_array_equal(kernels["vp"], 0.0)
            continue
        # Column by column: a relative step on one layer at a time.
        reference = np.zeros((len(PERIODS), len(model[0])))
        for layer in range(len(model[0])):
            if model[index][layer] == 0.0:
                continue
            single = [a.copy() for a in model]

            def perturbed(value, layer=layer):
                values = single[index].copy()
                values[layer] = value
                args = list(single)
                args[index] = values
                return np.asarray(fn(PERIODS, *args, wave=wave))

            h = 1e-6 * model[index][layer]
            reference[:, layer] = (perturbed(model[index][layer] + h) - perturbed(model[index][layer] - h)) / (2 * h)
        scale = np.abs(reference).max()
        tolerance = 1e-5 if velocity == "phase" else 1e-4
        np.testing.assert_allclose(kernels[name], reference, atol=tolerance * scale, err_msg=name)


@pytest.mark.parametrize(
    "parameter, name",
    [("velocity_s", "vs"), ("velocity_p", "vp"), ("density", "rho"), ("thickness", "thickness")],
)
def test_phase_kernels_match_disba_finite_differences(parameter, name):
    disba = pytest.importorskip("disba")
    model = MODELS["crust_sediments"]
    # disba divides each layer's value by (1 + dp) and takes a one-sided difference:
    # its step error is O(dp) of the kernel (measured ~2.5 dp relative to the kernel's
    # maximum at dp = 0.01 and 0.025, shrinking linearly with dp), and its root
    # tolerance adds noise ~1e-6 c / (dp · value), which dominates below dp ≈ 3e-3.
    dp = 0.01
    sensitivity = disba.PhaseSensitivity(*model, algorithm="dunkin", dp=dp)
    ours = sensitivity_kernels(PERIODS, *model)
    for i, period in enumerate(PERIODS):
        reference = sensitivity(period, 0, "rayleigh", parameter).kernel
        scale = np.abs(reference).max()
        np.testing.assert_allclose(ours[name][i], reference, atol=8 * dp * scale, err_msg=f"T={period}")


# Rayleigh's gradient of an overtone compiles in ~45 s; Love waves take the same implicit
# derivative and NaN path in the default run.
@pytest.mark.parametrize("wave", [pytest.param("rayleigh", marks=pytest.mark.slow), "love"])
def test_gradient_of_masked_loss_is_finite(wave):
    model = padded(MODELS["two_layer"])
    periods = np.array([2.0, 5.0, 30.0])  # the first overtone is cut off near 11 s (Rayleigh), 6 s (Love)

    def loss(vs):
        c = phase_velocity(periods, model[0], model[1], vs, model[3], wave=wave, mode=1, validate=False)
        return jnp.sum(jnp.where(jnp.isnan(c), 0.0, c) ** 2)

    c = phase_velocity(periods, *model, wave=wave, mode=1)
    assert np.isnan(c[-1]) and np.all(np.isfinite(c[:-1]))
    gradient = jax.grad(loss)(jnp.asarray(model[2]))
    assert np.all(np.isfinite(gradient))


def test_jit_and_vmap_match_eager_calls():
    models = [padded(MODELS[name]) for name in sorted(MODELS)]
    stacked = [np.stack(parts) for parts in zip(*models)]

    @jax.jit
    def batched(thickness, vp, vs, rho):
        return jax.vmap(lambda *m: phase_velocity(PERIODS, *m, validate=False))(thickness, vp, vs, rho)

    together = np.asarray(batched(*stacked))
    one_by_one = np.stack([np.asarray(phase_velocity(PERIODS, *m)) for m in models])
    np.testing.assert_allclose(together, one_by_one, rtol=1e-13)


def test_no_recompilation_on_new_values():
    traces = []

    @jax.jit
    def velocities(vs):
        traces.append(1)  # runs only while tracing
        thickness, vp, _, rho = padded(MODELS["low_velocity_zone"])
        return phase_velocity(PERIODS, thickness, vp, vs, rho)

    vs = padded(MODELS["low_velocity_zone"])[2]
    first = velocities(jnp.asarray(vs))
    second = velocities(jnp.asarray(vs * 1.01))
    assert len(traces) == 1
    assert not np.allclose(first, second)


@pytest.mark.slow  # ~50 s on 2 cores; float32 accuracy stays in the default run (test_float32_within_envelope_of_float64)
def test_outputs_and_gradients_follow_float32():
    model = [a.astype(np.float32) for a in padded(MODELS["low_velocity_zone"])]
    periods = PERIODS.astype(np.float32)
    assert phase_velocity(periods, *model).dtype == np.float32
    assert group_velocity(periods, *model).dtype == np.float32
    gradient = jax.grad(lambda vs: phase_velocity(periods, model[0], model[1], vs, model[3]).sum())(
        jnp.asarray(model[2])
    )
    assert gradient.dtype == np.float32
