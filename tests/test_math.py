"""jaxgeo._math: the vectorised cos/sin match NumPy to rounding, with exact derivatives."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo._math import complex_exp, cos_sin


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
