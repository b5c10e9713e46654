"""Fixed-cost root search of the secular function along the phase-velocity axis.

Every stage has a fixed size, so the search runs under ``jit``/``vmap`` with no host
callback and no data-dependent loop. Mode ``m`` is the ``(m+1)``-th sign change of the
secular function counted upwards from a floor ``c_lo`` below every mode; no trapped mode
is faster than the half-space shear velocity ``c_hi``.

1. **Global scan at the longest period.** Periods are processed from long to short
   (``ω`` ascending). At the first one the secular function is evaluated on a fixed
   grid of ``n_grid`` velocities spanning ``[c_lo, c_hi]`` (:func:`velocity_grid`).
2. **Continuation in period** (``lax.scan`` over the remaining periods). Each root
   ``c_m(ω)`` is a continuous function of ``ω`` and the modes keep their order (a mode
   appears, as ``ω`` grows, only at ``c_hi``, its cut-off), so the root at the previous
   periods predicts the next one: linear extrapolation in ``ω`` from the last root and
   the one before it, or the one before that where the last two periods are closer than
   half the coming gap (two close periods would turn the carried roots' small errors
   into a large slope error; ``c_hi`` while the mode does not exist yet). The next
   period is scanned on a *focused* grid (:func:`focused_grid`) that still spans the
   whole ``[c_lo, c_hi]``, so the sign-change count stays global, but whose cells grow
   geometrically away from the prediction, from about twice the last prediction error
   (at most 1e-3 of the velocity) up to the full range. The root carried to the next
   prediction is refined by two steps inside the scan. The focused grid is merged with a
   global grid at every period: about ``n_grid // 5`` points uniform in ``log c`` for
   the fundamental mode (rounded so that each period evaluates a multiple of 8 points,
   which XLA's CPU loops vectorise fully), all ``n_grid`` of :func:`velocity_grid` for
   higher modes. The global points keep the sign-change count right where the prediction
   fails (sharp bends of the dispersion curve in models with slow sediments, where the
   fundamental drops from basement to sediment velocities within a few periods, and many
   overtones lie between); the focused points resolve roots near the prediction far more
   finely than the global grid. Where two roots fall in one cell below the bracket (the
   fundamental and the first overtone osculating, 0.04-2 % apart, after a prediction
   error larger than that) the count misses both and the mode's number passes to a
   higher root; the secular function then dips towards zero without changing sign, so
   the deepest such dip below the bracket is probed at every period (one more point,
   evaluated with the first in-scan refinement step), and where the probe has the other
   sign the bracket moves to the revealed root (:func:`_hidden_pair`).
3. **Refinement.** Each bracketing cell is narrowed by a fixed number of
   Anderson–Björck (regula falsi) steps, vectorised over all periods after the scan;
   the least converged periods (a poor prediction across a large period gap, where
   the secular function is nearly step-like) get extra steps.

How it can fail, and how the caller is told
-------------------------------------------
Counting sign changes assumes no grid cell holds two roots. Two roots closer than a
cell (osculating higher modes, or a trapped mode of a strong low-velocity channel at
very short periods) cancel in the count: both are missed, and the roots above them are
assigned the wrong mode number, unless the probe of the continuation step finds them.
Measured on 2,000 prior draws of :mod:`jaxgeo.earth` (100 layers, spherical, 60 random
log-uniform periods, against disba and a dense scan; 2026-12-03): the fundamental mode
jumped to the second overtone on 8 draws without the probe and on 2 with it (modes 0
and 1 0.04-0.3 % apart there, at 2-3 s), in float64 and in float32.

4. **Check and repair** (:func:`verify_and_repair`). Every root's mode number is then
   checked by an exact count of the modes slower than it (the Wittrick–Williams count
   of :func:`jaxgeo.dispersion.modes_below`, which needs no grid), and so is every NaN
   (is the mode really below its cut-off?). Up to ``max(n_repair, P // 16)`` wrong
   periods per curve are solved again by narrowing the count's bracket, then refining the root
   that a fine secular grid, checked against the count, isolates; wrong periods beyond
   that budget return NaN. So a sign-change count
   fooled by two roots in one cell can no longer hand a mode's number to another root
   silently: it is repaired, or NaN. The count checking the fundamental mode halves
   each layer only 3 times (:func:`check_levels`). Cost, measured on 64 prior draws
   (130 layers, float32, phase, 2 devices; 2026-12-04): ~3 % of a curve for the check
   (~9 % before the count's τ ratios were computed once per layer). The repair runs only
   where a period is wrong; under ``vmap`` the wrong periods of the whole batch share a
   few slots (:func:`_repair_when_needed`): when every curve carried its own slots they
   cost another ~25 % (20-layer models).

The global grid is uniform in ``c`` and spans only the
range where modes exist for *this* model (``c_lo`` is 0.86× the slowest shear velocity
of a non-empty layer for Rayleigh waves — every Rayleigh or Stoneley speed lies above
it — and the slowest shear velocity for Love waves), so its resolution scales with the
model; half of its points are uniform in ``q = sqrt(1 - c_lo²/c²)``, the variable in
which the modes of a wave guide are evenly spaced, half uniform in ``c``
(:func:`velocity_grid`). A mode that does not exist at a period (below its cut-off)
has fewer sign changes than needed and returns NaN, as does a period whose scan finds
no bracket. ``n_grid`` is a static option; doubling it halves the smallest root
separation that is resolved. :func:`jaxgeo.dispersion.mode_count` returns the number of
sign changes seen on the global grid, which a caller can compare between two grid sizes
as a check.

float32 (Rayleigh waves): the compound-matrix entries are sums of terms of order
``(β/c)⁴`` that cancel, so below ``c = max β / 31.6`` (``β`` over all layers) the sign
of the secular function is rounding noise in float32 (see ``_FLOAT32_MAX_T``). The
float32 search starts at that floor (when it is above ``c_lo``) and returns NaN from
the period on which a root has gone below it (a negative secular function at the
floor), rather than a wrong root. This concerns very slow sediments only (Vs below
~0.15 km/s over a 4.6 km/s mantle, at periods where the fundamental mode is that
slow); float64 is unaffected.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ._count import modes_below
from ._secular import secular_function

__all__ = [
    "velocity_bounds",
    "velocity_grid",
    "focused_grid",
    "scan_secular",
    "bracket_mode",
    "refine_root",
    "continuation_search",
    "verify_and_repair",
]

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


# float32 limit of the Rayleigh secular function. Its compound-matrix entries are sums
# of terms of order t² = (β/c)⁴ (β of any layer below) that cancel to order one, so
# float32 rounding (6e-8) flips the sign of the function once t is in the thousands:
# measured on 256 random models with sediments of Vs 0.1-2 km/s over a 4.6 km/s
# mantle, roots with t = (max β / c)² < 1000 were within 5.4e-5 of float64, and 74%
# of those with t >= 1000 were spurious. float64 has ~1e-16 and is unaffected. A lower
# limit (300, 100) did worse: more roots fall below the floor, and pairs of them are
# invisible to the parity check of continuation_search.
_FLOAT32_MAX_T = 1000.0


def precision_floor(thickness, vs, wave, dtype):
    """Lowest phase velocity (km/s) at which the secular function keeps its sign in ``dtype``.

    ``max β / sqrt(_FLOAT32_MAX_T)`` (``max β / 31.6``) for Rayleigh waves in float32,
    over the layers of non-zero thickness and the half-space; 0 otherwise.
    """
    if wave != "rayleigh" or jnp.dtype(dtype).itemsize >= 8:
        return jnp.zeros((), dtype=dtype)
    present = jnp.concatenate([thickness[:-1] > 0, jnp.ones((1,), dtype=bool)])
    fastest = jnp.max(jnp.where(present, vs, 0.0))
    return fastest * (1.0 / _FLOAT32_MAX_T**0.5)


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
    In float32 (Rayleigh waves) the grid starts at :func:`precision_floor` where that is
    above ``c_lo``: below it the function's sign is rounding noise, and counting its
    sign changes there would report spurious modes.
    """
    c_lo, c_hi = velocity_bounds(thickness, vs, wave)
    c_floor = precision_floor(thickness, vs, wave, omega.dtype)
    c_lo = jnp.minimum(jnp.maximum(c_lo, c_floor), c_hi)
    grid = velocity_grid(c_lo, c_hi, n_grid, omega.dtype)
    values = secular_function(grid[None, :], omega[:, None], thickness, vp, vs, rho, wave=wave)
    return grid, values


