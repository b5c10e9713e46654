"""Per-point accuracy against harmonica (near) and 50-digit arithmetic (everywhere)."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from exact import exact_field
from jaxgeo.gravity import FIELD_NAMES, PrismMesh, prism_gravity

harmonica = pytest.importorskip("harmonica")

PRISM = np.array([-100.0, 200.0, -50.0, 150.0, -300.0, -100.0])
DENSITY = 500.0


def _special_points(prism):
    """Vertices, edges, faces, interior, exterior planes through the bounds."""
    w, e, s, n, b, t = prism
    xs = [w - 150, w, 0.5 * (w + e), 0.3 * w + 0.7 * e, e, e + 77]
    ys = [s - 80, s, 0.5 * (s + n), n, n + 33]
    zs = [b - 90, b, 0.5 * (b + t), t, t + 1, t + 200]
    grid = np.meshgrid(xs, ys, zs, indexing="ij")
    return tuple(g.ravel().astype(float) for g in grid)


def _directions(rng, n):
    d = rng.normal(size=(n, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _field_scale(field, prism, distance):
    """Magnitude of the field of PRISM at a distance, to judge fields that vanish by symmetry."""
    volume = np.prod(prism[1::2] - prism[::2])
    g = 6.6743e-11 * DENSITY * volume
    if field == "potential":
        return g / distance
    if field in ("g_e", "g_n", "g_z"):
        return g / distance**2 * 1e5
    return g / distance**3 * 1e9


@pytest.mark.parametrize("field", FIELD_NAMES)
def test_near_matches_harmonica_and_exact_at_special_points(field):
    coords = _special_points(PRISM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = harmonica.prism_gravity(coords, PRISM, [DENSITY], field=field)
    ours = np.asarray(prism_gravity(coords, PRISM[None], np.array([DENSITY]), field=field))
    exact = np.array([exact_field(p, PRISM, DENSITY, field) for p in zip(*coords)])
    # NaN exactly where harmonica's field is undefined.
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_array_equal(np.isnan(exact), np.isnan(ref))
    ok = ~np.isnan(ref)
    scale = np.abs(exact[ok]).max()
    np.testing.assert_allclose(ours[ok], exact[ok], rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-9, atol=1e-12 * scale)


def _one_prism(points, prism, field, dtype=np.float64):
    coords = tuple(np.asarray(points[:, i], dtype=dtype) for i in range(3))
    return prism_gravity(coords, np.asarray(prism, dtype)[None], np.array([DENSITY], dtype=dtype), field=field)


@pytest.mark.parametrize("field", FIELD_NAMES)
def test_float64_exact_at_all_distances(field, rng):
    """Within 1e-9 of the exact value from the prism out to 1e6 m; harmonica for contrast."""
    prisms = [PRISM, np.array([0.0, 100.0, 0.0, 100.0, -100.0, 0.0]) + np.array([4e5, 4e5, 6e6, 6e6, 0, 0])]
    worst_ours, worst_harmonica = 0.0, 0.0
    for prism in prisms:
        centre = 0.5 * (prism[::2] + prism[1::2])
        size = np.linalg.norm(prism[1::2] - prism[::2])
        points = np.array(
            [centre + k * size * d for k in (0.6, 1.5, 4, 12, 30, 100, 1000, 1e4) for d in _directions(rng, 3)]
        )
        exact = np.array([exact_field(p, prism, DENSITY, field) for p in points])
        ours = np.asarray(_one_prism(points, prism, field))
        ref = harmonica.prism_gravity(tuple(points.T), prism, [DENSITY], field=field)
        scale = np.maximum(np.abs(exact), 1e-3 * _field_scale(field, prism, np.linalg.norm(points - centre, axis=1)))
        worst_ours = max(worst_ours, np.max(np.abs(ours - exact) / scale))
        worst_harmonica = max(worst_harmonica, np.max(np.abs(ref - exact) / scale))
    assert worst_ours < 1e-9, (worst_ours, worst_harmonica)
    # Far away harmonica's float64 8-vertex sum cancels; ours must do better.
    assert worst_ours < worst_harmonica


@pytest.mark.parametrize("field", FIELD_NAMES)
@pytest.mark.parametrize("offset", [0.0, 5.3e6])
def test_float32_envelope(field, offset, rng):
    """float32 within 1e-4 of the exact value from 0 to 1,000 prism sizes, also at UTM offsets.

    The reference is the exact field of the geometry as float32 represents it (at 5e6 m
    a float32 coordinate is quantised to 0.5 m; nothing can recover what the input lost).
    Errors are relative to the exact value, floored at 10% of the field's magnitude
    GρV/R^k at that distance: a component that crosses zero (g_e in the symmetry plane)
    has no meaningful relative error there.
    """
    base = np.array([-100.0, 200.0, -50.0, 150.0, -300.0, -100.0])
    prism32 = (base + np.array([offset, offset, 2 * offset, 2 * offset, 0.0, 0.0])).astype(np.float32)
    prism = prism32.astype(np.float64)
    centre = 0.5 * (prism[::2] + prism[1::2])
    size = np.linalg.norm(prism[1::2] - prism[::2])
    distances = (0.0, 0.3, 0.7, 1.2, 2, 3.5, 7, 15, 40, 120, 400, 1000)
    points32 = np.array([centre + k * size * d for k in distances for d in _directions(rng, 12)]).astype(np.float32)
    points = points32.astype(np.float64)
    exact = np.array([exact_field(p, prism, DENSITY, field) for p in points])
    value = _one_prism(points32, prism32, field, dtype=np.float32)
    assert value.dtype == jnp.float32
    defined = ~np.isnan(exact)
    r = np.maximum(np.linalg.norm(points - centre, axis=1), 0.5 * size)
    scale = np.maximum(np.abs(exact), 0.1 * _field_scale(field, prism, r))
    error = np.abs(np.asarray(value, np.float64) - exact) / scale
    assert np.max(error[defined]) <= 1e-4, np.max(error[defined])


@pytest.mark.slow  # ~45 s (12 compilations); block sizes and the jacobian check the mesh path by default
def test_mesh_path_equals_generic_path(rng):
    mesh = PrismMesh(
        np.linspace(-1000.0, 1000.0, 11),
        np.array([-900.0, -500.0, -200.0, 0.0, 100.0, 400.0, 1000.0]),
        np.linspace(-1200.0, 0.0, 5),
    )
    density = rng.normal(size=mesh.shape) * 200
    e, n = np.meshgrid(np.linspace(-3000, 3000, 9), np.linspace(-2500, 2500, 8))
    coords = (e, n, np.full_like(e, 20.0))
    for field in ("potential", "g_n", "g_zz", "g_ez"):
        generic = prism_gravity(coords, mesh.prisms(), density.ravel(), field=field)
        for block in [(8, 8, 8), (3, 2, 4)]:
            meshed = prism_gravity(coords, mesh, density, field=field, cell_block=block, point_block=5)
            scale = np.abs(generic).max()
            np.testing.assert_allclose(meshed, generic, rtol=1e-12, atol=1e-13 * scale)
        flat = prism_gravity(coords, mesh, density.ravel(), field=field)
        np.testing.assert_allclose(flat, generic, rtol=1e-12, atol=1e-13 * np.abs(generic).max())
