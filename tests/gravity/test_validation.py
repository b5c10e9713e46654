"""Bad input raises ValueError naming the argument and index, before any computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.gravity import PrismMesh, prism_gravity, prism_gravity_jacobian

PRISMS = np.array([[0.0, 10.0, 0.0, 10.0, -10.0, 0.0], [20.0, 30.0, 0.0, 10.0, -10.0, 0.0]])
COORDS = (np.array([0.0, 5.0]), np.array([0.0, 5.0]), np.array([1.0, 1.0]))
DENSITY = np.array([1.0, 2.0])


@pytest.mark.parametrize(
    "column, message",
    [(0, r"west > east at index \[1\]"), (2, r"south > north at index \[1\]"), (4, r"bottom > top at index \[1\]")],
)
def test_inverted_bounds(column, message):
    prisms = PRISMS.copy()
    prisms[1, column] = prisms[1, column + 1] + 1.0
    with pytest.raises(ValueError, match=message):
        prism_gravity(COORDS, prisms, DENSITY)
    with pytest.raises(ValueError, match=message):
        prism_gravity_jacobian(COORDS, prisms)


def test_mismatched_density_length():
    with pytest.raises(ValueError, match=r"'density' has shape \(3,\) but there are 2 prisms"):
        prism_gravity(COORDS, PRISMS, np.ones(3))


def test_bad_prism_shape():
    with pytest.raises(ValueError, match=r"'prisms' must have shape \(n, 6\)"):
        prism_gravity(COORDS, np.ones((2, 5)), DENSITY)


def test_non_finite_values():
    prisms = PRISMS.copy()
    prisms[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"'prisms' has a non-finite value nan at index \[1, 3\]"):
        prism_gravity(COORDS, prisms, DENSITY)
    with pytest.raises(ValueError, match=r"'coordinates\[upward\]' has a non-finite value inf at index \[1\]"):
        prism_gravity((COORDS[0], COORDS[1], np.array([0.0, np.inf])), PRISMS, DENSITY)
    with pytest.raises(ValueError, match=r"'density' has a non-finite value nan at index \[0\]"):
        prism_gravity(COORDS, PRISMS, np.array([np.nan, 1.0]))


def test_unknown_field():
    with pytest.raises(ValueError, match=r"argument 'field' must be one of .*'g_z'.*; got 'gz'"):
        prism_gravity(COORDS, PRISMS, DENSITY, field="gz")


def test_coordinates_that_do_not_broadcast():
    with pytest.raises(ValueError, match="do not broadcast"):
        prism_gravity((np.zeros(2), np.zeros(3), np.zeros(2)), PRISMS, DENSITY)
    with pytest.raises(ValueError, match="must be a tuple"):
        prism_gravity(np.zeros((3, 2)), PRISMS, DENSITY)


def test_mesh_edges_must_not_decrease():
    mesh = PrismMesh(np.array([0.0, 10.0, 5.0]), np.array([0.0, 1.0]), np.array([-1.0, 0.0]))
    with pytest.raises(ValueError, match=r"'prisms.easting': edges must be non-decreasing, but edge \[2\]"):
        prism_gravity(COORDS, mesh, np.ones(2))
    good = PrismMesh(np.array([0.0, 10.0, 15.0]), np.array([0.0, 1.0]), np.array([-1.0, 0.0]))
    with pytest.raises(ValueError, match=r"expected shape \(2,\) or \(2, 1, 1\)"):
        prism_gravity(COORDS, good, np.ones(3))


def test_checks_can_be_skipped_and_are_skipped_under_jit():
    prisms = PRISMS.copy()
    prisms[1, 0] = 100.0  # west > east
    prism_gravity(COORDS, prisms, DENSITY, validate=False)  # no error: the caller opted out
    jax.jit(lambda p: prism_gravity(COORDS, p, DENSITY))(jnp.asarray(prisms))  # traced: not inspectable


@pytest.mark.parametrize("block", [(0, 8, 8), (8, 8), (8.0, 8, 8), (True, 8, 8)])
def test_bad_cell_block_is_named(block):
    mesh = PrismMesh(np.array([0.0, 10.0, 15.0]), np.array([0.0, 1.0]), np.array([-1.0, 0.0]))
    with pytest.raises(ValueError, match="'cell_block' must be None or three integers >= 1"):
        prism_gravity(COORDS, mesh, np.ones(2), cell_block=block)
    with pytest.raises(ValueError, match="'cell_block'"):
        prism_gravity_jacobian(COORDS, mesh, cell_block=block)
