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

import itertools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._kernels import Field
from .._math import log_positive
from ._safe import arctan_vector, safe_log_fraction, safe_norm, vector_angle


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
    cell_block : the mesh path's default box size (cells along easting, northing,
        upward). float64 boxes are mostly summed by their shared vertices, whose cost
        falls with the box's vertices per cell, so they are large; float32 boxes
        (switch at 2.5 half-diagonals) are mostly evaluated per cell, which XLA
        vectorises best with 8 cells along the minor (upward) axis.
    """

    far_ratio: float
    tiers: tuple[tuple[float, int], ...]
    mesh_near_ratio: float
    cell_block: tuple[int, int, int]


# Chosen from measurements against 50-digit arithmetic (tests/gravity/test_accuracy.py):
# at each switch, the error of both methods relative to the field's magnitude there is
# below ~5e-10 in float64 (8-vertex sum ~4e-10 at 40 half-diagonals, 3-point rule
# ~3e-11) and below ~1e-4 in float32 (8-vertex sum ~7e-5 at 2.5, 5-point rule ~1e-6).
#
# The mesh path's box-wide vertex sum keeps float64 cells of an 8³ box (729
# vertices) up to 80 half-diagonals (mesh_near_ratio; 40·91^(1/6) = 85): with the box's
# log scale, its error relative to the box's field, measured against the generic path,
# was 1.3e-10 with the nearest cell at 40 half-diagonals and 5.1e-10 at 80 (g_z,
# positive densities; potential 8e-12, g_zz 4e-11 at 80). A box straddling the 40
# switch then needs no per-cell far field, which cost 3× the vertex sum. The float64
# default box of 20³ cells (9,261 vertices) keeps the same cap: against the generic
# path, 1e-11 (g_z), 2e-12 (potential) and 2e-11 (g_zz) with its nearest cells at
# 5-50 half-diagonals. float32 has no such margin.
ACCURACY = {
    np.dtype("float64"): Accuracy(
        far_ratio=40.0, tiers=((40.0, 3), (400.0, 2)), mesh_near_ratio=80.0, cell_block=(20, 20, 20)
    ),
    np.dtype("float32"): Accuracy(
        far_ratio=2.5, tiers=((2.5, 5), (4.0, 4), (8.0, 3), (20.0, 2)), mesh_near_ratio=2.5, cell_block=(8, 8, 8)
    ),
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


def _vertex(axis_index: dict[int, int]) -> tuple[int, int, int]:
    return (axis_index[0], axis_index[1], axis_index[2])


def _indices(axes):
    """Every assignment of a vertex index (0 lower, 1 upper) to ``axes``, with the sign
    (−1)^(number of lower indices) of the alternating sum."""
    for combo in itertools.product((1, 0), repeat=len(axes)):
        yield dict(zip(axes, combo)), (-1) ** (len(axes) - sum(combo))


def paired_near_field(field: Field, x1, x2, y1, y2, z1, z2):
    """The alternating 8-vertex sum of :func:`near_field`, with fewer transcendentals.

    A log term c(·)·ln A is summed over the vertex indices its coefficient does not
    depend on as the logarithm of a quotient of the A (first along its own axis, where
    the quotient is ≥ 1 and finite, then along the free axes); an arctan term's first
    free axis is paired as the angle of w_hi·conj(w_lo) (:func:`arctan_vector`),
    exact in (−π, π) (:func:`vector_angle`), before its coefficient is applied. For
    g_z this is 4 logarithms and 4 angles per prism instead of 16 logarithms and 8
    arctans. The limits on planes, edges and vertices are those of the per-vertex
    kernels (the same safe arguments and the same arctan convention), so both sums
    agree to rounding everywhere (measured: 4e-15 of the field's scale).

    The vertices are unrolled into separate arrays of the block's shape, and log and
    arctan are :func:`jaxgeo._math.log_positive` and :func:`jaxgeo._math.arctan_unit`,
    so that XLA fuses and vectorises the sum. Fields without a term table (the
    diagonal tensor components) use :func:`near_field`.
    """
    if field.terms is None:
        return near_field(field, x1, x2, y1, y2, z1, z2)
    b = jnp.broadcast_arrays(x1, x2, y1, y2, z1, z2)
    bounds = ((b[0], b[1]), (b[2], b[3]), (b[4], b[5]))
    vertices = list(itertools.product((0, 1), repeat=3))
    r = {v: safe_norm(bounds[0][v[0]], bounds[1][v[1]], bounds[2][v[2]]) for v in vertices}
    inv_scale = log_scale(*b)
    total = None
    for kind, axis, scale, powers in field.terms:
        others = [a for a in range(3) if a != axis]
        coefficient_axes = [a for a in others if powers[a] > 0] if kind == "log" else [axis]
        free = [a for a in range(3) if a != axis and a not in coefficient_axes]

        def at(v, a):
            return bounds[a][v[a]]

        for fixed, sign in _indices(coefficient_axes):
            if kind == "log":
                fractions = {}

                def quotient(assigned, remaining):
                    # (num, den) of the quotient: outermost along the free axes,
                    # innermost along the own axis; a single division at the end.
                    if not remaining:
                        v = _vertex(assigned)
                        if v not in fractions:
                            fractions[v] = safe_log_fraction(at(v, axis), at(v, others[0]), at(v, others[1]), r[v], inv_scale)
                        return fractions[v]
                    a, rest = remaining[0], remaining[1:]
                    (n_hi, d_hi), (n_lo, d_lo) = quotient({**assigned, a: 1}, rest), quotient({**assigned, a: 0}, rest)
                    return n_hi * d_lo, d_hi * n_lo

                num_q, den_q = quotient(dict(fixed), [*free, axis])
                value = log_positive(num_q / den_q)
            else:
                first, second = free
                angles = []
                for s_index in (1, 0):
                    w, num, den = {}, {}, {}
                    for f_index in (1, 0):
                        v = _vertex({**fixed, first: f_index, second: s_index})
                        num[f_index] = at(v, others[0]) * at(v, others[1])
                        den[f_index] = at(v, axis) * r[v]
                        w[f_index] = arctan_vector(num[f_index], den[f_index], inv_scale * inv_scale)
                    (re_hi, im_hi), (re_lo, im_lo) = w[1], w[0]
                    angle = vector_angle(im_hi * re_lo - re_hi * im_lo, re_hi * re_lo + im_hi * im_lo)
                    # Both arctans at ±π/2 (den = 0 at both vertices): the difference is
                    # ±π or 0 exactly, which the sign of a rounded zero must not decide.
                    on_plane = (den[1] == 0) & (den[0] == 0)
                    plane_angle = (0.5 * math.pi) * (jnp.sign(num[1]) - jnp.sign(num[0]))
                    angles.append(jnp.where(on_plane, plane_angle, angle))
                value = angles[0] - angles[1]
            coefficient = float(sign) * scale
            for a in range(3):
                if powers[a]:
                    coefficient = coefficient * bounds[a][fixed[a]] ** powers[a]
            term = coefficient * value
            total = term if total is None else total + term
    return total


def far_field(field: Field, x1, x2, y1, y2, z1, z2, order: int):
    """Gauss–Legendre quadrature of the point-mass kernel over the prism (shifted bounds).

    The order³ nodes are unrolled into separate arrays of the block's shape (the
    per-axis node offsets and their squares are formed once), so that XLA fuses the
    rule into one elementwise loop vectorised along the block.
    """
    nodes, weights = np.polynomial.legendre.leggauss(order)
    bounds = jnp.broadcast_arrays(x1, x2, y1, y2, z1, z2)
    offsets, squares, halves = [], [], []
    for a in range(3):
        lo, hi = bounds[2 * a], bounds[2 * a + 1]
        half = 0.5 * (hi - lo)
        centre = lo + half
        q = [centre + half * float(t) for t in nodes]
        offsets.append(q)
        squares.append([v * v for v in q])
        halves.append(half)
    total = None
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            sum_xy = squares[0][i] + squares[1][j]
            for k, wk in enumerate(weights):
                d2 = sum_xy + squares[2][k]
                inv_d = jax.lax.rsqrt(jnp.where(d2 > 0, d2, 1.0))
                m = float(wi * wj * wk) * field.mass(offsets[0][i], offsets[1][j], offsets[2][k], inv_d)
                total = m if total is None else total + m
    return total * (halves[0] * halves[1] * halves[2])


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
