"""Fixed-cost root search of the secular function along the phase-velocity axis.

The search has two stages, both of fixed size so that it runs under ``jit``/``vmap``:

1. **Scan.** The secular function is evaluated on a fixed grid of ``n_grid`` phase
   velocities between a lower bound ``c_lo`` (below every mode) and the half-space
   shear velocity ``c_hi`` (no trapped mode is faster). Mode ``m`` is the ``(m+1)``-th
   sign change counted from ``c_lo``.
2. **Refinement.** The bracketing cell is narrowed by ``n_iter`` safeguarded
   regula-falsi (Illinois) steps, every third one a bisection.

How it can fail, and how the caller is told
-------------------------------------------
Counting sign changes assumes no grid cell holds two roots. Two roots closer than a
cell (osculating higher modes, or a trapped mode of a strong low-velocity channel at
very short periods) cancel in the count: both are missed, and the roots above them are
assigned the wrong mode number. The grid is uniform in ``c`` and spans only the range
where modes exist for *this* model (``c_lo`` is 0.86× the slowest shear velocity of a
non-empty layer for Rayleigh waves — every Rayleigh or Stoneley speed lies above it —
and the slowest shear velocity for Love waves), so its resolution scales with the
model; half of its points are uniform in ``q = sqrt(1 - c_lo²/c²)``, the variable in
which the modes of a wave guide are evenly spaced, half uniform in ``c``
(:func:`velocity_grid`). A mode that does not exist at a period (below its cut-off) has fewer sign
changes than needed and returns NaN, as does a period whose scan finds no bracket.
``n_grid`` is a static option; doubling it halves the smallest root separation that is
resolved. :func:`jaxgeo.dispersion.mode_count` returns the number of sign changes seen,
which a caller can compare between two grid sizes as a check.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._secular import secular_function

__all__ = ["velocity_bounds", "velocity_grid", "scan_secular", "bracket_mode", "refine_root"]

# Every Rayleigh (and Stoneley) speed of a solid with positive Poisson ratio exceeds
# 0.874 β, so 0.86 × the slowest shear velocity is a safe floor for Rayleigh modes.
_RAYLEIGH_FLOOR = 0.86


def velocity_bounds(thickness, vs, wave):
    """Lower and upper phase-velocity bounds (km/s) of trapped modes.

    Layers of zero thickness are ignored (they must not change the result), the
    half-space is always included.
    """
    present = jnp.concatenate([thickness[:-1] > 0, jnp.ones((1,), dtype=bool)])
    slowest = jnp.min(jnp.where(present, vs, jnp.inf))
    floor = _RAYLEIGH_FLOOR if wave == "rayleigh" else 1.0
    return floor * slowest, vs[-1]


def velocity_grid(c_lo, c_hi, n_grid, dtype):
    """Sorted grid of ``n_grid`` phase velocities (km/s) from ``c_lo`` to ``c_hi``.

    Half of the points are uniform in ``q = sqrt(1 - c_lo²/c²)``: in a wave guide whose
    slowest layer has a velocity near ``c_lo``, modes sit near
    ``q_n ≈ (n + 1/2) π v / (ω H)``, evenly spaced in ``q``, whereas in ``c`` they crowd
    quadratically towards ``c_lo`` at short periods. The other half are uniform in
    ``c``, which resolves modes near their cut-offs just below ``c_hi``, where a
    ``q`` grid is sparse.
    """
    n_q = n_grid // 2
    q_max = jnp.sqrt(jnp.maximum(1.0 - (c_lo / c_hi) ** 2, 0.0))
    q = q_max * jnp.linspace(0.0, 1.0, n_q, dtype=dtype)
    in_q = c_lo / jnp.sqrt(1.0 - q * q)
    in_c = c_lo + (c_hi - c_lo) * jnp.linspace(0.0, 1.0, n_grid - n_q + 1, dtype=dtype)[1:]
    return jnp.sort(jnp.concatenate([jnp.minimum(in_q, c_hi), in_c]))


def scan_secular(omega, thickness, vp, vs, rho, wave, n_grid):
    """Secular function on the fixed grid.

    Returns ``grid`` (n_grid,) in km/s and ``values`` (P, n_grid) for ``omega`` (P,).
    """
    c_lo, c_hi = velocity_bounds(thickness, vs, wave)
    grid = velocity_grid(c_lo, c_hi, n_grid, omega.dtype)
    values = secular_function(grid[None, :], omega[:, None], thickness, vp, vs, rho, wave=wave)
    return grid, values


def bracket_mode(grid, values, mode):
    """Bracket of mode ``mode`` (0 = fundamental) for every period.

    Returns ``(lo, hi, f_lo, f_hi, found, count)``: the cell ends (km/s), the secular
    function at both ends, whether the mode has a sign change, and the number of sign
    changes on the grid, all shaped (P,).
    """
    positive = values > 0
    change = positive[:, 1:] != positive[:, :-1]
    count = jnp.cumsum(change.astype(jnp.int32), axis=1)
    total = count[:, -1]
    found = total >= mode + 1
    cell = jnp.argmax(count >= mode + 1, axis=1)
    lo = grid[cell]
    hi = grid[cell + 1]
    f_lo = jnp.take_along_axis(values, cell[:, None], axis=1)[:, 0]
    f_hi = jnp.take_along_axis(values, cell[:, None] + 1, axis=1)[:, 0]
    return lo, hi, f_lo, f_hi, found, total


def refine_root(omega, lo, hi, f_lo, f_hi, thickness, vp, vs, rho, wave, n_iter):
    """Refine a bracketed root with a fixed number of safeguarded secant steps (km/s).

    Each step evaluates the secular function at the regula-falsi point of the bracket
    (Illinois variant: the value kept twice in a row is halved, which restores
    superlinear convergence) and keeps the sub-bracket with a sign change. Every third
    step is a bisection, so the bracket shrinks geometrically even where the secular
    function is badly scaled (float32). The estimate is the secant point of the last
    bracket.
    """

    def evaluate(c):
        return secular_function(c, omega, thickness, vp, vs, rho, wave=wave)

    def secant_point(lo, hi, f_lo, f_hi):
        denominator = f_hi - f_lo
        ok = denominator != 0
        weight = jnp.where(ok, -f_lo / jnp.where(ok, denominator, 1.0), 0.5)
        # Keep away from the ends so a flat or noisy F cannot stall the bracket.
        return lo + jnp.clip(weight, 0.02, 0.98) * (hi - lo)

    def step(i, state):
        lo, hi, f_lo, f_hi, side = state
        x = jnp.where(i % 3 == 2, 0.5 * (lo + hi), secant_point(lo, hi, f_lo, f_hi))
        f_x = evaluate(x)
        same = (f_x > 0) == (f_lo > 0)  # root lies in [x, hi]
        new_lo = jnp.where(same, x, lo)
        new_hi = jnp.where(same, hi, x)
        new_f_lo = jnp.where(same, f_x, f_lo)
        new_f_hi = jnp.where(same, f_hi, f_x)
        # Illinois: if the same end survives twice, halve its value.
        new_side = jnp.where(same, 1, -1).astype(side.dtype)
        new_f_hi = jnp.where(same & (side == 1), 0.5 * new_f_hi, new_f_hi)
        new_f_lo = jnp.where(~same & (side == -1), 0.5 * new_f_lo, new_f_lo)
        return new_lo, new_hi, new_f_lo, new_f_hi, new_side

    side = jnp.zeros(lo.shape, dtype=jnp.int32)
    lo, hi, f_lo, f_hi, _ = jax.lax.fori_loop(0, n_iter, step, (lo, hi, f_lo, f_hi, side))
    return secant_point(lo, hi, f_lo, f_hi)