def bracket_mode(grid, values, mode):
    """Bracket of mode ``mode`` (0 = fundamental) along the last axis.

    ``grid`` (km/s) is sorted along its last axis and broadcasts against ``values``
    (shape (..., n)). Returns ``(lo, hi, f_lo, f_hi, found, count)``: the cell ends
    (km/s), the secular function at both ends, whether the mode has a sign change, and
    the number of sign changes on the grid, all shaped (...).
    """
    positive = values > 0
    change = positive[..., 1:] != positive[..., :-1]
    count = jnp.cumsum(change.astype(jnp.int32), axis=-1)
    total = count[..., -1]
    found = total >= mode + 1
    cell = jnp.argmax(count >= mode + 1, axis=-1)[..., None]
    grid = jnp.broadcast_to(grid, values.shape)
    lo = jnp.take_along_axis(grid, cell, axis=-1)[..., 0]
    hi = jnp.take_along_axis(grid, cell + 1, axis=-1)[..., 0]
    f_lo = jnp.take_along_axis(values, cell, axis=-1)[..., 0]
    f_hi = jnp.take_along_axis(values, cell + 1, axis=-1)[..., 0]
    return lo, hi, f_lo, f_hi, found, total


def _secant_point(lo, hi, f_lo, f_hi):
    """Regula-falsi point of a bracket; the midpoint where both values are equal."""
    denominator = f_hi - f_lo
    ok = denominator != 0
    weight = jnp.where(ok, -f_lo / jnp.where(ok, denominator, 1.0), 0.5)
    return lo + jnp.clip(weight, 0.0, 1.0) * (hi - lo)


def _update(state, x, f_x):
    """One Anderson–Björck update of the state of :func:`refine_root` with ``f(x) = f_x``."""
    lo, hi, f_lo, f_hi, true_lo, true_hi, side = state
    same = (f_x > 0) == (true_lo > 0)  # the root lies in [x, hi]: lo is replaced
    m_hi = 1.0 - f_x / jnp.where(true_lo != 0, true_lo, 1.0)
    m_lo = 1.0 - f_x / jnp.where(true_hi != 0, true_hi, 1.0)
    m_hi = jnp.where(m_hi > 0, m_hi, 0.5)
    m_lo = jnp.where(m_lo > 0, m_lo, 0.5)
    new_f_lo = jnp.where(same, f_x, jnp.where(side == -1, f_lo * m_lo, f_lo))
    new_f_hi = jnp.where(same, jnp.where(side == 1, f_hi * m_hi, f_hi), f_x)
    return (
        jnp.where(same, x, lo),
        jnp.where(same, hi, x),
        new_f_lo,
        new_f_hi,
        jnp.where(same, f_x, true_lo),
        jnp.where(same, true_hi, f_x),
        jnp.where(same, 1, -1).astype(side.dtype),
    )


