"""Transformations: grad vs finite differences, finite gradients, jit/vmap, recompilation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.gravity import FIELD_NAMES, PrismMesh, prism_gravity, prism_gravity_jacobian

PRISMS = np.array([[-300.0, 200.0, -250.0, 300.0, -700.0, -150.0], [250.0, 600.0, -100.0, 400.0, -400.0, -50.0]])
DENSITY = np.array([350.0, -200.0])
POINTS = (np.array([-120.0, 40.0, 900.0, 260.0]), np.array([30.0, -500.0, 80.0, 120.0]), np.array([15.0, 60.0, -30.0, -100.0]))


def _central_difference(fun, x, step):
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        dx = np.zeros_like(x)
        dx[index] = step
        grad[index] = (float(fun(x + dx)) - float(fun(x - dx))) / (2 * step)
    return grad


# The default run covers each kind of vertex kernel (logs and arctans: potential, g_z;
# logs only: g_en); the other fields (~12 s of compilation each) run with -m slow.
_SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "field", ["potential", "g_z", "g_en", *(pytest.param(f, marks=_SLOW) for f in ("g_e", "g_zz", "g_nz"))]
)
def test_gradients_match_finite_differences(field):
    weights = np.array([1.0, -0.5, 0.25, 2.0])

    def loss(coords, prisms, density):
        return jnp.sum(weights * prism_gravity(coords, prisms, density, field=field))

    grads = jax.grad(loss, argnums=(0, 1, 2))(tuple(jnp.asarray(c) for c in POINTS), jnp.asarray(PRISMS), jnp.asarray(DENSITY))
    fd_density = _central_difference(lambda d: loss(POINTS, PRISMS, d), DENSITY, 1e-3)
    fd_prisms = _central_difference(lambda p: loss(POINTS, p, DENSITY), PRISMS, 1e-3)
    fd_upward = _central_difference(lambda u: loss((POINTS[0], POINTS[1], u), PRISMS, DENSITY), POINTS[2], 1e-3)
    fd_easting = _central_difference(lambda e: loss((e, POINTS[1], POINTS[2]), PRISMS, DENSITY), POINTS[0], 1e-3)
    for got, want in [(grads[2], fd_density), (grads[1], fd_prisms), (grads[0][2], fd_upward), (grads[0][0], fd_easting)]:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7 * np.abs(want).max())


@pytest.mark.parametrize(
    "field",
    [f if f in ("g_z", "g_ee", "g_en") else pytest.param(f, marks=_SLOW) for f in FIELD_NAMES],
)
def test_gradients_finite_on_faces_and_planes(field):
    """Points on faces and on the planes of faces: values and gradients finite."""
    p = PRISMS[0]
    coords = (
        np.array([p[0], p[1], 0.0, -50.0, p[0], 1000.0]),
        np.array([0.0, 10.0, p[2], p[3], -900.0, p[3]]),
        np.array([-400.0, -300.0, -500.0, -200.0, 200.0, p[4]]),
    )

    def loss(coords, prisms, density):
        return jnp.sum(prism_gravity(coords, prisms, density, field=field))

    value = loss(coords, PRISMS[:1], DENSITY[:1])
    grads = jax.grad(loss, argnums=(0, 1, 2))(tuple(jnp.asarray(c) for c in coords), jnp.asarray(PRISMS[:1]), jnp.asarray(DENSITY[:1]))
    assert np.isfinite(value)
    for leaf in jax.tree_util.tree_leaves(grads):
        assert np.isfinite(np.asarray(leaf)).all()


def test_gradient_on_the_plane_of_a_face_is_the_limit():
    """d g_z / d easting at a point level with the west face equals the one-sided limits."""
    p = PRISMS[:1]

    def gz(e):
        return prism_gravity((e, jnp.array([0.0]), jnp.array([50.0])), p, DENSITY[:1], field="g_z")[0]

    at = float(jax.grad(gz)(jnp.array([p[0, 0]]))[0])
    left = float(jax.grad(gz)(jnp.array([p[0, 0] - 1e-6]))[0])
    right = float(jax.grad(gz)(jnp.array([p[0, 0] + 1e-6]))[0])
    assert at == pytest.approx(left, rel=1e-6)
    assert at == pytest.approx(right, rel=1e-6)


def test_grad_with_respect_to_a_mesh_returns_a_mesh():
    mesh = PrismMesh(jnp.linspace(-500.0, 500.0, 4), jnp.linspace(-400.0, 400.0, 3), jnp.linspace(-600.0, -100.0, 3))
    density = jnp.arange(12.0).reshape(mesh.shape) * 10

    # Points off the mesh's faces: on a face the shape derivative is one-sided.
    points = (POINTS[0], POINTS[1], POINTS[2] + 50.0)

    def loss(m):
        return jnp.sum(prism_gravity(points, m, density))

    grad = jax.grad(loss)(mesh)
    assert isinstance(grad, PrismMesh)
    fd = _central_difference(lambda u: loss(PrismMesh(mesh.easting, mesh.northing, jnp.asarray(u))), np.asarray(mesh.upward), 1e-3)
    np.testing.assert_allclose(grad.upward, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


def test_jit_and_vmap_match_eager():
    coords = tuple(jnp.asarray(c) for c in POINTS)
    eager = prism_gravity(coords, PRISMS, DENSITY)
    jitted = jax.jit(prism_gravity, static_argnames="field")(coords, jnp.asarray(PRISMS), jnp.asarray(DENSITY))
    np.testing.assert_allclose(jitted, eager, rtol=1e-14)
    densities = jnp.stack([jnp.asarray(DENSITY), 2 * jnp.asarray(DENSITY), -jnp.asarray(DENSITY)])
    batched = jax.vmap(lambda d: prism_gravity(coords, PRISMS, d))(densities)
    np.testing.assert_allclose(batched, np.stack([eager, 2 * eager, -eager]), rtol=1e-13)
    heights = jnp.stack([coords[2], coords[2] + 500.0])
    batched = jax.vmap(lambda u: prism_gravity((coords[0], coords[1], u), PRISMS, DENSITY))(heights)
    np.testing.assert_allclose(batched[1], prism_gravity((coords[0], coords[1], heights[1]), PRISMS, DENSITY), rtol=1e-13)


def test_no_recompilation_on_second_call():
    traces = []

    @jax.jit
    def forward(coords, prisms, density):
        traces.append(1)
        return prism_gravity(coords, prisms, density)

    coords = tuple(jnp.asarray(c) for c in POINTS)
    forward(coords, jnp.asarray(PRISMS), jnp.asarray(DENSITY))
    forward(tuple(c + 1.0 for c in coords), jnp.asarray(PRISMS) * 1.1, jnp.asarray(DENSITY) * 3)
    assert len(traces) == 1


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_output_dtype_follows_inputs(dtype):
    coords = tuple(jnp.asarray(c, dtype) for c in POINTS)
    out = prism_gravity(coords, jnp.asarray(PRISMS, dtype), jnp.asarray(DENSITY, dtype))
    assert out.dtype == dtype
    jac = prism_gravity_jacobian(coords, jnp.asarray(PRISMS, dtype))
    assert jac.dtype == dtype


def test_output_shape_follows_coordinates():
    e, n = np.meshgrid(np.linspace(-1000, 1000, 5), np.linspace(-800, 800, 3))
    out = prism_gravity((e, n, 10.0), PRISMS, DENSITY)
    assert out.shape == (3, 5)


@pytest.mark.parametrize("path", ["generic", "mesh"])
def test_density_gradient_at_zero_density_is_the_jacobian(path, rng):
    """The field is linear in density: its VJP at ρ = 0 (an inversion's usual start)
    must be Jᵀr even though zero-density prisms are left out of the value."""
    mesh = PrismMesh(np.linspace(0, 300, 4), np.linspace(0, 200, 3), np.linspace(-200, 0, 3))
    prisms = mesh if path == "mesh" else np.asarray(mesh.prisms())
    e, n = np.meshgrid(np.linspace(-50, 350, 5), np.linspace(-50, 250, 4))
    coords = (e, n, np.full_like(e, 10.0))
    J = np.asarray(prism_gravity_jacobian(coords, prisms))
    rho = np.zeros(mesh.shape if path == "mesh" else mesh.size)
    rho.flat[3] = 100.0  # one non-zero cell, the others at exactly zero
    r = rng.normal(size=e.shape)
    _, vjp = jax.vjp(lambda d: prism_gravity(coords, prisms, d), jnp.asarray(rho))
    np.testing.assert_allclose(np.ravel(vjp(jnp.asarray(r))[0]), J.T @ r.ravel(), rtol=1e-10, atol=1e-14)
    # the value still leaves zero-density prisms out
    np.testing.assert_allclose(np.ravel(prism_gravity(coords, prisms, rho)), J @ rho.ravel(), rtol=1e-10, atol=1e-14)
