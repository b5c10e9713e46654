"""Layered test models (km, km/s, km/s, g/cm³) shared by the dispersion tests."""

from pathlib import Path

import numpy as np

PERIODS = np.logspace(np.log10(2.0), np.log10(160.0), 60)

MODELS = {
    # Thin slow sediments (Vs 0.3–1.2 km/s) over a two-layer crust and mantle.
    "crust_sediments": (
        np.array([0.5, 1.5, 10.0, 20.0, 0.0]),
        np.array([1.6, 2.5, 5.6, 6.5, 8.1]),
        np.array([0.3, 1.2, 3.2, 3.7, 4.6]),
        np.array([1.8, 2.1, 2.7, 2.9, 3.35]),
    ),
    # A strong mid-crustal low-velocity zone (2.8 km/s under 3.6 km/s).
    "low_velocity_zone": (
        np.array([5.0, 10.0, 8.0, 20.0, 0.0]),
        np.array([5.6, 6.3, 4.9, 7.0, 7.9]),
        np.array([3.2, 3.6, 2.8, 4.0, 4.5]),
        np.array([2.6, 2.8, 2.5, 3.1, 3.3]),
    ),
    # One layer over a half-space.
    "two_layer": (
        np.array([10.0, 0.0]),
        np.array([4.5, 7.0]),
        np.array([2.5, 4.0]),
        np.array([2.4, 3.0]),
    ),
}


def continental(n_layers=20):
    """A smooth continental model (crust over mantle) with ``n_layers`` layers."""
    depth = np.linspace(0.0, 80.0, n_layers)
    thickness = np.diff(depth, append=depth[-1])
    vs = np.where(depth < 35.0, 3.0 + 0.02 * depth, 4.4 + 0.003 * (depth - 35.0))
    vp = 1.75 * vs
    rho = 0.32 * vp + 0.77
    return thickness, vp, vs, rho


def padded(model, n_layers=5):
    """The model with zero-thickness layers inserted above the half-space.

    Zero-thickness layers must change nothing; padding every test model to one shape
    also lets all of them share one compiled function.
    """
    extra = n_layers - len(model[0])
    return tuple(np.concatenate([a[:-1], np.repeat(a[-1:], extra + 1)]) for a in model)


#: Layered models of the prior draws on which the root search once failed, with the
#: draws' parameters and, where a test uses them, their random periods. Frozen so that
#: the regression tests keep the models the failures were found on when the layering
#: changes. All but ``second_rescue`` are 100-layer models, exactly as
#: ``jaxgeo.earth.layered_model`` built them until 2026-12-04 (commit 46bbc3a: 32
#: sediment sublayers with S-time-matched velocities, 32 crustal layers graded with
#: γ = 2.5, 30 mantle layers graded with γ = 1.5, 5 reference layers);
#: ``second_rescue`` holds 130-layer models of b41dd8f.
FROZEN_DRAWS = Path(__file__).with_name("data") / "prior_draws.npz"


def frozen_draws(case):
    """``(thickness, vp, vs, rho)`` and the periods (or None) of a frozen regression case.

    Cases: ``steep_sediment``, ``close_periods``, ``second_cell`` (one model each);
    ``step_like`` (3), ``osculating`` (3, with periods), ``count_check`` (2, with periods),
    ``second_rescue`` (4, with periods), ``repair_zoom`` (one, with periods).
    """
    with np.load(FROZEN_DRAWS) as data:
        model = tuple(data[f"{case}/{name}"] for name in ("thickness", "vp", "vs", "rho"))
        periods = data[f"{case}/periods"] if f"{case}/periods" in data else None
    return model, periods