def _refine_steps(state, omega, thickness, vp, vs, rho, wave, n_iter):
    """``n_iter`` Anderson–Björck steps on the state of :func:`refine_root`."""

    def step(_, state):
        x = _secant_point(*state[:4])
        return _update(state, x, secular_function(x, omega, thickness, vp, vs, rho, wave=wave))

    return jax.lax.fori_loop(0, n_iter, step, state)


def _initial_state(lo, hi, f_lo, f_hi):
    return (lo, hi, f_lo, f_hi, f_lo, f_hi, jnp.zeros(jnp.shape(lo), dtype=jnp.int32))


def _estimate(state):
    lo, hi, _, _, true_lo, true_hi, _ = state
    return _secant_point(lo, hi, true_lo, true_hi)


def refine_root(omega, lo, hi, f_lo, f_hi, thickness, vp, vs, rho, wave, n_iter):
    """Refine bracketed roots with ``n_iter`` Anderson–Björck steps (km/s).

    Each step evaluates the secular function at the regula-falsi point of the bracket
    and keeps the sub-bracket with a sign change, so the root never leaves the bracket.
    When the same end survives twice in a row its value is scaled by
    ``m = 1 - f_new / f_replaced`` (``1/2`` if ``m <= 0``), which removes the one-sided
    stagnation of plain regula falsi and gives superlinear convergence (order ≈ 1.7)
    on a smooth function (Anderson & Björck, 1973, https://doi.org/10.1007/BF01951936).
    The estimate returned is the regula-falsi point of the final bracket computed with
    the true (unscaled) end values. ``omega`` broadcasts against the brackets.
    """
    state = _initial_state(*jnp.broadcast_arrays(lo, hi, f_lo, f_hi))
    return _estimate(_refine_steps(state, omega, thickness, vp, vs, rho, wave, n_iter))


def merge_sorted(a, b):
    """The sorted union (with repeats) of the sorted 1-D arrays ``a`` and ``b``.

    Each element's place is its index plus the number of elements of the other array
    before it (ties: ``a`` first), and the output is gathered through a one-hot
    comparison of the places: ~(len(a) + len(b))² vectorised operations, cheaper than a
    general sort on XLA's CPU backend (a comparator call per comparison). Merging the
    focused and the tracking grid at every period instead of sorting them took the
    fundamental-mode search on 20-layer models from ~1,035 to ~1,010 µs of CPU time per
    60-period curve in float32 (one pinned core; the cost outside the secular function
    from ~260 to ~240 µs).
    """
    place_a = jnp.arange(a.shape[0]) + jnp.sum(b[None, :] < a[:, None], axis=1)
    place_b = jnp.arange(b.shape[0]) + jnp.sum(a[None, :] <= b[:, None], axis=1)
    slots = jnp.arange(a.shape[0] + b.shape[0])
    from_a = jnp.sum(jnp.where(place_a[None, :] == slots[:, None], a[None, :], 0.0), axis=1)
    from_b = jnp.sum(jnp.where(place_b[None, :] == slots[:, None], b[None, :], 0.0), axis=1)
    return from_a + from_b


def focused_grid(center, width, c_lo, c_hi, n_side):
    """Sorted grid of ``2 n_side + 3`` velocities (km/s) on ``[c_lo, c_hi]``, dense at ``center``.

    Points: ``c_lo``, ``center ∓ width·r^k`` (``k = 0 … n_side - 1``, clipped to the
    range), ``center`` and ``c_hi``, with the ratio ``r`` chosen so that the last offset
    spans the whole range: the cells next to ``center`` are ``width`` wide and grow
    geometrically, so the grid still covers every root but resolves those near the
    prediction finely.
    """
    span = c_hi - c_lo
    fraction = jnp.arange(n_side, dtype=center.dtype) / (n_side - 1)
    offsets = width * jnp.exp(fraction * jnp.log(jnp.maximum(span / width, 1.0)))
    below = jnp.clip(center - offsets[::-1], c_lo, c_hi)
    above = jnp.clip(center + offsets, c_lo, c_hi)
    ends = jnp.ones((1,), dtype=center.dtype)
    return jnp.concatenate([c_lo * ends, below, center * ends, above, c_hi * ends])


# Smallest half-width of the focused grid, relative to the predicted velocity: below it
# the cell would be narrower than the refinement needs (float32 resolves ~1e-7).
_MIN_RELATIVE_WIDTH = 1e-4
_MAX_RELATIVE_WIDTH = 1e-3
# The fundamental mode keeps about n_grid // 5 global points at every period, fewer
# where the total is rounded down to a multiple of _ALIGN (by default 15, with the 17
# focused ones of n_side = 7 32 points). 11 (24 in all, with 13 focused points) found
# the same roots on 64 random hard 20-layer models and was ~25% faster, but 7 of 9,381
# simulator prior draws lost a root (NaN) against 2 with 19; with 3 global points
# modes jumped. Between 19 global + 13 focused and 15 + 17 (both 32 points, the same
# cost), the latter jumped less (2026-12-03, against disba and a dense global scan):
# 2 of 1,198 prior draws (random periods) with the first overtone taken, against 4,
# and 4 of 64 hard 60-layer models off the 1,536-point global search, against 7 and a NaN.
# With the dip probe (_hidden_pair), 7 global points (24 in all) were ~14% faster and
# jumped on 3 of 2,000 prior draws (2 with 15), but left a Love root of the test suite's
# low-velocity-zone model less converged at 2 s (its implicit derivative failed the
# central-difference test), and in float32 alone one draw of
# test_osculating_modes_of_prior_draws_keep_the_fundamental jumped again.
_TRACKING_DIVISOR = 5
# Secular-function evaluations are vectorised along the last axis (the points of one
# model): XLA's CPU loops run at full vector width only when that axis is a multiple
# of the vector length, and measured 1.4-2x slower per point with 37 points than with
# 24, 32 or 48. Grid and refinement sizes are rounded to multiples of _ALIGN (8 lanes
# of an AVX-512 register in float64).
_ALIGN = 8


