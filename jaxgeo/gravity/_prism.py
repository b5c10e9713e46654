"""Field of one prism at one point: the exact 8-vertex sum near, Gauss–Legendre far.

Both functions here broadcast over any leading axes of their arguments. They return
geometric values (multiply by G·ρ, the sign and the unit factor of the field).

Why two methods. The 8-vertex sum adds terms of size ~R^k (R the distance, k = 2 for
the potential) whose sum is ~V/R^(3-k) (V the volume): the relative rounding error grows
like ε·(R/L)³ with L the prism size. Float64 keeps 1e-9 only to a few tens of sizes and
float32 keeps 1e-4 only to a few sizes. Beyond ``far_ratio`` prism half-diagonals from
the prism centre we therefore integrate the point-mass kernel with an n-point
Gauss–Legendre rule per axis, which converges geometrically in the distance and has no
cancellation. All offsets are formed as (prism bound − point) first, so large absolute
coordinates (UTM, 1e6–1e7 m) never enter the arithmetic: that is the shift to a local
origin, done per pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._kernels import Field
from ._safe import safe_norm


@dataclass(frozen=True)
class Accuracy:
    """Near/far switch and far-field quadrature orders for one floating-point type.

    far_ratio : a prism–point pair is 'far' when |point − centre| > far_ratio · h, with
        h the prism's half-diagonal; nearer pairs use the exact 8-vertex sum.
    tiers : ((ratio, order), ...) in increasing ratio: far pairs at a distance of at
        least ``ratio`` half-diagonals may use ``order`` Gauss–Legendre points per
        axis. The first tier starts at far_ratio.
    mesh_near_ratio : the mesh path sums a whole box of cells by its shared vertices
        when every cell of the box lies within ``far_ratio·(n_v/8)^(1/6)``
        half-diagonals of every point of a block (n_v the box's vertex count), at most
        this many.
    """

    far_ratio: float
    tiers: tuple[tuple[float, int], ...]
    mesh_near_ratio: float


# Chosen from measurements against 50-digit arithmetic (tests/gravity/test_accuracy.py):
# at each switch, the error of both methods relative to the field's magnitude there is
# below ~5e-10 in float64 (8-vertex sum ~4e-10 at 40 half-diagonals, 3-point rule
# ~3e-11) and below ~1e-4 in float32 (8-vertex sum ~7e-5 at 2.5, 5-point rule ~1e-6).
#
# The mesh path's box-wide vertex sum keeps float64 cells of a default 8³ box (729
# vertices) up to 80 half-diagonals (mesh_near_ratio; 40·91^(1/6) = 85): with the box's
# log scale, its error relative to the box's field, measured against the generic path,
# was 1.3e-10 with the nearest cell at 40 half-diagonals and 5.1e-10 at 80 (g_z,
# positive densities; potential 8e-12, g_zz 4e-11 at 80). A box straddling the 40
# switch then needs no per-cell far field, which cost 3× the vertex sum. float32 has
# no such margin.
ACCURACY = {
    np.dtype("float64"): Accuracy(far_ratio=40.0, tiers=((40.0, 3), (400.0, 2)), mesh_near_ratio=80.0),
    np.dtype("float32"): Accuracy(far_ratio=2.5, tiers=((2.5, 5), (4.0, 4), (8.0, 3), (20.0, 2)), mesh_near_ratio=2.5),
}


def accuracy_for(dtype) -> Accuracy:
    """The :class:`Accuracy` settings for a floating-point dtype."""
    try:
        return ACCURACY[np.dtype(dtype)]
    except KeyError:
        raise ValueError(f"unsupported floating-point type {np.dtype(dtype)}; use float32 or float64") from None


def log_scale(x1, x2, y1, y2, z1, z2):
    """1/L with L² = |centre offset|² + half-diagonal², the typical vertex distance."""
    l2 = (x1 * x1 + x2 * x2) + (y1 * y1 + y2 * y2) + (z1 * z1 + z2 * z2)
    return jax.lax.rsqrt(jnp.where(l2 > 0, 0.5 * l2, 1.0))


def near_field(field: Field, x1, x2, y1, y2, z1, z2):
    """Alternating 8-vertex sum of the field's vertex kernel (shifted bounds, m)."""
    xs = jnp.stack([x1, x2], axis=-1)[..., :, None, None]
    ys = jnp.stack([y1, y2], axis=-1)[..., None, :, None]
    zs = jnp.stack([z1, z2], axis=-1)[..., None, None, :]
    xs, ys, zs = jnp.broadcast_arrays(xs, ys, zs)
    inv_scale = log_scale(x1, x2, y1, y2, z1, z2)[..., None, None, None]
    k = field.vertex(xs, ys, zs, safe_norm(xs, ys, zs), inv_scale)
    k = k[..., 1, :, :] - k[..., 0, :, :]
    k = k[..., 1, :] - k[..., 0, :]
    return k[..., 1] - k[..., 0]


def far_field(field: Field, x1, x2, y1, y2, z1, z2, order: int):
    """Gauss–Legendre quadrature of the point-mass kernel over the prism (shifted bounds).

    The order³ nodes are laid along one trailing axis (tensor-product rule flattened),
    which XLA vectorises far better than three broadcast axes.
    """
    dtype = jnp.result_type(x1)
    nodes, weights = np.polynomial.legendre.leggauss(order)
    grid = np.stack(np.meshgrid(nodes, nodes, nodes, indexing="ij"), axis=0).reshape(3, -1)
    weight = np.prod(np.stack(np.meshgrid(weights, weights, weights, indexing="ij")), axis=0).ravel()
    bounds = jnp.broadcast_arrays(x1, x2, y1, y2, z1, z2)
    ndim = bounds[0].ndim

    def offsets(lo, hi, axis):
        half = 0.5 * (hi - lo)
        t = jnp.asarray(grid[axis], dtype).reshape((1,) * ndim + (-1,))
        return (lo + half)[..., None] + half[..., None] * t, half

    (qx, hx), (qy, hy), (qz, hz) = (offsets(bounds[2 * a], bounds[2 * a + 1], a) for a in range(3))
    d2 = qx * qx + qy * qy + qz * qz
    inv_d = jax.lax.rsqrt(jnp.where(d2 > 0, d2, 1.0))
    m = field.mass(qx, qy, qz, inv_d)
    m = jnp.sum(m * jnp.asarray(weight, dtype).reshape((1,) * ndim + (-1,)), axis=-1)
    return m * (hx * hy * hz)


def distance_ratio2(x1, x2, y1, y2, z1, z2):
    """(|point − centre| / half-diagonal)² from shifted bounds; inf for empty prisms."""
    cx, cy, cz = 0.5 * (x1 + x2), 0.5 * (y1 + y2), 0.5 * (z1 + z2)
    hx, hy, hz = 0.5 * (x2 - x1), 0.5 * (y2 - y1), 0.5 * (z2 - z1)
    d2 = cx * cx + cy * cy + cz * cz
    h2 = hx * hx + hy * hy + hz * hz
    empty = h2 == 0
    return jnp.where(empty, jnp.inf, d2 / jnp.where(empty, 1.0, h2))


def singular_and_face(field: Field, x1, x2, y1, y2, z1, z2):
    """Where the field is undefined (NaN, as in harmonica) and where the face jump applies.

    On a prism face normal to axis i, the diagonal component g_ii is discontinuous; the
    8-vertex sum with one-argument arctan gives the limit from outside on the lower
    face and from inside on the upper face, so 4π is added on the upper face to return
    the outside limit everywhere (harmonica's convention).
    """
    lo, hi = (x1, y1, z1), (x2, y2, z2)
    on_bound = [(lo[a] == 0) | (hi[a] == 0) for a in range(3)]
    within = [(lo[a] <= 0) & (hi[a] >= 0) for a in range(3)]
    strictly = [(lo[a] < 0) & (hi[a] > 0) for a in range(3)]
    shape = jnp.broadcast_shapes(*(jnp.shape(b) for b in (x1, x2, y1, y2, z1, z2)))
    singular = jnp.zeros(shape, dtype=bool)
    for axis in field.singular_edges:
        others = [a for a in range(3) if a != axis]
        singular = singular | (within[axis] & on_bound[others[0]] & on_bound[others[1]])
    if field.face_axis is None:
        on_upper_face = jnp.zeros(shape, dtype=bool)
    else:
        a = field.face_axis
        others = [b for b in range(3) if b != a]
        on_upper_face = (hi[a] == 0) & strictly[others[0]] & strictly[others[1]]
    return singular, on_upper_face




def combine(field: Field, accuracy: Accuracy, bounds, near_fn):
    """Field values of a block of prism–point pairs, running only the methods needed.

    Parameters
    ----------
    field : Field
    accuracy : Accuracy
    bounds : tuple of six arrays (x1, x2, y1, y2, z1, z2) of shifted bounds (m),
        broadcasting to the block's shape.
    near_fn : callable () -> array of the block's shape with the 8-vertex sums. It is
        only called (inside ``lax.cond``) when at least one pair of the block is near,
        so the mesh path can supply vertex-shared sums.

    Returns
    -------
    array of the block's shape: geometric values, NaN where the field is undefined.

    The far-field order is chosen once per block (``lax.switch``) from the nearest far
    pair, so blocks that are entirely far cost a few point-mass evaluations per pair.
    Under ``vmap`` the branches become selects and all are computed; results are equal.
    """
    ratio2 = distance_ratio2(*bounds)
    shape = ratio2.shape
    dtype = ratio2.dtype
    far = ratio2 > accuracy.far_ratio**2

    def zeros():
        return jnp.zeros(shape, dtype)

    near = jax.lax.cond(jnp.any(~far), near_fn, zeros)
    nearest_far = jnp.min(jnp.where(far, ratio2, jnp.inf))
    tier = 1 + sum((nearest_far >= r**2).astype(jnp.int32) for r, _ in accuracy.tiers[1:])
    tier = jnp.where(jnp.isinf(nearest_far), 0, tier)
    branches = [zeros] + [
        (lambda order=order: far_field(field, *bounds, order))
        for _, order in accuracy.tiers
    ]
    far_value = jax.lax.switch(tier, branches)
    singular, on_upper_face = singular_and_face(field, *bounds)
    near = near + jnp.where(on_upper_face, 4.0 * math.pi, 0.0)
    value = jnp.where(far, far_value, near)
    return jnp.where(singular, jnp.nan, value)


def masked_density_sum(values, rho, contract, expand):
    """Σ values·ρ over prisms, ignoring prisms of zero density, with the right gradient.

    Prisms of zero density are left out of the value (as in harmonica: a NaN of a
    tensor component on the edge of an empty prism does not propagate). The field is
    linear in ρ, so its derivative with respect to ρ is ``values`` even where ρ = 0:
    the second term is exactly zero in value (ρ − stop_gradient(ρ)) but carries that
    derivative, so gradients and VJPs at ρ = 0 (an inversion's usual start) are exact.
    ``contract(values, rho)`` sums the product over the prism axes; ``expand`` maps a
    per-prism mask to the rank of ``values``.
    """
    nonzero = expand(rho != 0)
    value = contract(jnp.where(nonzero, values, 0.0), rho)
    tangent_values = jnp.where(nonzero | ~jnp.isfinite(values), 0.0, values)
    return value + contract(tangent_values, rho - jax.lax.stop_gradient(rho))
