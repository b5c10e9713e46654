"""User-facing dispersion functions: validation, dtype handling, flattening, kernels."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_choice, check_positive, is_traced, validate_layered_model
from ..parallel import entry_point_jit
from ._count import modes_below
from ._implicit import make_phase_root
from ._search import bracket_mode, scan_secular, velocity_bounds

__all__ = [
    "phase_velocity",
    "group_velocity",
    "phase_and_group_velocity",
    "sensitivity_kernels",
    "earth_flattening",
    "mode_count",
    "check_mode",
    "EARTH_RADIUS",
]

#: Earth radius (km) of the CPS surf96 flattening transformation.
EARTH_RADIUS = 6370.0

_WAVES = ("rayleigh", "love")
# Refinement steps (Anderson–Björck) per dtype size, from a global-grid cell at the
# first (longest) period and from a focused-grid cell elsewhere (two of them inside the
# continuation scan): measured, 1.4e-6 (float32) and 2e-15 (float64) relative to a
# bisected 768-point global search on 128 of the benchmark's random models (20 and 60
# layers), and enough for the tolerances checked against disba in tests/dispersion.
# Fewer (2 / 3) kept ordinary models converged but doubled the float32 error on
# models with very slow sediments (3.5e-3) and added mode jumps in float64 on 60-layer
# ones.
_N_FIRST = {4: 10, 8: 16}
_N_LOCAL = {4: 3, 8: 4}
# Periods whose brackets are still the widest after _N_LOCAL steps (a poor prediction
# over a large period gap, a nearly step-like secular function) and the extra steps
# they get: at least _N_RESCUE, a quarter of the periods (see continuation_search).
# float64 took 14 on an eighth of the periods until 2026-12-03; 10 on a quarter left
# 1 instead of 6 of 600 prior draws more than 5e-6 off disba (8: 2).
_N_RESCUE = 4
_N_EXTRA = {4: 10, 8: 10}
# Periods of a second rescue round (see continuation_search): float64 only, whose 5e-6
# tolerance the first round missed on 6 of 122,880 prior-draw periods; float32 is within
# 1e-4 without it.
_N_SECOND = {4: 0, 8: 8}
# Points of the focused grid on each side of the predicted root (2 * 7 + 3 in all; see
# _TRACKING_DIVISOR in _search.py for the measurements behind 7).
_N_SIDE = 7
_DEFAULT_GRID = 96
# Periods per curve whose mode number the exact count finds wrong and that are solved
# again (at least this many, a sixteenth of the periods on long curves; see
# jaxgeo.dispersion._search.verify_and_repair). Wrong periods beyond it return NaN.
_N_REPAIR = 4


def _root(wave, mode, n_grid, dtype):
    size = jnp.dtype(dtype).itemsize
    return make_phase_root(
        wave, int(mode), int(n_grid), _N_SIDE, _N_FIRST[size], _N_LOCAL[size], _N_RESCUE, _N_EXTRA[size],
        _N_REPAIR, _N_SECOND[size],
    )


def _validate(periods, thickness, vp, vs, rho, wave, mode, n_grid=None):
    """Check the arguments shared by the public functions (``n_grid`` where given)."""
    check_choice(wave, "wave", _WAVES)
    if not isinstance(mode, (int, np.integer)) or isinstance(mode, bool) or mode < 0:
        raise ValueError(f"argument 'mode' must be a non-negative integer; got {mode!r}")
    if n_grid is not None and (not isinstance(n_grid, (int, np.integer)) or n_grid < 8):
        raise ValueError(f"argument 'n_grid' must be an integer >= 8; got {n_grid!r}")
    if is_traced(periods, thickness, vp, vs, rho):
        return
    check_positive(periods, "periods")
    validate_layered_model(thickness, vp, vs, rho)
    if np.ndim(thickness) != 1:
        raise ValueError(
            f"layered-model arrays must be 1-D (one model; use jax.vmap for batches); got shape {np.shape(thickness)}"
        )


def _prepare(periods, thickness, vp, vs, rho):
    dtype = jnp.result_type(
        *(jnp.asarray(a) for a in (periods, thickness, vp, vs, rho)), jnp.float32
    )
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    arrays = tuple(jnp.asarray(a, dtype=dtype) for a in (periods, thickness, vp, vs, rho))
    return arrays, dtype


def earth_flattening(thickness, vp, vs, rho, *, wave="rayleigh", radius=EARTH_RADIUS):
    """Earth-flattening transformation of CPS surf96 (spherical → flat model).

    Depths map as ``z_f = R ln(R / (R - z))``; velocities of a layer are multiplied by
    ``2R / (r_top + r_bottom)`` (its midpoint radius) and densities by that factor to
    the power -2.275 for Rayleigh waves (Biswas, 1972) or -5 for Love waves (Schwab &
    Knopoff, 1972). The half-space is mapped as a 1 km thick layer below its top, as
    surf96 does. Phase velocities of the flat model are then used as those of the
    sphere.

    Parameters
    ----------
    thickness, vp, vs, rho : array, shape (L,)
        Spherical model: thickness (km), velocities (km/s), density (g/cm³).
    wave : {"rayleigh", "love"}
        Selects the density exponent.
    radius : float
        Earth radius (km), 6370 as in surf96.

    Returns
    -------
    thickness, vp, vs, rho : arrays, shape (L,)
        The flat model.

    References
    ----------
    Schwab, F. & Knopoff, L. (1972). Fast surface wave and free mode computations.
    Methods in Computational Physics 11, 87–180. https://doi.org/10.1016/B978-0-12-460811-5.50008-8
    Biswas, N. N. (1972). Earth-flattening procedure for the propagation of Rayleigh
    wave. PAGEOPH 96, 61–74. https://doi.org/10.1007/BF00875629
    """
    check_choice(wave, "wave", _WAVES)
    thickness = jnp.asarray(thickness)
    used = thickness.at[-1].set(1.0)
    bottom = jnp.cumsum(used)
    r_bottom = radius - bottom
    r_top = r_bottom + used
    # ln(r_top / r_bottom) = ln(1 + h / r_bottom): the ratio of two radii near 6370 km loses
    # the thickness of a thin layer to rounding (float32 keeps ~0.5 m of 6370 km, so a 40-m
    # sediment sublayer came out ~1% off); log1p of h / r_bottom keeps it to rounding.
    flat_thickness = radius * jnp.log1p(used / r_bottom)
    factor = 2.0 * radius / (r_top + r_bottom)
    exponent = -2.275 if wave == "rayleigh" else -5.0
    flat_thickness = flat_thickness.at[-1].set(0.0)
    return flat_thickness, vp * factor, vs * factor, rho * factor**exponent


# The cores are jitted with their options static: called eagerly, the fixed-size
# search would otherwise be re-traced and re-compiled on every call; inside a user's
# jit/vmap/grad the inner jit is simply inlined. Called directly they compile with
# jaxgeo.parallel.compiler_options() (entry_point_jit).
_STATIC = ("wave", "mode", "spherical", "n_grid")


@functools.partial(entry_point_jit, static_argnames=_STATIC)
def _phase(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid):
    if spherical:
        thickness, vp, vs, rho = earth_flattening(thickness, vp, vs, rho, wave=wave)
    omega = (2.0 * math.pi) / periods
    return _root(wave, mode, n_grid, periods.dtype)(omega, thickness, vp, vs, rho)


def _phase_and_group_core(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid):
    if spherical:
        thickness, vp, vs, rho = earth_flattening(thickness, vp, vs, rho, wave=wave)
    omega = (2.0 * math.pi) / periods
    root = _root(wave, mode, n_grid, periods.dtype)
    c, dc_domega = jax.jvp(
        lambda w: root(w, thickness, vp, vs, rho), (omega,), (jnp.ones_like(omega),)
    )
    # U = dω/dk with k = ω/c:  dk/dω = (1 - (ω/c) dc/dω) / c.
    return c, c / (1.0 - omega / c * dc_domega)


@functools.partial(entry_point_jit, static_argnames=_STATIC)
def _group(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid):
    return _phase_and_group_core(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid)[1]


@functools.partial(entry_point_jit, static_argnames=_STATIC)
def _phase_and_group(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid):
    return _phase_and_group_core(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid)


def phase_velocity(
    periods, thickness, vp, vs, rho, *, wave="rayleigh", mode=0, spherical=False, validate=True, n_grid=_DEFAULT_GRID
):
    """Phase velocity of Rayleigh or Love waves in a 1-D layered model.

    The phase velocity ``c(T)`` is the ``mode``-th root (counted upwards from the
    slowest possible velocity) of the secular function ``F(c, ω)`` below the half-space
    shear velocity: Dunkin's delta matrix for Rayleigh waves and the Thomson–Haskell
    propagator for Love waves (see :mod:`jaxgeo.dispersion._secular`). The derivative
    with respect to the model and the periods is implicit,
    ``dc/dθ = -(∂F/∂θ)/(∂F/∂c)``, never through the search iterations.

    Parameters
    ----------
    periods : array_like, any shape
        Periods T (s), positive.
    thickness : array_like, shape (L,)
        Layer thicknesses (km), top to bottom; the last entry (half-space) is ignored.
        Layers of zero thickness change nothing, so models can be padded to a common L.
    vp, vs : array_like, shape (L,)
        P and S velocities (km/s), with ``vs < vp / sqrt(2)``.
    rho : array_like, shape (L,)
        Density (g/cm³).
    wave : {"rayleigh", "love"}
        Wave type (static).
    mode : int
        0 for the fundamental mode, 1 for the first higher mode, ... (static).
    spherical : bool
        Apply the earth-flattening transformation of CPS surf96 first
        (:func:`earth_flattening`). It matters at long periods: at 160 s it raises
        fundamental Rayleigh phase velocities of a continental model by about 2%.
    validate : bool
        Check the inputs and raise ``ValueError`` naming the argument and index at
        fault. Skipped automatically for traced inputs (inside ``jit``/``vmap``/``grad``).
    n_grid : int
        Size of the global phase-velocity grid scanned for sign changes (static): in
        full at the longest period, then merged with a grid focused on the root
        predicted from the previous periods (``n_grid`` points for higher modes,
        about ``n_grid // 5`` for the fundamental). See :mod:`jaxgeo.dispersion._search` for
        how it limits mode identification.

    Returns
    -------
    jax.Array, shape of ``periods``
        Phase velocity (km/s) in the common floating dtype of the inputs. NaN where
        the mode does not exist (below its cut-off) or no root was bracketed.

    Notes
    -----
    Accuracy (``tests/dispersion``): within 1e-6 relative of disba (Dunkin) and CPS
    surf96 for modes 0–2 on crustal, sediment, low-velocity-zone and two-layer models
    in float64 (the peers' own root tolerance is ~1e-6); float32 within 2.3e-6 of disba
    on the same models and within 1e-4 of float64 (tested envelope). float32 Rayleigh
    phase velocities below ``max(vs) / 31.6`` cannot be resolved (rounding decides
    the sign of the secular function there): they are NaN, and so are the shorter
    periods of that mode (e.g. a sediment with vs < ~0.15 km/s over a 4.6 km/s
    mantle at short periods); use float64 for such models. Works under
    ``jit``, ``vmap`` and ``grad``; the options ``wave``, ``mode``, ``spherical`` and
    ``n_grid`` are static.

    Failure mode: two roots closer than a grid cell cancel in the sign-change count, so
    both are missed and higher modes are shifted. Every root's mode number is then
    checked by the exact count (:func:`modes_below`): wrong periods are solved again or
    returned as NaN, never as another mode's value (see :mod:`jaxgeo.dispersion._search`).
    Where that count is not valid (for the fundamental, a layer more than 8 half S
    wavelengths thick at the root) the root is returned unchecked; :func:`check_mode`
    returns a validity mask for any values.

    References
    ----------
    Dunkin (1965), https://doi.org/10.1785/BSSA0550020335; Haskell (1953),
    https://doi.org/10.1785/BSSA0430010017.
    """
    if validate:
        _validate(periods, thickness, vp, vs, rho, wave, mode, n_grid)
    (periods, thickness, vp, vs, rho), _ = _prepare(periods, thickness, vp, vs, rho)
    shape = periods.shape
    c = _phase(periods.reshape(-1), thickness, vp, vs, rho, wave, int(mode), bool(spherical), int(n_grid))
    return c.reshape(shape)


def group_velocity(
    periods, thickness, vp, vs, rho, *, wave="rayleigh", mode=0, spherical=False, validate=True, n_grid=_DEFAULT_GRID
):
    """Group velocity ``U = dω/dk`` of Rayleigh or Love waves (km/s).

    ``U = c / (1 - (ω/c) dc/dω)`` with ``dc/dω = -(∂F/∂ω)/(∂F/∂c)`` taken at the
    phase-velocity root: the same implicit derivative as the model gradients, exact to
    rounding (no finite difference in period). Arguments, shapes and NaN convention as
    :func:`phase_velocity`. With ``spherical=True`` the group velocity of the flattened
    model is returned (as surf96 does).
    """
    if validate:
        _validate(periods, thickness, vp, vs, rho, wave, mode, n_grid)
    (periods, thickness, vp, vs, rho), _ = _prepare(periods, thickness, vp, vs, rho)
    shape = periods.shape
    u = _group(periods.reshape(-1), thickness, vp, vs, rho, wave, int(mode), bool(spherical), int(n_grid))
    return u.reshape(shape)


def phase_and_group_velocity(
    periods, thickness, vp, vs, rho, *, wave="rayleigh", mode=0, spherical=False, validate=True, n_grid=_DEFAULT_GRID
):
    """Phase and group velocity of one mode from a single root search (km/s).

    Equal to ``(phase_velocity(...), group_velocity(...))`` with the same arguments, at
    the cost of one call: the group velocity ``U = c / (1 - (ω/c) dc/dω)`` uses the
    implicit derivative at the phase-velocity root already found. Arguments, shapes,
    static options and the NaN convention as :func:`phase_velocity`; works under
    ``jit``, ``vmap`` and ``grad``.

    Returns
    -------
    phase, group : jax.Array, shape of ``periods``
        Phase and group velocity (km/s), NaN (both) where the mode does not exist.
    """
    if validate:
        _validate(periods, thickness, vp, vs, rho, wave, mode, n_grid)
    (periods, thickness, vp, vs, rho), _ = _prepare(periods, thickness, vp, vs, rho)
    shape = periods.shape
    c, u = _phase_and_group(
        periods.reshape(-1), thickness, vp, vs, rho, wave, int(mode), bool(spherical), int(n_grid)
    )
    return c.reshape(shape), u.reshape(shape)


def sensitivity_kernels(
    periods,
    thickness,
    vp,
    vs,
    rho,
    *,
    wave="rayleigh",
    mode=0,
    velocity="phase",
    spherical=False,
    validate=True,
    n_grid=_DEFAULT_GRID,
):
    """Velocities and their partial derivatives with respect to every layer parameter.

    Computed by automatic differentiation of :func:`phase_velocity` or
    :func:`group_velocity` (implicit derivative of the root), one reverse pass per
    period, vectorised over periods.

    Parameters
    ----------
    periods : array_like, shape (P,)
        Periods (s).
    thickness, vp, vs, rho : array_like, shape (L,)
        The model (km, km/s, km/s, g/cm³).
    velocity : {"phase", "group"}
        Which velocity to differentiate.
    wave, mode, spherical, validate, n_grid
        As :func:`phase_velocity`.

    Returns
    -------
    dict
        ``"velocity"``: shape (P,), km/s; ``"vs"``, ``"vp"``, ``"rho"``,
        ``"thickness"``: shape (P, L), the partial derivatives ∂v/∂vs, ∂v/∂vp
        (dimensionless), ∂v/∂ρ (km/s per g/cm³) and ∂v/∂h (1/s). The half-space
        thickness derivative is zero. Rows are zero where the velocity is NaN.
    """
    check_choice(velocity, "velocity", ("phase", "group"))
    if validate:
        _validate(periods, thickness, vp, vs, rho, wave, mode, n_grid)
    (periods, thickness, vp, vs, rho), _ = _prepare(periods, thickness, vp, vs, rho)
    values, (d_thickness, d_vp, d_vs, d_rho) = _kernels(
        periods.reshape(-1), thickness, vp, vs, rho, wave, int(mode), bool(spherical), int(n_grid), velocity
    )
    return {"velocity": values, "vs": d_vs, "vp": d_vp, "rho": d_rho, "thickness": d_thickness}


@functools.partial(entry_point_jit, static_argnames=_STATIC + ("velocity",))
def _kernels(periods, thickness, vp, vs, rho, wave, mode, spherical, n_grid, velocity):
    fn = _phase if velocity == "phase" else _group

    def single(period, thickness, vp, vs, rho):
        return fn(period[None], thickness, vp, vs, rho, wave, mode, spherical, n_grid)[0]

    value_and_grad = jax.value_and_grad(single, argnums=(1, 2, 3, 4))
    return jax.vmap(value_and_grad, in_axes=(0, None, None, None, None))(periods, thickness, vp, vs, rho)


def mode_count(periods, thickness, vp, vs, rho, *, wave="rayleigh", n_grid=_DEFAULT_GRID):
    """Number of modes (sign changes of the secular function) seen on the search grid.

    A diagnostic for the root search: if it differs between ``n_grid`` and
    ``2 * n_grid`` at a period, roots closer than a grid cell exist there and modes
    above them may be mislabelled at the smaller grid. Shape of ``periods``, int32.
    In float32 (Rayleigh waves) the count starts at the precision floor
    ``max β / 31.6`` (see :mod:`jaxgeo.dispersion._search`): modes slower than it are
    not counted, rather than counted from rounding noise.
    """
    (periods, thickness, vp, vs, rho), _ = _prepare(periods, thickness, vp, vs, rho)
    shape = periods.shape
    omega = (2.0 * math.pi) / periods.reshape(-1)
    grid, values = scan_secular(omega, thickness, vp, vs, rho, wave, int(n_grid))
    total = bracket_mode(grid, values, 0)[-1]
    return total.reshape(shape)


def check_mode(
    periods, c, thickness, vp, vs, rho, *, wave="rayleigh", mode=0, spherical=False, rtol=1e-4, levels=8,
    validate=True,
):
    """Validity mask of phase velocities: does the exact mode count confirm each value?

    The root search checks every root's mode number with the exact count
    (:func:`modes_below`), but with few halvings of each layer (3 for the fundamental
    mode); where that count is not valid (for the fundamental, a layer more than 8 half
    S wavelengths thick at the root, which no prior draw of :mod:`jaxgeo.earth`
    reaches) the root is returned unchecked. This function checks any phase
    velocities, e.g. those of :func:`phase_velocity` with the same arguments, with
    ``levels`` halvings (up to ``2^levels`` half S wavelengths per layer) and a
    two-sided count, and returns where they are confirmed. It costs two counts per period, each about three
    secular-function evaluations with 8 halvings (a root search costs ~40 per period).

    Parameters
    ----------
    periods : array_like, any shape
        Periods T (s), positive.
    c : array_like, shape of ``periods``
        Phase velocities (km/s) of mode ``mode``, NaN where the mode is reported absent.
    thickness, vp, vs, rho : array_like, shape (L,)
        The model, as :func:`phase_velocity`.
    wave, mode, spherical
        As :func:`phase_velocity` (static); with ``spherical=True`` the count is taken on
        the flattened model, whose phase velocities :func:`phase_velocity` returns.
    rtol : float
        Relative tolerance of the confirmation (static; 1e-4: float32 roots are within
        ~3e-5 of their mode's velocity, and two modes closer than that cannot be told
        apart).
    levels : int
        Halvings of each layer for the count (static), as :func:`modes_below`.
    validate : bool
        Check the inputs and raise ``ValueError`` naming the argument and index.

    Returns
    -------
    jax.Array of bool, shape of ``periods``
        For a finite ``c``: True where exactly ``mode`` modes are slower than
        ``c (1 - rtol)`` and ``mode + 1`` slower than ``c (1 + rtol)``, i.e. mode ``mode``'s
        phase velocity lies within ``rtol`` of ``c``. For NaN: True where at most ``mode``
        modes are slower than the half-space shear velocity ``(1 - rtol)`` (the mode does
        not exist). False wherever the count is not valid. Phase velocities only: group
        velocities have no count.
    """
    if not isinstance(levels, (int, np.integer)) or isinstance(levels, bool) or not 0 <= levels <= 16:
        raise ValueError(f"argument 'levels' must be an integer in 0 ... 16; got {levels!r}")
    if not (isinstance(rtol, (float, int)) and 0 < rtol < 0.1):
        raise ValueError(f"argument 'rtol' must be a number in (0, 0.1); got {rtol!r}")
    if validate:
        _validate(periods, thickness, vp, vs, rho, wave, mode)
        if not is_traced(c):
            values = np.asarray(c, dtype=float)
            if np.shape(values) != np.shape(periods):
                raise ValueError(
                    f"argument 'c' must have the shape of 'periods' {np.shape(periods)}; got {np.shape(values)}"
                )
            check_positive(np.where(np.isnan(values), 1.0, values), "c")  # NaN: the mode is absent
    (periods, thickness, vp, vs, rho), dtype = _prepare(periods, thickness, vp, vs, rho)
    c = jnp.asarray(c, dtype=dtype)
    shape = periods.shape
    confirmed = _check_mode(
        periods.reshape(-1), c.reshape(-1), thickness, vp, vs, rho, wave, int(mode), bool(spherical), float(rtol),
        int(levels),
    )
    return confirmed.reshape(shape)


@functools.partial(entry_point_jit, static_argnames=("wave", "mode", "spherical", "rtol", "levels"))
def _check_mode(periods, c, thickness, vp, vs, rho, wave, mode, spherical, rtol, levels):
    if spherical:
        thickness, vp, vs, rho = earth_flattening(thickness, vp, vs, rho, wave=wave)
    omega = (2.0 * math.pi) / periods
    _, c_hi = velocity_bounds(thickness, vs, wave)
    found = jnp.isfinite(c)
    # the count is taken below the half-space velocity (it is not valid at or above it)
    ceiling = c_hi * (1.0 - 8.0 * jnp.finfo(c.dtype).eps)
    top = c_hi * (1.0 - rtol)
    lower = jnp.where(found, jnp.minimum(c * (1.0 - rtol), ceiling), top)
    upper = jnp.where(found, jnp.minimum(c * (1.0 + rtol), ceiling), top)
    count, valid = modes_below(
        jnp.concatenate([lower, upper]), jnp.concatenate([omega, omega]), thickness, vp, vs, rho,
        wave=wave, levels=levels,
    )
    n = periods.shape[0]
    below, above = count[:n], count[n:]
    right = jnp.where(found, (below == mode) & (above == mode + 1), above <= mode)
    return right & valid[:n] & valid[n:]
