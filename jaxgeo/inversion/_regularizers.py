"""Optional regularisers of a density grid, and how to add your own.

A regulariser is any function ``term(density) -> scalar`` of the density grid
(n_east, n_north, n_up), kg/m³, written with ``jax.numpy``; the INR loss is
χ² per datum + Σ term(density). The builders below return such functions; a custom
physics loss is just another one, e.g. a penalty on mass below a depth::

    def deep_mass(density):
        return 1e-6 * jnp.mean(density[:, :, :3] ** 2)

    INRInversion(problem, config, terms=(smoothness(1e-5), deep_mass))

Terms are traced into the jitted training step, so they must be pure and use
``jax.numpy`` only.
"""

from __future__ import annotations

import jax.numpy as jnp


def _differences(density):
    return [jnp.diff(density, axis=a) for a in range(3)]


def smoothness(weight: float):
    """weight × mean squared difference between neighbouring cells, (kg/m³)² → loss."""

    def term(density):
        return weight * sum(jnp.mean(d**2) for d in _differences(density))

    return term


def total_variation(weight: float, epsilon: float = 1.0):
    """weight × mean of sqrt(|∇ρ|² + ε²) over cells (forward differences, kg/m³)."""

    def term(density):
        dx, dy, dz = _differences(density)
        g2 = dx[:, :-1, :-1] ** 2 + dy[:-1, :, :-1] ** 2 + dz[:-1, :-1, :] ** 2
        return weight * jnp.mean(jnp.sqrt(g2 + epsilon**2))

    return term


def reference_model(reference, weight: float):
    """weight × mean((ρ − ρ_ref)²): closeness to a reference model (kg/m³)."""

    def term(density):
        return weight * jnp.mean((density - reference) ** 2)

    return term


def depth_weighted_smallness(weights, weight: float):
    """weight × mean((w ρ)²) with depth weights w (see :func:`depth_weights`)."""

    def term(density):
        return weight * jnp.mean((weights * density) ** 2)

    return term
