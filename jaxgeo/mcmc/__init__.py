"""MCMC baseline: the posterior of the 23-parameter Earth model given joint data.

The Bayesian reference for G-Query (Wang et al. 2025, https://doi.org/10.1029/2024JH000432):
the posterior of the continental model of :mod:`jaxgeo.earth` (uniform prior on the box
``LOWER … UPPER``) given a station's Rayleigh phase and group velocities and P receiver
function (any subset) with independent Gaussian errors of the observations' σ
(:mod:`._posterior`), sampled in logit coordinates of the box (:mod:`._transform`) by
blackjax random-walk Metropolis with an adapted, then frozen, proposal covariance or by
NUTS with jaxgeo's exact gradients (:mod:`._kernels`), many chains per station and many
stations per compiled call. Diagnostics: rank-normalised split R̂, bulk ESS, acceptance,
divergences (:mod:`._diagnostics`); summaries in G-Query's target representation.

Cost (float32, CPU; measured by ``benchmarks/gquery_vs_mcmc.py --probe``): one RWM step
is one forward evaluation per chain; one NUTS step is ``evaluations_per_step`` (1 to
2^max_tree_depth − 1) forward + gradient evaluations, each ~2–3× a forward. The figures
are in benchmarks/README.md (section "G-Query against MCMC").

Public API
----------
sample, PosteriorResult, DEFAULTS
    The driver: ``sample(key, observations_or_list, sampler="nuts"|"rwm", ...)``.
rwm, nuts, Sampler, SamplerState, StepInfo, run_chains, ChainRun
    The generic core on any log-density ``f(x, data)``: ``(init, step)`` pairs with the
    key first, and the chunked, vmapped driver with a progress bar.
StationBatch, log_likelihood_fn, log_posterior_fn, predict_fn, prior_transform, BoxTransform
    The posterior of stations' data (batched, padded) and the logit transform.
rhat, ess_bulk, convergence_warnings, summarise
    Diagnostics (blackjax's Vehtari et al. 2021 estimators) and summaries.

Command line: ``jaxgeo mcmc run --input FILE --out DIR`` (:mod:`._cli`).
"""

from ._diagnostics import convergence_warnings, ess_bulk, rhat, summarise
from ._driver import DEFAULTS, PosteriorResult, initial_positions, sample
from ._kernels import ChainRun, Sampler, SamplerState, StepInfo, nuts, run_chains, rwm
from ._posterior import (
    StationBatch,
    log_likelihood_fn,
    log_posterior_fn,
    predict_fn,
    prior_transform,
)
from ._transform import BoxTransform

__all__ = [
    "DEFAULTS",
    "BoxTransform",
    "ChainRun",
    "PosteriorResult",
    "Sampler",
    "SamplerState",
    "StationBatch",
    "StepInfo",
    "convergence_warnings",
    "ess_bulk",
    "initial_positions",
    "log_likelihood_fn",
    "log_posterior_fn",
    "nuts",
    "predict_fn",
    "prior_transform",
    "rhat",
    "run_chains",
    "rwm",
    "sample",
    "summarise",
]
