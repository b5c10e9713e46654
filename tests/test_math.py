"""jaxgeo._math: the vectorised cos/sin, log and arctan match NumPy to rounding, with exact
derivatives."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import math

from jaxgeo._math import arctan_unit, complex_exp, cos_sin, log_positive


@pytest.mark.parametrize(
    "dtype, limit, tolerance",
    [(np.float64, 1e7, 2.0), (np.float32, 2e4, 1.0)],
)
def test_cos_sin_within_an_ulp_of_numpy(rng, dtype, limit, tolerance):
    eps = np.finfo(dtype).eps
    quadrant_edges = np.pi / 4 * np.arange(-16, 17)
    x = np.concatenate(
        [
            rng.uniform(-4.0, 4.0, 200_000),
            rng.uniform(-limit, limit, 200_000),
            quadrant_edges,
            np.nextafter(quadrant_edges, np.inf),
            [0.0, -0.0, 1e-30, -1e-30, 1.0],
        ]
    ).astype(dtype)
    cos_x, sin_x = jax.jit(cos_sin)(jnp.asarray(x))
    assert cos_x.dtype == sin_x.dtype == dtype
    reference = x.astype(np.float64)
    # absolute error in units of the type's epsilon (|cos|, |sin| <= 1)
    np.testing.assert_array_less(np.abs(np.asarray(cos_x, np.float64) - np.cos(reference)) / eps, tolerance)
    np.testing.assert_array_less(np.abs(np.asarray(sin_x, np.float64) - np.sin(reference)) / eps, tolerance)
    # identities hold to rounding too
    np.testing.assert_allclose(np.asarray(cos_x) ** 2 + np.asarray(sin_x) ** 2, 1.0, atol=4 * eps)


def test_cos_sin_propagates_nan_and_rejects_integers():
    c, s = cos_sin(jnp.array([np.nan, 0.5]))
    assert np.isnan(c[0]) and np.isnan(s[0]) and np.isfinite(c[1])
    with pytest.raises(TypeError, match="float32 and float64"):
        cos_sin(jnp.arange(3))


def test_derivatives_are_minus_sin_and_cos():
    x = jnp.linspace(-7.0, 7.0, 41)
    dc = jax.vmap(jax.grad(lambda v: cos_sin(v)[0]))(x)
    ds = jax.vmap(jax.grad(lambda v: cos_sin(v)[1]))(x)
    np.testing.assert_allclose(dc, -np.sin(np.asarray(x)), atol=1e-15)
    np.testing.assert_allclose(ds, np.cos(np.asarray(x)), atol=1e-15)


@pytest.mark.parametrize("dtype, rtol", [(np.complex128, 1e-15), (np.complex64, 3e-7)])
def test_complex_exp_matches_numpy(rng, dtype, rtol):
    z = (rng.normal(0.0, 2.0, 5000) + 1j * rng.uniform(-300.0, 300.0, 5000)).astype(dtype)
    got = np.asarray(jax.jit(complex_exp)(jnp.asarray(z)))
    assert got.dtype == dtype
    reference = np.exp(z.astype(np.complex128))
    np.testing.assert_array_less(np.abs(got - reference) / np.abs(reference), rtol)


@pytest.mark.parametrize("dtype, exponent, tolerance", [(np.float64, 300, 2.5), (np.float32, 35, 2.5)])
def test_log_positive_within_two_ulps_of_numpy(rng, dtype, exponent, tolerance):
    eps = np.finfo(dtype).eps
    powers = 2.0 ** np.arange(-60, 61)
    edges = np.concatenate([powers, powers * math.sqrt(2.0)])
    x = np.concatenate(
        [
            10.0 ** rng.uniform(-exponent, exponent, 200_000),
            rng.uniform(0.5, 2.0, 200_000),
            1.0 + rng.normal(size=50_000) * 1e-6,
            edges,
            np.nextafter(edges.astype(dtype), np.inf).astype(np.float64),
            np.nextafter(edges.astype(dtype), -np.inf).astype(np.float64),
        ]
    ).astype(dtype)
    x = x[x != 1]
    got = jax.jit(log_positive)(jnp.asarray(x))
    assert got.dtype == dtype
    reference = np.log(x.astype(np.float64))
    error = np.abs(np.asarray(got, np.float64) - reference) / np.abs(reference)
    assert error.max() / eps < tolerance
    assert np.asarray(log_positive(jnp.asarray([1.0], dtype)))[0] == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_arctan_unit_within_two_ulps_of_numpy(rng, dtype):
    eps = np.finfo(dtype).eps
    bounds = np.tan((2 * np.arange(1, 5) - 1) * np.pi / 32)
    t = np.concatenate(
        [
            rng.uniform(-1.0, 1.0, 400_000),
            rng.normal(size=10_000) * 1e-12,
            bounds, -bounds, np.nextafter(bounds.astype(dtype), np.inf).astype(np.float64),
            [1.0, -1.0, 1e-300 if dtype == np.float64 else 1e-30],
        ]
    ).astype(dtype)
    got = jax.jit(arctan_unit)(jnp.asarray(t))
    assert got.dtype == dtype
    reference = np.arctan(t.astype(np.float64))
    error = np.abs(np.asarray(got, np.float64) - reference) / np.abs(reference)
    assert error.max() / eps < 2.0
    assert np.asarray(arctan_unit(jnp.asarray([0.0, -0.0], dtype))).tolist() == [0.0, 0.0]


def test_log_and_arctan_derivatives_are_exact(rng):
    x = jnp.asarray(rng.uniform(0.1, 10.0, 100))
    t = jnp.asarray(rng.uniform(-1.0, 1.0, 100))
    np.testing.assert_allclose(jax.vmap(jax.grad(log_positive))(x), 1.0 / x, rtol=1e-15)
    np.testing.assert_allclose(jax.vmap(jax.grad(arctan_unit))(t), 1.0 / (1.0 + t * t), rtol=1e-15)
    with pytest.raises(TypeError, match="float32 and float64"):
        log_positive(jnp.arange(3))
    with pytest.raises(TypeError, match="float32 and float64"):
        arctan_unit(jnp.arange(3))
