"""Uniform cubic B-spline basis on [0, 1], evaluated in JAX.

A profile with ``K`` coefficients ``c_k`` is ``v(x) = Σ_k c_k B_k(x)`` on ``x ∈ [0, 1]``
with the uniform knots ``t_j = (j − 3)/(K − 3)``, ``j = 0 … K + 3`` (the knot vector
extends three spans beyond each end, so every span of [0, 1] carries the same four
cubic pieces). On span ``i`` (``x ∈ [t_{i+3}, t_{i+4})``) with local coordinate ``f``
the non-zero basis functions are those of coefficients ``i … i + 3``:

    (1 − f)³/6,   (3f³ − 6f² + 4)/6,   (−3f³ + 3f² + 3f + 1)/6,   f³/6.

They are non-negative and sum to one, so ``v(x)`` is a convex combination of four
neighbouring coefficients: a profile whose coefficients lie in ``[lo, hi]`` stays in
``[lo, hi]``, which is how the prior bounds on coefficients bound the velocities.

Reference: de Boor, C. (1978). A Practical Guide to Splines. Springer.
https://doi.org/10.1007/978-1-4612-6333-3
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["cubic_bspline_basis", "cubic_bspline_knots"]


def cubic_bspline_knots(n_coefficients: int):
    """Knot vector (length ``n_coefficients + 4``, a Python list) of the uniform basis."""
    spans = n_coefficients - 3
    return [(j - 3) / spans for j in range(n_coefficients + 4)]


def cubic_bspline_basis(x, n_coefficients: int):
    """Values of the ``n_coefficients`` uniform cubic B-splines at ``x``.

    Parameters
    ----------
    x : array (...)
        Positions in [0, 1] (values outside are clipped to the ends).
    n_coefficients : int (static)
        Number of coefficients K ≥ 4.

    Returns
    -------
    array (..., K)
        ``B_k(x)``; each row sums to one. ``v(x) = basis @ coefficients``.
    """
    if n_coefficients < 4:
        raise ValueError(
            f"argument 'n_coefficients' must be >= 4 for a cubic spline, got {n_coefficients!r}"
        )
    spans = n_coefficients - 3
    u = jnp.clip(x, 0.0, 1.0) * spans
    span = jnp.clip(jnp.floor(u), 0, spans - 1)
    f = u - span
    g = 1.0 - f
    pieces = (
        g * g * g / 6.0,
        (3.0 * f * f * f - 6.0 * f * f + 4.0) / 6.0,
        (-3.0 * f * f * f + 3.0 * f * f + 3.0 * f + 1.0) / 6.0,
        f * f * f / 6.0,
    )
    shape = span.shape + (n_coefficients,)
    index = jnp.broadcast_to(jnp.arange(n_coefficients), shape)
    first = jnp.broadcast_to(span.astype(jnp.int32)[..., None], shape)
    zero = jnp.zeros(shape, dtype=f.dtype)
    return sum(
        jnp.where(index == first + k, jnp.broadcast_to(piece[..., None], shape), zero)
        for k, piece in enumerate(pieces)
    )