def _aligned(n):
    """``n`` rounded to the nearest positive multiple of ``_ALIGN`` (halves down: 36 → 32)."""
    return max(_ALIGN, _ALIGN * ((n + _ALIGN // 2 - 1) // _ALIGN))


def _aligned_up(n):
    """``n`` rounded up to a multiple of ``_ALIGN`` (0 stays 0)."""
    return -(-n // _ALIGN) * _ALIGN


def _pad_periods(tree, n):
    """Pad the leading (period) axis of every array in ``tree`` to ``n`` by repeating the last entry."""
    return jax.tree_util.tree_map(lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], n - a.shape[0], axis=0)]), tree)


def _hidden_pair(points, values, mode, lo, found):
    """Probe for two roots hidden in one cell below the bracket of ``mode``.

    Two roots in one cell give no sign change, but the secular function dips towards
    zero there: a grid value smaller in magnitude than both its neighbours, all three of
    one sign. Of the dips whose cells lie at or below the lower end ``lo`` of the
    bracket of ``mode`` (anywhere where ``found`` is false; sorted ``points`` (n,) with
    ``values`` (n,)), the deepest relative to its larger neighbour is chosen, and the
    probe is the vertex of the parabola through its three values. (Ranking the dips by
    how far their parabolas reach across zero found the same roots on the 2,000 draws
    below and cost ~1 µs more per period and model.)

    Returns ``(probe, f_dip, below, lower, upper)``: ``f_dip`` is the value at the dip
    (a probe of the other sign reveals two roots, one on each side of it), ``below`` the
    number of sign changes below the dip's cells, ``lower`` and ``upper`` the
    ``(lo, hi, f_at_the_end_that_is_not_the_probe)`` of the two brackets the probe would
    reveal. Where no dip exists the probe is ``points[0]``, which reveals nothing.
    On 2,000 prior draws (100 layers, spherical, 60 random periods) the probe kept the
    fundamental mode on 6 of the 8 where it had jumped, and no other draw changed mode;
    probing the middles of both cells instead (two points) kept it on all 8 at the
    period where it had jumped, but 2 jumped again at a later period, at twice the cost.
    """
    x0, x1, x2 = points[:-2], points[1:-1], points[2:]
    f0, f1, f2 = values[:-2], values[1:-1], values[2:]
    a0, a1, a2 = jnp.abs(f0), jnp.abs(f1), jnp.abs(f2)
    positive = values > 0
    same = (positive[:-2] == positive[1:-1]) & (positive[1:-1] == positive[2:])
    # the dip's cells lie at or below the bracket's lower end (anywhere if none was found)
    limit = jnp.where(found, lo, jnp.inf)
    dip = same & (x0 < x1) & (x1 < x2) & (a1 < a0) & (a1 <= a2) & (x2 <= limit)

    # the deepest dip relative to its neighbours; the parabola only for the chosen one
    score = jnp.where(dip, a1 / jnp.maximum(a0, a2), jnp.inf)
    k = jnp.argmin(score)
    exists = jnp.isfinite(score[k])
    x0, x1, x2, f0, f1, f2 = x0[k], x1[k], x2[k], f0[k], f1[k], f2[k]

    def safe(d):
        return jnp.where(d != 0, d, 1.0)

    d01 = (f1 - f0) / safe(x1 - x0)
    d12 = (f2 - f1) / safe(x2 - x1)
    d012 = (d12 - d01) / safe(x2 - x0)
    vertex = jnp.clip(
        0.5 * (x0 + x1) - d01 / (2.0 * safe(d012)), x0 + 0.01 * (x1 - x0), x2 - 0.01 * (x2 - x1)
    )
    probe = jnp.where(exists, vertex, points[0])
    left = probe < x1
    lower = (jnp.where(left, x0, x1), probe, jnp.where(left, f0, f1))
    upper = (probe, jnp.where(left, x1, x2), jnp.where(left, f1, f2))
    f_dip = jnp.where(exists, f1, values[0])
    if mode == 0:
        below = jnp.zeros((), jnp.int32)  # the first sign change is the bracket's
    else:
        below = jnp.sum((positive[1:] != positive[:-1]) & (jnp.arange(1, points.shape[-1]) <= k))
    return probe, f_dip, below, lower, upper


def _rescue(state, found, omega, thickness, vp, vs, rho, wave, n_worst, n_extra):
    """``n_extra`` more steps on the ``n_worst`` found periods whose last correction (the
    distance from the estimate to the nearer bracket end, relative) is the largest."""
    estimate = _estimate(state)
    correction = jnp.minimum(estimate - state[0], state[1] - estimate) / state[1]
    _, worst = jax.lax.top_k(jnp.where(found, correction, 0.0), n_worst)
    subset = jax.tree_util.tree_map(lambda a: a[worst], state)
    subset = _refine_steps(subset, omega[worst], thickness, vp, vs, rho, wave, n_extra)
    return jax.tree_util.tree_map(lambda a, b: a.at[worst].set(b), state, subset)


