"""Physical invariants: symmetry, Laplace, slab limit, superposition, sign."""

import math

import numpy as np
import pytest

from jaxgeo.gravity import prism_gravity

PRISM = np.array([[-500.0, 500.0, -500.0, 500.0, -800.0, -200.0]])
DENSITY = np.array([300.0])


def _grid(height=50.0, n=9, half=1500.0):
    e, n_ = np.meshgrid(np.linspace(-half, half, n), np.linspace(-half, half, n), indexing="ij")
    return e, n_, np.full_like(e, height)


def test_symmetry_of_a_centred_prism():
    e, n, u = _grid()
    gz = np.asarray(prism_gravity((e, n, u), PRISM, DENSITY, field="g_z"))
    np.testing.assert_allclose(gz, gz[::-1, :], rtol=1e-12)
    np.testing.assert_allclose(gz, gz[:, ::-1], rtol=1e-12)
    np.testing.assert_allclose(gz, gz.T, rtol=1e-12)
    ge = np.asarray(prism_gravity((e, n, u), PRISM, DENSITY, field="g_e"))
    np.testing.assert_allclose(ge, -ge[::-1, :], rtol=1e-12, atol=1e-12 * np.abs(ge).max())
    gn = np.asarray(prism_gravity((e, n, u), PRISM, DENSITY, field="g_n"))
    np.testing.assert_allclose(gn, ge.T, rtol=1e-12, atol=1e-12 * np.abs(ge).max())
    assert (gz > 0).all()


@pytest.mark.parametrize("height", [-900.0, -350.0, 30.0, 5000.0, 2e5])
def test_laplace_off_the_source(height):
    """Outside the prism the trace vanishes; at height -350 the grid crosses the prism,
    where the trace is -4πGρ (Poisson), so both are checked."""
    e, n, u = _grid(height=height)
    tensor = [np.asarray(prism_gravity((e, n, u), PRISM, DENSITY, field=f)) for f in ("g_ee", "g_nn", "g_zz")]
    scale = max(np.abs(t).max() for t in tensor)
    p = PRISM[0]
    inside = (p[0] < e) & (e < p[1]) & (p[2] < n) & (n < p[3]) & (p[4] < u) & (u < p[5])
    expected = np.where(inside, -4 * math.pi * 6.6743e-11 * DENSITY[0] * 1e9, 0.0)
    np.testing.assert_allclose(sum(tensor), expected, atol=1e-9 * scale)


def test_poisson_inside_the_source():
    """Inside the prism the trace of the tensor is -4πGρ (in Eötvös)."""
    point = (np.array([10.0]), np.array([-20.0]), np.array([-450.0]))
    trace = sum(float(prism_gravity(point, PRISM, DENSITY, field=f)[0]) for f in ("g_ee", "g_nn", "g_zz"))
    assert trace == pytest.approx(-4 * math.pi * 6.6743e-11 * DENSITY[0] * 1e9, rel=1e-10)


def test_infinite_slab_limit():
    """A wide thin prism tends to the Bouguer slab 2πGρh at its centre."""
    thickness, half_width = 100.0, 1e6
    prism = np.array([[-half_width, half_width, -half_width, half_width, -thickness, 0.0]])
    gz = float(prism_gravity((np.array([0.0]), np.array([0.0]), np.array([1.0])), prism, DENSITY, field="g_z")[0])
    slab = 2 * math.pi * 6.6743e-11 * DENSITY[0] * thickness * 1e5
    assert gz == pytest.approx(slab, rel=2e-4)  # finite-width correction ~ h/half_width


@pytest.mark.parametrize("field", ["potential", "g_z", "g_e", "g_zz", "g_nz"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_superposition_two_halves_equal_one(field, axis):
    e, n, u = _grid(height=120.0, n=7, half=2000.0)
    whole = np.asarray(prism_gravity((e, n, u), PRISM, DENSITY, field=field))
    lo, hi = PRISM[0, 2 * axis], PRISM[0, 2 * axis + 1]
    cut = lo + 0.37 * (hi - lo)
    a, b = PRISM.copy(), PRISM.copy()
    a[0, 2 * axis + 1] = cut
    b[0, 2 * axis] = cut
    halves = np.asarray(prism_gravity((e, n, u), np.concatenate([a, b]), np.concatenate([DENSITY, DENSITY]), field=field))
    np.testing.assert_allclose(halves, whole, rtol=1e-10, atol=1e-12 * np.abs(whole).max())


@pytest.mark.parametrize("field", ["potential", "g_z", "g_n", "g_ee", "g_ez"])
def test_sign_follows_density(field):
    e, n, u = _grid()
    pos = np.asarray(prism_gravity((e, n, u), PRISM, DENSITY, field=field))
    neg = np.asarray(prism_gravity((e, n, u), PRISM, -DENSITY, field=field))
    np.testing.assert_array_equal(neg, -pos)


def test_point_mass_limit_far_away():
    """At 1e7 m a prism is a point mass: g_z = G M / r² to ~(size/r)²."""
    r = 1e7
    gz = float(prism_gravity((np.array([0.0]), np.array([0.0]), np.array([r])), PRISM, DENSITY, field="g_z")[0])
    mass = DENSITY[0] * 1000 * 1000 * 600
    centre_depth = 500.0
    assert gz == pytest.approx(6.6743e-11 * mass / (r + centre_depth) ** 2 * 1e5, rel=1e-9)


def test_zero_volume_and_zero_density_prisms_are_ignored():
    """As in harmonica: they contribute nothing, even for points on their edges."""
    flat = np.array([[0.0, 100.0, 0.0, 100.0, -50.0, -50.0]])
    point = (np.array([0.0]), np.array([0.0]), np.array([-50.0]))
    both = np.concatenate([PRISM, flat, PRISM + 5000.0])
    dens = np.array([300.0, 1000.0, 0.0])
    value = prism_gravity(point, both, dens, field="g_zz")
    alone = prism_gravity(point, PRISM, DENSITY, field="g_zz")
    np.testing.assert_allclose(value, alone, rtol=1e-14)
