"""The mesh path, the sensitivity matrix, and bounded memory."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.gravity import PrismMesh, prism_gravity, prism_gravity_jacobian


@pytest.fixture
def mesh():
    return PrismMesh(np.linspace(-800.0, 800.0, 6), np.linspace(-600.0, 600.0, 5), np.array([-900.0, -500.0, -250.0, 0.0]))


@pytest.fixture
def survey():
    e, n = np.meshgrid(np.linspace(-2000, 2000, 7), np.linspace(-1500, 1500, 6))
    return e, n, np.full_like(e, 25.0)


def test_mesh_helpers(mesh):
    assert mesh.shape == (5, 4, 3)
    assert mesh.size == 60
    prisms = np.asarray(mesh.prisms())
    assert prisms.shape == (60, 6)
    # C order: the last (upward) index runs fastest.
    np.testing.assert_array_equal(prisms[0], [-800.0, -480.0, -600.0, -300.0, -900.0, -500.0])
    np.testing.assert_array_equal(prisms[1], [-800.0, -480.0, -600.0, -300.0, -500.0, -250.0])
    centres = mesh.centers()
    np.testing.assert_allclose(centres[0][:, 0, 0], [-640.0, -320.0, 0.0, 320.0, 640.0])
    regular = PrismMesh.regular((-800.0, 800.0, -600.0, 600.0), (5, 4, 3), -900.0, 0.0)
    assert regular.shape == (5, 4, 3)


@pytest.mark.parametrize("field", ["g_z", "g_zz", "potential"])
def test_jacobian_times_density_equals_forward(field, mesh, survey, rng):
    density = rng.normal(size=mesh.shape) * 100
    forward = np.asarray(prism_gravity(survey, mesh, density, field=field)).ravel()
    for prisms in (mesh, mesh.prisms()):
        jac = np.asarray(prism_gravity_jacobian(survey, prisms, field=field, point_block=5, prism_block=7, cell_block=(2, 3, 2)))
        assert jac.shape == (survey[0].size, mesh.size)
        np.testing.assert_allclose(jac @ density.ravel(), forward, rtol=1e-11, atol=1e-12 * np.abs(forward).max())


def test_jacobian_units_are_per_unit_density(survey):
    prism = np.array([[-100.0, 100.0, -100.0, 100.0, -300.0, -100.0]])
    jac = prism_gravity_jacobian(survey, prism)
    np.testing.assert_allclose(np.asarray(jac)[:, 0] * 250.0, np.asarray(prism_gravity(survey, prism, np.array([250.0]))).ravel(), rtol=1e-13)


@pytest.mark.parametrize("blocks", [(1, 1), (7, 3), (64, 512), (1000, 1000)])
def test_block_sizes_do_not_change_results(blocks, mesh, survey, rng):
    density = rng.normal(size=mesh.size) * 100
    reference = prism_gravity(survey, mesh.prisms(), density)
    value = prism_gravity(survey, mesh.prisms(), density, point_block=blocks[0], prism_block=blocks[1])
    np.testing.assert_allclose(value, reference, rtol=1e-13, atol=1e-14)


def _temp_bytes(fun, *shapes):
    compiled = jax.jit(fun).lower(*shapes).compile()
    stats = compiled.memory_analysis()
    if stats is None:
        pytest.skip("this backend reports no memory analysis")
    return stats.temp_size_in_bytes


def test_memory_is_bounded_by_the_block_not_the_problem():
    """1e4 points × 1e5 prisms would need 8 GB as a full matrix; the forward needs a few MB."""
    n_points, n_prisms = 10_000, 100_000
    coords = tuple(jax.ShapeDtypeStruct((n_points,), jnp.float64) for _ in range(3))
    prisms = jax.ShapeDtypeStruct((n_prisms, 6), jnp.float64)
    density = jax.ShapeDtypeStruct((n_prisms,), jnp.float64)
    temp = _temp_bytes(lambda c, p, d: prism_gravity(c, p, d), coords, prisms, density)
    assert temp < 200e6, temp
    grad_temp = _temp_bytes(jax.grad(lambda d, c, p: jnp.sum(prism_gravity(c, p, d))), density, coords, prisms)
    assert grad_temp < 200e6, grad_temp
    mesh = PrismMesh(*(jax.ShapeDtypeStruct((n + 1,), jnp.float64) for n in (100, 100, 10)))
    mesh_density = jax.ShapeDtypeStruct((100, 100, 10), jnp.float64)
    temp = _temp_bytes(lambda c, m, d: prism_gravity(c, m, d), coords, mesh, mesh_density)
    assert temp < 200e6, temp


def _points_at_ratio(centre, offset, ratios, rng):
    directions = rng.normal(size=(12, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    pts = np.concatenate([centre + directions * (r + offset) for r in ratios])
    return tuple(pts[:, i] for i in range(3))


@pytest.mark.slow  # ~25 s
def test_box_vertex_sum_keeps_float64_accuracy_between_40_and_80_half_diagonals(rng):
    """A whole 8³ box and a whole 20³ box (the float64 default) summed by their vertices
    (cells up to 80 half-diagonals away in float64) stay within 1e-9 of the generic
    path, which switches to Gauss-Legendre per cell at 40; a single-cell mesh keeps the
    switch at 40 (identical values)."""
    h = np.sqrt(3) * 50.0  # half-diagonal of a 100 m cell
    for n, block in ((8, (8, 8, 8)), (20, None)):
        box = PrismMesh.regular((0.0, 100.0 * n, 0.0, 100.0 * n), (n, n, n), -100.0 * n, 0.0)
        density = rng.normal(300.0, 100.0, size=box.shape)
        centre = np.array([50.0 * n, 50.0 * n, -50.0 * n])
        # the nearest cells at ~20-75 half-diagonals: boxes summed whole and per cell
        coords = _points_at_ratio(centre, n * h, h * np.array([20.0, 40.0, 60.0, 75.0]), rng)
        for field in ("g_z", "potential"):
            generic = np.asarray(prism_gravity(coords, box.prisms(), density.ravel(), field=field))
            meshed = np.asarray(prism_gravity(coords, box, density, field=field, cell_block=block))
            np.testing.assert_allclose(meshed, generic, rtol=1e-9)
    cell = PrismMesh.regular((0.0, 100.0, 0.0, 100.0), (1, 1, 1), -100.0, 0.0)
    for ratios, rtol in (([30.0, 38.0], 1e-9), ([45.0, 60.0, 80.0], 1e-14)):  # beyond 40: the same far field
        coords = _points_at_ratio(np.array([50.0, 50.0, -50.0]), 0.0, h * np.array(ratios), rng)
        generic = np.asarray(prism_gravity(coords, cell.prisms(), np.array([250.0])))
        meshed = np.asarray(prism_gravity(coords, cell, np.full((1, 1, 1), 250.0)))
        np.testing.assert_allclose(meshed, generic, rtol=rtol)