def continuation_search(
    omega, thickness, vp, vs, rho, wave, mode, n_grid, n_side, n_first, n_local, n_rescue, n_extra, n_repair=0,
    n_second=0,
):
    """Phase velocity (km/s) of mode ``mode`` at every ``omega`` (P,), NaN where it does not exist.

    Global scan at the longest period, continuation in period on focused grids,
    fixed-step refinement (see the module docstring). ``n_first`` and ``n_local`` are
    the refinement steps from a global-grid cell and from a focused-grid cell; the
    ``max(n_rescue, (P - 1) // 4)`` least converged periods then get ``n_extra`` more,
    and the ``n_second`` least converged after that ``n_extra`` more again.
    """
    dtype = omega.dtype
    if n_local < 1:
        raise ValueError(f"n_local must be >= 1, got {n_local}")
    n_carry = min(2, n_local)
    order = jnp.argsort(omega)  # long periods first: the fewest, best separated modes
    omega_sorted = omega[order]
    c_lo, c_hi = velocity_bounds(thickness, vs, wave)
    # In float32 the search starts at the precision floor. Below every mode the secular
    # function is positive (it tends to the top layer's Rayleigh function as c → 0);
    # a negative value at a raised floor means an odd number of roots lies below it,
    # which float32 cannot resolve: those periods return NaN instead of a wrong mode.
    c_floor = precision_floor(thickness, vs, wave, dtype)
    raised = c_floor > c_lo
    c_lo = jnp.minimum(jnp.maximum(c_lo, c_floor), c_hi)
    span = c_hi - c_lo
    grid = velocity_grid(c_lo, c_hi, n_grid, dtype)
    # Global points kept at every period: all of them for higher modes, about an eighth for
    # the fundamental (see the module docstring).
    n_focused = 2 * n_side + 3
    n_tracking = n_grid if mode > 0 else max(n_grid // _TRACKING_DIVISOR, 8)
    if mode == 0:
        # Higher modes keep exactly n_grid points: mode 2 of the low-velocity-zone test
        # model was mislabelled with 99 (an aligned 112 in all) instead of 96.
        n_tracking = _aligned(n_focused + n_tracking) - n_focused
    if mode == 0:
        # Uniform in log c: every cell of the merged grid is then at most a fixed fraction
        # of c wide (21% with 15 points from 0.86 × 0.5 to 6 km/s), wherever the focused
        # cells have grown wide. A grid crowded at c_lo (half of velocity_grid's points)
        # left cells of 50% near 1 km/s: where the fundamental drops steeply into a slow
        # sediment, a prediction 8% off put it in one cell with the first overtone.
        tracking = c_lo * jnp.exp(
            jnp.log(c_hi / c_lo) * jnp.linspace(0.0, 1.0, n_tracking, dtype=dtype)
        )
    else:
        tracking = velocity_grid(c_lo, c_hi, n_tracking, dtype)

    first = omega_sorted[0]
    values = secular_function(grid, first, thickness, vp, vs, rho, wave=wave)
    lo, hi, f_lo, f_hi, found, _ = bracket_mode(grid, values, mode)
    lost_first = raised & (values[0] < 0)
    found = found & ~lost_first
    c_first = refine_root(first, lo, hi, f_lo, f_hi, thickness, vp, vs, rho, wave, n_first)
    c_first = jnp.where(found, c_first, jnp.nan)

    def step(carry, omega_i):
        c_1, c_2, c_3, omega_1, omega_2, omega_3, error_1, lost = carry
        # The slope comes from the last root and an earlier one at least half the coming
        # gap away: two close periods turn the carried roots' errors (~1e-3 after the
        # in-scan steps) into a slope error that the next, wider gap multiplies.
        close = (omega_1 - omega_2) < 0.5 * (omega_i - omega_1)
        older = close & jnp.isfinite(c_3)
        c_2 = jnp.where(older, c_3, c_2)
        omega_2 = jnp.where(older, omega_3, omega_2)
        known_1, known_2 = jnp.isfinite(c_1), jnp.isfinite(c_2)
        d_omega = omega_1 - omega_2
        extrapolate = known_1 & known_2 & (d_omega != 0)
        slope = jnp.where(extrapolate, (c_1 - c_2) / jnp.where(d_omega != 0, d_omega, 1.0), 0.0)
        # A mode not yet seen (at longer periods) appears at its cut-off, c_hi.
        prediction = jnp.where(known_1, c_1 + slope * (omega_i - omega_1), c_hi)
        prediction = jnp.clip(jnp.where(jnp.isfinite(prediction), prediction, c_hi), c_lo, c_hi)
        # The cells next to the prediction must stay narrower than the gap between the
        # fundamental and the first overtone, or both roots fall in one cell and cancel;
        # hence the upper bound on the width (measured: 1e-3 of c resolves slow
        # sediments, whose two lowest roots are ~5% apart, at 1 s).
        width = jnp.where(
            known_1,
            jnp.clip(2.0 * error_1, _MIN_RELATIVE_WIDTH * prediction, _MAX_RELATIVE_WIDTH * prediction),
            1e-3 * span,
        )
        points = merge_sorted(focused_grid(prediction, width, c_lo, c_hi, n_side), tracking)
        values = secular_function(points, omega_i, thickness, vp, vs, rho, wave=wave)
        lo, hi, f_lo, f_hi, found, _ = bracket_mode(points, values, mode)
        # Two roots in one cell below the bracket (modes that osculate, 0.04-2 % apart,
        # and a prediction off by more than that) would hand this mode's number to a
        # higher root: the deepest dip of the secular function below the bracket is
        # probed (see _hidden_pair), in the same call as the first refinement step of
        # the bracket (one more point; ~+2 % of the search's time). Where the probe
        # reveals two roots, the mode's bracket moves to one of them and starts unrefined.
        probe, f_dip, below, lower, upper = _hidden_pair(points, values, mode, lo, found)
        x = _secant_point(lo, hi, f_lo, f_hi)
        f_pair = secular_function(jnp.stack([x, probe]), omega_i, thickness, vp, vs, rho, wave=wave)
        state = _update(_initial_state(lo, hi, f_lo, f_hi), x, f_pair[0])
        f_probe = f_pair[1]
        flipped = (f_probe > 0) != (f_dip > 0)
        # with the two new sign changes, this mode's is the lower one, the upper one, or
        # the grid's bracket of mode - 2
        moves = [
            (flipped & (below == mode), (*lower, f_probe)),
            (flipped & (below == mode - 1), (upper[0], upper[1], f_probe, upper[2])),
        ]
        if mode >= 2:
            moves.append((flipped & (below <= mode - 2), bracket_mode(points, values, mode - 2)[:4]))
        for take, bracket in moves:
            state = jax.tree_util.tree_map(
                lambda new, old: jnp.where(take, new, old), _initial_state(*bracket), state
            )
            found = found | take
        # points[0] is the floor c_lo. Once a root has gone below the floor it stays
        # lost at all shorter periods: the next one down (an even number of roots below
        # the floor) would otherwise be taken for it.
        lost = lost | (raised & (values[0] < 0))
        found = found & ~lost
        # A few refinement steps here, so that the root carried to the next prediction
        # is accurate even where the secular function is nearly step-like (there the
        # regula-falsi point of the raw cell can be far from the root, and a wrong
        # prediction would put the two lowest roots in one wide cell).
        state = _refine_steps(state, omega_i, thickness, vp, vs, rho, wave, n_carry - 1)
        estimate = jnp.where(found, _estimate(state), jnp.nan)
        error = jnp.where(found & known_1, jnp.abs(estimate - prediction), 0.01 * span)
        return (estimate, c_1, c_2, omega_i, omega_1, omega_2, error, lost), (state, found)

    nan = jnp.full_like(c_first, jnp.nan)
    init = (c_first, nan, nan, first, first, first, 0.01 * span + jnp.zeros_like(c_first), lost_first)
    _, (state, found) = jax.lax.scan(step, init, omega_sorted[1:])
    omega_rest = omega_sorted[1:]
    n_rest = omega_rest.shape[0]
    # Refined on an aligned number of periods (the padding repeats the last one).
    n_padded = _aligned_up(n_rest)
    padded = _refine_steps(
        _pad_periods(state, n_padded),
        _pad_periods(omega_rest, n_padded),
        thickness, vp, vs, rho, wave, n_local - n_carry,
    )
    state = jax.tree_util.tree_map(lambda a: a[:n_rest], padded)
    if n_rescue > 0 and omega_rest.shape[0] > 0:
        # Where the prediction was poor (a large gap between periods, a sharp bend of
        # the curve) the focused cell is wide; if the secular function is also nearly
        # step-like there (a mode trapped under an evanescent layer), a few steps do
        # not converge. The n_rescue least converged periods get n_extra more steps.
        # Regula falsi converges from one side, so the bracket width says little; the
        # distance from the estimate to the nearer end (the last correction) is the
        # error indicator (ranking by the width, or by the width times the ratio of the
        # end values, left more periods off). A quarter of the periods are rescued: on
        # prior draws whose secular function is nearly a step at short periods (±0.8
        # within 3e-5 of the root, where each step only halves the bracket) up to 10
        # periods needed it; with an eighth, 9 of 800 draws stayed up to 3.5e-5 off
        # disba, with a quarter 1 (1.2e-5), at ~1 more evaluation per period.
        n_worst = min(-(-max(n_rescue, n_rest // 4) // 8) * 8, n_rest)  # a multiple of 8
        state = _rescue(state, found, omega_rest, thickness, vp, vs, rho, wave, n_worst, n_extra)
        # A second round on the periods now least converged: on nearly step-like secular
        # functions the ranking by the last correction misses some in the first round.
        # float64, 2,048 prior draws (130 layers, spherical, 60 random periods; 2026-12-04):
        # 6 periods on 4 draws stayed 5e-6 to 1.2e-5 off disba after one round, none more
        # than 1.0e-6 after a second of 8 periods.
        if n_second > 0:
            state = _rescue(state, found, omega_rest, thickness, vp, vs, rho, wave, min(n_second, n_rest), n_extra)
    c_sorted = jnp.concatenate([c_first[None], jnp.where(found, _estimate(state), jnp.nan)])
    if n_repair > 0:
        c_sorted = verify_and_repair(
            c_sorted, omega_sorted, thickness, vp, vs, rho, wave, mode, c_lo, c_hi, n_repair, n_extra
        )
    return jnp.zeros_like(c_sorted).at[order].set(c_sorted)


# Relative offset above a root at which its mode number is checked by the exact count.
# Measured on 100 prior draws (100 layers, 60 random periods, 6,000 roots): the count
# at c(1 ± 3e-5) was right at every root in float32 and float64. float64 uses 1e-4:
# roots on nearly step-like secular functions can be ~1e-5 from convergence, and a
# check closer than that sent them to the repair. Modes closer than the offset to the
# one found are flagged and repaired too (the repair isolates them with the count).
_CHECK_OFFSET = {4: 3e-5, 8: 1e-4}
# A repair counts the modes at _REPAIR_SECTION points across its bracket (the ends
# included), then at _REPAIR_SECTION points inside the cell where the count passes the
# mode (the bracket shrinks to 1/255 of the velocity range, ~0.4 % of c, as 8 bisections
# would), then lays _REPAIR_GRID secular-function points across that cell (cells of
# ~0.03 % of c; the fundamental and first overtone osculate 0.04-2 % apart on prior
# draws). Two counts of 16 points instead of one of the 2 ends and 8 of 1 midpoint: the
# repair's few slots are too narrow to fill the vector units, so it costs per step, not
# per point (float32, 8 slots, 130 layers, one core, 2026-12-04: a count of 1 point
# ~0.35 ms, of 16 ~0.7 ms).
_REPAIR_SECTION = 16
_REPAIR_GRID = 16


def check_levels(mode):
    """Halvings of the exact count used to check and repair mode ``mode`` (static).

    The count's clamped-layer term needs ``log2(q h / π) + 1`` halvings of a layer ``q h``
    radians thick in S (see :func:`jaxgeo.dispersion.modes_below`); a count with 3
    costs about two secular-function evaluations, each more halving ~0.2 (float32,
    130-layer prior draws, 2026-12-04: 21.6, 31.3 with 8, and 10.0 core-ns per layer and
    point), and the count is not trusted
    (``valid`` false) beyond ``q h = π 2^levels``. At the roots of the fundamental mode
    no layer is even half an S wavelength thick (measured: ``q h / π`` at most 0.41 on
    the benchmark's 20-layer models and 0.36 on 200 prior draws, 2-160 s), and a
    higher mode ``n`` has about ``n`` more half wavelengths in the guide, hence
    ``3 + ceil(log2(mode + 1))``: 8 half wavelengths per layer for the fundamental,
    up to the count's default 256 from mode 16 on.
    """
    return min(3 + math.ceil(math.log2(mode + 1)), 8)


def verify_and_repair(c, omega, thickness, vp, vs, rho, wave, mode, c_lo, c_hi, n_repair, n_extra):
    """Check every root's mode number with the exact count; repair up to ``n_repair`` wrong ones.

    ``c`` (P,) are the search's roots at ``omega`` (P,), NaN where it found none. A root
    is right when exactly ``mode + 1`` modes are slower than ``c (1 + δ)``
    (:func:`jaxgeo.dispersion._count.modes_below`, with :func:`check_levels` halvings);
    a NaN is right when at most ``mode`` modes are slower than ``c_hi (1 - δ)`` (the
    mode does not exist). Up to ``max(n_repair, P // 16)`` wrong periods (static) are
    solved again: the velocity where the count passes ``mode + 1`` is bracketed by two
    rounds of counts at 16 points (from the wrong root's side of ``[c_lo, c_hi]``, to
    1/255 of it), the secular function is
    evaluated on a grid across the final bracket, which is accepted only if its sign
    changes are as many as the modes the count puts in the bracket (so no cell holds
    two roots) and every count on the way was valid, and the mode's cell is refined by
    ``n_extra`` Anderson–Björck steps. Wrong periods beyond the budget, and
    brackets that could not be isolated, return NaN: a root is never reported under
    another mode's number where the count can tell. Where the check's count is not
    valid (a layer more than ``2^levels`` half S wavelengths thick at the root) the
    root is kept unchecked (:func:`jaxgeo.dispersion.check_mode` checks it with more
    halvings).
    """
    dtype = c.dtype
    levels = check_levels(mode)
    delta = _CHECK_OFFSET[jnp.dtype(dtype).itemsize]
    found = jnp.isfinite(c)
    top = c_hi * (1.0 - delta)
    x = jnp.where(found, c * (1.0 + delta), top)
    # counted on an aligned number of points (see _ALIGN; the padding repeats the last)
    n_points = _aligned_up(x.shape[0])
    count, valid = modes_below(
        _pad_periods(x, n_points), _pad_periods(omega, n_points), thickness, vp, vs, rho, wave=wave, levels=levels
    )
    count, valid = count[: x.shape[0]], valid[: x.shape[0]]
    wrong = valid & jnp.where(found, count != mode + 1, count >= mode + 1)
    repair = _repair_when_needed(wave, mode, levels, min(max(n_repair, c.shape[0] // 16), c.shape[0]), n_extra)
    return repair(c, wrong, count, x, omega, thickness, vp, vs, rho, c_lo, c_hi, top)


def _repair_when_needed(wave, mode, levels, n_fix, n_extra):
    """The repair of :func:`verify_and_repair`, paid for only where periods are wrong.

    Wrong periods are rare (none on the benchmark's models, ~0.3 % of prior draws have
    one), but a repair slot that every curve carried cost ~25 % of a float32 curve
    under ``vmap`` (4 slots, 20-layer models, 2026-12-04). So:

    - one curve: the repair runs under ``lax.cond``, only if a period is wrong;
    - under ``vmap`` (a custom batching rule; ``vmap`` would turn the ``cond`` into a
      ``select`` that runs every branch): the wrong periods that each curve's budget
      admits are gathered from the whole batch into ``max(8, B // 32)`` slots, each
      with its own model, and repaired there; only a batch with more is repaired
      curve by curve (every curve's ``n_fix`` slots), and a batch with none skips it.

    Each period is repaired by the same function in every case, so a curve's values
    do not depend on the rest of its batch (to rounding), only the time does. Under
    nested ``vmap`` the outer levels see ordinary ``select`` (every branch runs).
    """

    def repair_one(omega, found, count, x, thickness, vp, vs, rho, c_lo, c_hi, top):
        """The root of mode ``mode`` at one period (scalars), NaN where it is not isolated."""
        dtype = x.dtype
        # The mode lies below a root found above it, above a root found below it, and
        # between the floor and the top where none was found.
        lo = jnp.where(found & (count < mode + 1), x, c_lo)
        hi = jnp.where(found & (count > mode + 1), x, top)

        def section(points, counts, ok):
            """The cell of sorted ``points`` (with their ``counts``) where the count first reaches ``mode + 1``."""
            k = jnp.clip(jnp.argmax(counts >= mode + 1), 1, points.shape[0] - 1)
            return points[k - 1], points[k], counts[k - 1], counts[k], jnp.all(ok)

        def counted(points):
            return modes_below(points, omega, thickness, vp, vs, rho, wave=wave, levels=levels)

        # the count across the bracket, ends included, then inside the cell where it
        # passes the mode (a count that never reaches it gives n_hi <= mode: not isolated)
        points = lo + (hi - lo) * jnp.linspace(0.0, 1.0, _REPAIR_SECTION, dtype=dtype)
        lo, hi, n_lo, n_hi, ok = section(points, *counted(points))
        inner = lo + (hi - lo) * jnp.linspace(0.0, 1.0, _REPAIR_SECTION + 2, dtype=dtype)[1:-1]
        n_inner, ok_inner = counted(inner)
        lo, hi, n_lo, n_hi, ok_section = section(
            jnp.concatenate([lo[None], inner, hi[None]]), jnp.concatenate([n_lo[None], n_inner, n_hi[None]]), ok_inner
        )
        ok = ok & ok_section
        # The bracket holds n_hi - n_lo modes. Where the grid's sign changes in it are as
        # many, every cell holds at most one root (a cell with two or more loses at least
        # two from the sign-change count), and the mode's root is the (mode - n_lo + 1)-th.
        points = lo + (hi - lo) * jnp.linspace(0.0, 1.0, _REPAIR_GRID, dtype=dtype)
        values = secular_function(points, omega, thickness, vp, vs, rho, wave=wave)
        seen = jnp.cumsum((values[1:] > 0) != (values[:-1] > 0))
        isolated = ok & (n_lo <= mode) & (n_hi > mode) & (seen[-1] == n_hi - n_lo)
        cell = jnp.argmax(seen > mode - n_lo)
        # One more grid inside the root's cell before the refinement: where the secular
        # function is nearly a step, n_extra steps from the whole cell (~0.03 % of c) can
        # stop ~1e-6 short of the root (float64, a prior draw).
        lo, hi, f_lo, f_hi = points[cell], points[cell + 1], values[cell], values[cell + 1]
        inner = lo + (hi - lo) * jnp.linspace(0.0, 1.0, _REPAIR_GRID + 2, dtype=dtype)[1:-1]
        points = jnp.concatenate([lo[None], inner, hi[None]])
        values = jnp.concatenate([f_lo[None], secular_function(inner, omega, thickness, vp, vs, rho, wave=wave), f_hi[None]])
        cell = jnp.argmax((values[1:] > 0) != (values[:-1] > 0))
        fixed = refine_root(
            omega, points[cell], points[cell + 1], values[cell], values[cell + 1], thickness, vp, vs, rho, wave, n_extra
        )
        return jnp.where(isolated, fixed, jnp.nan)

    def admitted(wrong):
        """The wrong periods within the budget: the first ``n_fix`` of each curve."""
        return wrong & (jnp.cumsum(wrong, axis=-1) <= n_fix)

    def fix(c, wrong, count, x, omega, thickness, vp, vs, rho, c_lo, c_hi, top):
        # the n_fix slots of one curve: its admitted periods first, then others (unused)
        _, picked = jax.lax.top_k(admitted(wrong) * 2 + jnp.arange(c.shape[0], 0, -1) / (2 * c.shape[0]), n_fix)
        model = (thickness, vp, vs, rho, c_lo, c_hi, top)
        fixed = jax.vmap(repair_one, in_axes=(0, 0, 0, 0) + (None,) * 7)(
            omega[picked], jnp.isfinite(c[picked]), count[picked], x[picked], *model
        )
        c = jnp.where(wrong, jnp.nan, c)
        return c.at[picked].set(jnp.where(wrong[picked], fixed, c[picked]))

    @jax.custom_batching.custom_vmap
    def repair(c, wrong, *rest):
        return jax.lax.cond(jnp.any(wrong), fix, lambda c, *_: c, c, wrong, *rest)

    @repair.def_vmap
    def repair_batched(axis_size, in_batched, c, wrong, *rest):
        args = [
            a if batched else jnp.broadcast_to(a, (axis_size, *jnp.shape(a)))
            for a, batched in zip((c, wrong, *rest), in_batched)
        ]
        c, wrong, count, x, omega = args[:5]
        model = args[5:]  # thickness, vp, vs, rho (B, L); c_lo, c_hi, top (B,)
        n_periods = c.shape[1]
        n_slots = max(8, axis_size // 32)
        chosen = admitted(wrong).reshape(-1)
        n_chosen = jnp.sum(chosen)

        def gathered(c, wrong, count, x, omega, *model):
            (flat,) = jnp.nonzero(chosen, size=n_slots, fill_value=0)
            used = jnp.arange(n_slots) < n_chosen
            curve = flat // n_periods
            fixed = jax.vmap(repair_one)(
                omega.reshape(-1)[flat], jnp.isfinite(c.reshape(-1)[flat]), count.reshape(-1)[flat],
                x.reshape(-1)[flat], *(a[curve] for a in model),
            )
            out = jnp.where(wrong, jnp.nan, c).reshape(-1)
            target = jnp.where(used, flat, out.shape[0])  # unused slots write nowhere
            return out.at[target].set(fixed, mode="drop").reshape(c.shape)

        branch = jnp.where(n_chosen == 0, 0, jnp.where(n_chosen <= n_slots, 1, 2))
        out = jax.lax.switch(branch, [lambda c, *_: c, gathered, jax.vmap(fix)], *args)
        return out, True

    return repair
