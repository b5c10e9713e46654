"""Surface-wave dispersion of 1-D layered models: Rayleigh and Love, phase and group.

Units follow disba / CPS: thickness km, velocities km/s, density g/cm³, periods s.
The last layer is the half-space. All functions work under ``jax.jit``, ``jax.vmap``
and ``jax.grad``; batches of models are padded to a common layer count with
zero-thickness layers and mapped with ``vmap``.

Public API
----------
phase_velocity
    Phase velocity of any mode, NaN below the mode's cut-off.
group_velocity
    Group velocity ``dω/dk`` from the implicit derivative of the phase root.
phase_and_group_velocity
    Both velocities from one root search (cheaper than two calls).
sensitivity_kernels
    Partial derivatives of phase or group velocity with respect to every layer's
    vs, vp, rho and thickness, by automatic differentiation.
earth_flattening
    The CPS surf96 spherical-to-flat model transformation.
secular_function
    The normalised secular (period) function whose zeros are the modes.
mode_count
    Diagnostic: number of modes seen by the root search at each period.
modes_below
    Exact number of modes slower than a trial phase velocity (Wittrick–Williams
    count); the root search checks every root's mode number with it.
"""

from ._api import (
    EARTH_RADIUS,
    check_mode,
    earth_flattening,
    group_velocity,
    mode_count,
    phase_and_group_velocity,
    phase_velocity,
    sensitivity_kernels,
)
from ._count import modes_below
from ._secular import secular_function

__all__ = [
    "EARTH_RADIUS",
    "check_mode",
    "earth_flattening",
    "group_velocity",
    "mode_count",
    "modes_below",
    "phase_and_group_velocity",
    "phase_velocity",
    "secular_function",
    "sensitivity_kernels",
]
