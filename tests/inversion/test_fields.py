"""Neural density fields: encodings and the bounded MLP are pure functions of key and inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.inversion import DensityField, FieldConfig, fourier_features, fourier_matrix, positional_encoding


def test_fourier_features_values(rng):
    x = jnp.asarray(rng.normal(size=(5, 3)))
    B = fourier_matrix(jax.random.key(1), 4, 2.0, dtype=jnp.float64)
    assert B.shape == (4, 3)
    out = fourier_features(x, B)
    angles = 2 * np.pi * np.asarray(x) @ np.asarray(B).T
    np.testing.assert_allclose(out, np.concatenate([np.cos(angles), np.sin(angles)], axis=1), rtol=1e-12)


def test_fourier_matrix_scale_is_sigma():
    B = fourier_matrix(jax.random.key(0), 20000, 3.0, dtype=jnp.float64)
    assert abs(float(jnp.std(B)) - 3.0) < 0.05


def test_positional_encoding_values():
    x = jnp.asarray([[0.25, -0.5, 1.0]])
    out = np.asarray(positional_encoding(x, 2))
    expected = [0.25, -0.5, 1.0]
    for f in (np.pi, 2 * np.pi):
        expected += list(np.sin(f * np.array([0.25, -0.5, 1.0])))
    for f in (np.pi, 2 * np.pi):
        expected += list(np.cos(f * np.array([0.25, -0.5, 1.0])))
    # layout: [x, sin(all octaves × axes), cos(all octaves × axes)]
    np.testing.assert_allclose(out[0], expected, atol=1e-12)


@pytest.mark.parametrize("encoding", ["fourier", "positional", "none"])
def test_field_is_pure_and_bounded(encoding, rng):
    config = FieldConfig(encoding=encoding, hidden=16, depth=2, bounds=(-50.0, 300.0))
    model = DensityField(config)
    x = jnp.asarray(rng.normal(size=(64, 3)))
    v1 = model.init(jax.random.key(3), x)
    v2 = model.init(jax.random.key(3), x)
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(lambda a, b: bool(jnp.array_equal(a, b)), v1, v2))
    np.testing.assert_array_equal(model.apply(v1, x), model.apply(v2, x))
    v3 = model.init(jax.random.key(4), x)
    assert not np.array_equal(model.apply(v1, x), model.apply(v3, x))
    # initial field: close to 0 (inside the bounds), far from the tanh tails
    rho = np.asarray(model.apply(v1, x))
    np.testing.assert_allclose(rho, 0.0, atol=0.02 * 350.0)
    # outputs stay within the asymmetric bounds for any parameters
    big = jax.tree_util.tree_map(lambda a: 100.0 * a, v1)
    rho = np.asarray(model.apply(big, x))
    assert rho.min() >= -50.0 and rho.max() <= 300.0
    if encoding == "fourier":
        # the Fourier matrix is a variable, saved with the model, but not trained
        assert v1["encoding"]["matrix"].shape == (config.n_features, 3)
        assert "matrix" not in str(jax.tree_util.tree_structure(v1["params"]))


def test_field_jit_compiles_once(rng):
    config = FieldConfig(hidden=8, depth=1)
    model = DensityField(config)
    x = jnp.asarray(rng.normal(size=(10, 3)))
    variables = model.init(jax.random.key(0), x)
    traces = []

    @jax.jit
    def f(variables, x):
        traces.append(1)
        return model.apply(variables, x)

    f(variables, x)
    f(jax.tree_util.tree_map(lambda a: a + 1, variables), x + 1)
    assert len(traces) == 1


def test_field_config_validation():
    with pytest.raises(ValueError, match="encoding"):
        FieldConfig(encoding="hash")
    with pytest.raises(ValueError, match="bounds"):
        FieldConfig(bounds=(10.0, -10.0))
    with pytest.raises(ValueError, match="hidden"):
        FieldConfig(hidden=0)


def test_fixed_input_matmul_has_the_plain_gradients(rng):
    from jaxgeo.inversion._fields import fixed_input_matmul

    h = jnp.asarray(rng.normal(size=(7, 5)))
    kernel = jnp.asarray(rng.normal(size=(5, 3)))
    weights = jnp.asarray(rng.normal(size=(7, 3)))

    def plain(h, kernel):
        return jnp.sum(jnp.tanh(h @ kernel) * weights)

    def fixed(h, kernel):
        return jnp.sum(jnp.tanh(fixed_input_matmul(h, h.T, kernel)) * weights)

    np.testing.assert_allclose(fixed(h, kernel), plain(h, kernel), rtol=1e-14)
    for argnum in (0, 1):
        np.testing.assert_allclose(jax.grad(fixed, argnum)(h, kernel), jax.grad(plain, argnum)(h, kernel), rtol=1e-12, atol=1e-14)


def test_decode_with_transposed_encoding_is_the_same_field(rng):
    model = DensityField(FieldConfig(bounds=(0.0, 600.0)), jnp.float64)
    x = jnp.asarray(rng.normal(size=(11, 3)))
    variables = model.init(jax.random.key(0), x)
    h = model.apply(variables, x, method="encode")
    gain = jnp.asarray(rng.uniform(0.5, 2.0, size=11))
    np.testing.assert_allclose(model.apply(variables, h, gain, h.T, method="decode"), model.apply(variables, x, gain), rtol=1e-13)
