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
forward, batched_forward
    The simulator's clean forward model of one model, and of a batch (receiver
    functions in cache-sized chunks on the CPU).
Observations, read_observations, write_observations, observation_operator
    One station's observed data (text / npz files) and the forward model at its
    observation points: the input of ``jaxgeo gquery predict`` and ``jaxgeo mcmc run``.
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
from ._observations import (
    ObservationFileError,
    Observations,
    observation_operator,
    observations_from_simulation,
    read_observations,
    write_observations,
)
from ._simulator import (
    SimulatorConfig,
    batched_forward,
    forward,
    rf_frequency_count,
    rf_times,
    simulate,
    worst_case_frequency_count,
)

__all__ = [
    "DEFAULT_LAYERING",
    "LOWER",
    "N_PARAMS",
    "N_TARGET_DEPTHS",
    "PARAM_NAMES",
    "RECEIVER_LAYERING",
    "UPPER",
    "Layering",
    "ObservationFileError",
    "Observations",
    "SimulatorConfig",
    "batched_forward",
    "cubic_bspline_basis",
    "forward",
    "layered_model",
    "log_prior",
    "observation_operator",
    "observations_from_simulation",
    "param_index",
    "read_observations",
    "receiver_model",
    "rf_frequency_count",
    "rf_times",
    "sample_prior",
    "simulate",
    "target_depths",
    "targets",
    "vs_profile",
    "worst_case_frequency_count",
    "write_observations",
]
