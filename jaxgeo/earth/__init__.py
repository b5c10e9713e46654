"""Earth-model prior, layered-model builder and simulator of joint dispersion + RF data.

The data engine of the joint surface-wave dispersion + receiver-function inversion
(G-Query: Wang et al., JGR: Machine Learning and Computation 2025,
https://doi.org/10.1029/2024JH000432) and of its MCMC baseline: both use these pure
functions, on the flat parameter array of shape (..., 23) (order ``PARAM_NAMES``).

Public API
----------
PARAM_NAMES, LOWER, UPPER
    Parameter names and bounds of the 23-parameter continental model (:mod:`._prior`).
sample_prior, log_prior
    Uniform prior within the bounds.
layered_model, receiver_model, Layering
    Fixed-shape layered model (thickness, vp, vs, rho) of parameters.
vs_profile, targets, target_depths
    The continuous Vs profile; inversion targets (Vs at 161 depths, κ, ST, CT).
simulate, SimulatorConfig
    One jit-compiled function drawing models and their noisy Rayleigh phase and group
    velocities and P receiver functions.
"""

from ._bspline import cubic_bspline_basis
from ._model import (
    DEFAULT_LAYERING,
    N_TARGET_DEPTHS,
    RECEIVER_LAYERING,
    Layering,
    layered_model,
    receiver_model,
    target_depths,
    targets,
    vs_profile,
)
from ._prior import (
    LOWER,
    N_PARAMS,
    PARAM_NAMES,
    UPPER,
    log_prior,
    param_index,
    sample_prior,
)
from ._simulator import SimulatorConfig, forward, rf_frequency_count, rf_times, simulate

__all__ = [
    "DEFAULT_LAYERING",
    "LOWER",
    "N_PARAMS",
    "N_TARGET_DEPTHS",
    "PARAM_NAMES",
    "RECEIVER_LAYERING",
    "UPPER",
    "Layering",
    "SimulatorConfig",
    "cubic_bspline_basis",
    "forward",
    "layered_model",
    "log_prior",
    "param_index",
    "receiver_model",
    "rf_frequency_count",
    "rf_times",
    "sample_prior",
    "simulate",
    "target_depths",
    "targets",
    "vs_profile",
]
