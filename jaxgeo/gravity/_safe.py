"""Numerically delicate primitives of the prism kernels, in one place.

The closed-form prism kernels (Nagy et al. 2000, doi:10.1007/s001900000116; Fukushima
2020, doi:10.1093/gji/ggaa380) contain ``ln(x + r)`` and ``arctan(a / b)`` terms that
are singular or ill-conditioned on the planes, edges and vertices of the prism. Each
helper below returns the limit that makes the 8-vertex sum correct there, and uses
the *double-where* pattern: the argument of every branch that is not taken is replaced
by a harmless value *before* the operation, so that ``jax.grad`` never multiplies a
zero cotangent by an infinite or NaN partial derivative.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .._math import arctan_unit, log_positive


def safe_norm(x, y, z):
    """Euclidean norm sqrt(x² + y² + z²) with a finite gradient at the origin.

    At the origin the derivative of sqrt is infinite; the kernels that use ``r`` there
    multiply it by zero or take a separate branch, so the gradient is set to zero.
    """
    r2 = x * x + y * y + z * z
    is_zero = r2 == 0
    return jnp.where(is_zero, 0.0, jnp.sqrt(jnp.where(is_zero, 1.0, r2)))


def safe_log(x, y, z, r, inv_scale):
    """ln((x + r) / L) with r = sqrt(x² + y² + z²) and 1/L = ``inv_scale``.

    The kernels multiply each log by a coefficient that does not depend on at least one
    of the three vertex indices, so a constant −ln L cancels exactly in the alternating
    8-vertex sum. Dividing by a length L of the order of the vertex distances keeps
    every term O(R) instead of O(R ln R) and so shrinks the rounding error of the sum
    (about 5× for float32 at a few prism sizes).

    Branches (the same limits as choclo's ``_safe_log``), folded into the argument of a
    single logarithm so that only one transcendental is evaluated per call:

    - ``r == 0`` (the point is a vertex): 0. Every term using it is multiplied by a
      coordinate that vanishes too.
    - ``x >= 0``: ln(x + r), no cancellation.
    - ``x < 0`` and ``y² + z² > 0``: ln((y² + z²) / (r - x)); identical to ln(x + r)
      but free of the catastrophic cancellation of ``x + r`` when |x| ≈ r.
    - ``x < 0`` and ``y = z = 0`` (the point lies on the line of an edge, beyond the
      vertex): -ln(-2x) = ln(1 / (-2x)). ln(x + r) itself is -inf here, but the
      divergent parts cancel between the two vertices of the edge; this is the finite
      remainder.
    """
    return log_positive(safe_log_argument(x, y, z, r, inv_scale))


def safe_log_argument(x, y, z, r, inv_scale):
    """The positive argument of :func:`safe_log` (its logarithm is ``safe_log``)."""
    num, den = safe_log_fraction(x, y, z, r, inv_scale)
    return num / den


def safe_log_fraction(x, y, z, r, inv_scale):
    """The argument of :func:`safe_log` as a fraction (num, den), both > 0 and O(1).

    The paired 8-vertex sums take the logarithm of a quotient of such arguments, so
    that one logarithm (and one division) serves two, four or eight vertices.
    """
    rho2 = y * y + z * z
    negative = x < 0
    line = negative & (rho2 == 0)
    # Branches: x >= 0: (x + r)/L; x < 0: (rho2/L²) / ((r − x)/L); on the line of an
    # edge beyond the vertex: 1 / (−2x/L); at the vertex (r == 0): 1.
    num = jnp.where(negative, jnp.where(line, 1.0, rho2 * (inv_scale * inv_scale)), (x + r) * inv_scale)
    den = jnp.where(negative, jnp.where(line, -2.0 * x, r - x) * inv_scale, 1.0)
    at_vertex = r == 0
    return jnp.where(at_vertex, 1.0, num), jnp.where(at_vertex, 1.0, den)


def vector_angle(y, x):
    """atan2(y, x) for (x, y) ≠ (0, 0), with one vectorisable arctan (|quotient| ≤ 1).

    The quotient is always taken with the larger component below, so neither branch
    divides by zero or differentiates an ill-conditioned quotient. On the negative
    real axis the angle is +π (also for y = −0).
    """
    direct = jnp.abs(x) >= jnp.abs(y)
    top = jnp.where(direct, y, x)
    bottom = jnp.where(direct, x, y)
    angle = arctan_unit(top / bottom)
    half_turn = jnp.where(y >= 0, math.pi, -math.pi)
    quarter = jnp.where(y >= 0, 0.5 * math.pi, -0.5 * math.pi)
    return jnp.where(direct, jnp.where(x >= 0, angle, angle + half_turn), quarter - angle)


def arctan_vector(num, den, scale2):
    """The point (den, num)·sgn⁺(den)·scale2 of the right half-plane whose angle is the
    one-argument arctan(num / den) of :func:`safe_arctan`, with sgn⁺(0) = +1.

    A difference of two such angles is the angle of w_hi·conj(w_lo), exact in
    (−π, π); ``scale2`` (> 0, e.g. 1/L²) keeps the products O(1). (0, 0) becomes
    (1, 0), the angle 0 of the convention, so that products never vanish.
    """
    sign = jnp.where(den >= 0, scale2, -scale2)
    both_zero = (num == 0) & (den == 0)
    return jnp.where(both_zero, 1.0, den * sign), jnp.where(both_zero, 0.0, num * sign)


def safe_arctan(num, den):
    """arctan(num / den) with choclo's convention at den == 0 and smooth derivatives.

    The kernels use the one-argument arctan of a quotient (not atan2): its jumps of π
    where ``den`` changes sign cancel in the 8-vertex sum. At ``den == 0`` the value is
    sign(num)·π/2 (0 when num is 0 too).

    Where |den| < |num| the quotient is large and its derivative ill-conditioned, so we
    evaluate the identical expression sign(num)·sign⁺(den)·π/2 − arctan(den / num),
    with sign⁺(0) = +1. Its derivative is the exact derivative of arctan(num/den) on
    both sides of den = 0, so gradients stay finite and correct there. One arctan is
    evaluated per call.
    """
    direct = jnp.abs(den) >= jnp.abs(num)
    both_zero = (num == 0) & (den == 0)
    top = jnp.where(direct, num, den)
    bottom = jnp.where(direct, den, num)
    bottom = jnp.where(both_zero, 1.0, bottom)
    angle = arctan_unit(top / bottom)
    sign_num = jnp.where(num >= 0, 1.0, -1.0)
    sign_den = jnp.where(den >= 0, 1.0, -1.0)
    value = jnp.where(direct, angle, sign_num * sign_den * (0.5 * math.pi) - angle)
    return jnp.where(both_zero, 0.0, value)
