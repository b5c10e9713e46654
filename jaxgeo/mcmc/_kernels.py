"""Generic sampler core: adaptive random-walk Metropolis and NUTS on any log-density.

Both samplers are ``(init, step)`` pairs (:class:`Sampler`) over one *group* of
chains (the chains of one station): ``init(key, positions, data)`` and
``step(key, state, data) -> (state, info)``, with ``positions`` of shape
(n_chains, d) and ``logdensity_fn(x, data)`` a scalar log-density of one position
x (d,) given ``data`` (any pytree, e.g. one station's observations; ``None`` for a
plain log-density). Vmap ``init``/``step`` over a leading axis of ``positions``,
``state`` and ``data`` to run many groups (stations) in one call; :func:`run_chains`
does that, in jitted ``lax.scan`` chunks with a progress bar between them.

Transitions are blackjax's: ``blackjax.mcmc.random_walk.build_additive_step`` (a
Gaussian proposal with a dense covariance) and ``blackjax.nuts.build_kernel``
(multinomial NUTS with a dense inverse mass matrix, velocity Verlet). Adaptation
follows Stan's windowed warmup (schedule ``blackjax.adaptation.window_adaptation.
build_schedule``: a fast window, slow windows doubling in length, a final fast
window), shared by the chains of a group:

* the scale ε (the NUTS step size, or the RWM proposal scale) is adapted by
  blackjax's dual averaging (Hoffman & Gelman 2014, §3.2.1) on the chains' *mean*
  acceptance probability, towards 0.8 (NUTS) or 0.234 (RWM; Roberts, Gelman & Gilks
  1997, https://doi.org/10.1214/aoap/1034625254);
* the covariance Σ of the target is estimated at the end of every slow window from
  the draws of all the group's chains in that window (pooled Welford), regularised
  as Stan does: ``n/(n+5) Σ̂ + 10⁻³·5/(n+5) I``. NUTS uses Σ as its inverse mass
  matrix; RWM proposes ``x' = x + ε (2.38/√d) L z`` with ``L Lᵀ = Σ`` and
  z ~ N(0, I), the optimal scaling 2.38²/d of Gelman, Roberts & Gilks (1996) when
  ε = 1 (Haario, Saksman & Tamminen 2001, https://doi.org/10.2307/3318737, adapt
  the same covariance continuously; here it is frozen after warmup).

After the ``n_warmup`` steps, ε (the final window's dual-averaging average) and Σ are
frozen, so the draws that follow form a time-homogeneous Markov chain with the target
as its invariant distribution; only those draws are returned as samples.

Costs: an RWM step costs one log-density evaluation per chain; a NUTS step costs
``num_integration_steps`` (1 to 2^max_tree_depth − 1) evaluations of the log-density
and its gradient. Under ``vmap`` all chains and groups advance in lockstep, so each
NUTS step lasts as long as the longest trajectory among them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Sampler",
    "SamplerState",
    "StepInfo",
    "nuts",
    "run_chains",
    "rwm",
]

SAMPLERS = ("rwm", "nuts")


class Welford(NamedTuple):
    """Pooled running mean and scatter matrix of the draws of one adaptation window."""

    count: jax.Array  # ()
    mean: jax.Array  # (d,)
    scatter: jax.Array  # (d, d): Σ (x − mean)(x − mean)ᵀ


class SamplerState(NamedTuple):
    """State of one group of chains (vmap adds a leading group axis to every field).

    Attributes
    ----------
    chain : blackjax state
        ``RWState`` or ``HMCState`` with a leading chain axis: ``position``
        (n_chains, d), ``logdensity`` (n_chains,) (and ``logdensity_grad``).
    step : int32 ()
        Steps taken (warmup included).
    adaptation : DualAveragingAdaptationState
        blackjax dual-averaging state of log ε.
    covariance, cholesky : (d, d)
        Current estimate Σ of the target's covariance and its Cholesky factor.
    window : Welford
        Draws of the current slow window.
    """

    chain: Any
    step: jax.Array
    adaptation: Any
    covariance: jax.Array
    cholesky: jax.Array
    window: Welford


class StepInfo(NamedTuple):
    """Per-chain record of one transition (leading chain axis (n_chains,))."""

    acceptance_rate: jax.Array  # Metropolis acceptance probability of the proposal
    divergent: jax.Array  # bool; NUTS divergence (always False for RWM)
    n_evaluations: jax.Array  # int32; log-density (and gradient, NUTS) evaluations
    step_size: jax.Array  # ε used (the group's, broadcast to the chains)


@dataclasses.dataclass(frozen=True)
class Sampler:
    """An ``(init, step)`` pair and its settings (see the module docstring).

    ``init(key, positions (n_chains, d), data) -> SamplerState`` (the key is unused by
    the present samplers but kept first, as in every jaxgeo iterative procedure);
    ``step(key, state, data) -> (state, StepInfo)``.
    """

    name: str
    init: Callable
    step: Callable
    n_warmup: int
    target_acceptance: float


def _welford_empty(d, dtype):
    return Welford(jnp.zeros((), dtype), jnp.zeros((d,), dtype), jnp.zeros((d, d), dtype))


def _welford_add(w: Welford, x):
    """Chan et al.'s pairwise update with a batch x (n, d) (all chains' draws)."""
    n = x.shape[0]
    batch_mean = jnp.mean(x, axis=0)
    centred = x - batch_mean[None, :]
    batch_scatter = centred.T @ centred
    total = w.count + n
    delta = batch_mean - w.mean
    mean = w.mean + delta * (n / total)
    scatter = w.scatter + batch_scatter + jnp.outer(delta, delta) * (w.count * n / total)
    return Welford(total, mean, scatter)


def _regularised_covariance(w: Welford):
    """Stan's shrinkage of the window's sample covariance towards 10⁻³ I."""
    d = w.mean.shape[0]
    n = w.count
    sample = w.scatter / jnp.maximum(n - 1.0, 1.0)
    return (n / (n + 5.0)) * sample + 1e-3 * (5.0 / (n + 5.0)) * jnp.eye(d, dtype=sample.dtype)


def _schedule(n_warmup: int):
    """Stan's warmup schedule as two arrays (stage: 0 fast / 1 slow; window end)."""
    from blackjax.adaptation.window_adaptation import build_schedule

    if n_warmup == 0:
        return np.zeros(1, np.int32), np.zeros(1, bool)
    schedule = build_schedule(n_warmup)
    stage = np.array([s for s, _ in schedule], dtype=np.int32)
    end = np.array([e for _, e in schedule], dtype=bool)
    return stage, end


def _adaptive(name, transition, init_chain, logdensity_fn, n_warmup, target, initial_step_size):
    """Wrap a blackjax transition ``transition(key, chain, logdensity, ε, Σ, L)`` with
    the windowed adaptation of the module docstring."""
    from blackjax.adaptation.step_size import dual_averaging_adaptation

    da_init, da_update, da_final = dual_averaging_adaptation(target)
    stage_table, end_table = _schedule(n_warmup)

    def init(key, positions, data=None):
        del key
        positions = jnp.asarray(positions)
        if positions.ndim != 2:
            raise ValueError(f"positions: expected shape (n_chains, d), got {positions.shape}")
        d, dtype = positions.shape[1], positions.dtype
        chain = jax.vmap(lambda x: init_chain(x, lambda y: logdensity_fn(y, data)))(positions)
        eye = jnp.eye(d, dtype=dtype)
        adaptation = da_init(jnp.asarray(initial_step_size, dtype))
        return SamplerState(chain, jnp.zeros((), jnp.int32), adaptation, eye, eye, _welford_empty(d, dtype))

    def step(key, state: SamplerState, data=None):
        dtype = state.covariance.dtype
        warming = state.step < n_warmup
        index = jnp.minimum(state.step, max(n_warmup - 1, 0))
        slow = jnp.asarray(stage_table)[index] == 1
        window_end = jnp.asarray(end_table)[index]
        log_eps = jnp.where(warming, state.adaptation.log_step_size, state.adaptation.log_step_size_avg)
        eps = jnp.exp(log_eps).astype(dtype)
        n_chains = state.chain.position.shape[0]
        keys = jax.random.split(key, n_chains)

        def one(k, chain):
            return transition(k, chain, lambda y: logdensity_fn(y, data), eps, state.covariance, state.cholesky)

        chain, info = jax.vmap(one)(keys, state.chain)
        # Adaptation (its result is discarded after warmup, so sampling uses fixed ε, Σ).
        acceptance = jnp.mean(jnp.where(jnp.isfinite(info.acceptance_rate), info.acceptance_rate, 0.0))
        adaptation = da_update(state.adaptation, acceptance)
        window = jax.tree.map(
            lambda new, old: jnp.where(slow, new, old), _welford_add(state.window, chain.position), state.window
        )
        covariance = jnp.where(window_end, _regularised_covariance(window), state.covariance)
        cholesky = jnp.where(window_end, jnp.linalg.cholesky(covariance), state.cholesky)
        restarted = da_init(da_final(adaptation))
        adaptation = jax.tree.map(lambda r, a: jnp.where(window_end, r, a), restarted, adaptation)
        window = jax.tree.map(lambda e, w: jnp.where(window_end, e, w), _welford_empty(*state.window.mean.shape, dtype), window)

        def keep(new, old):  # dtypes held fixed: dual averaging promotes to float64 under x64
            return jnp.where(warming, new, old).astype(old.dtype)

        adaptation = jax.tree.map(keep, adaptation, state.adaptation)
        new_state = SamplerState(
            chain,
            state.step + 1,
            adaptation,
            keep(covariance, state.covariance),
            keep(cholesky, state.cholesky),
            jax.tree.map(keep, window, state.window),
        )
        info = StepInfo(info.acceptance_rate, info.divergent, info.n_evaluations, jnp.broadcast_to(eps, (n_chains,)))
        return new_state, info

    return Sampler(name, init, step, n_warmup, target)


class _Info(NamedTuple):
    acceptance_rate: jax.Array
    divergent: jax.Array
    n_evaluations: jax.Array


def _check_common(n_warmup, target):
    if not (isinstance(n_warmup, (int, np.integer)) and n_warmup >= 0):
        raise ValueError(f"n_warmup: expected an integer ≥ 0, got {n_warmup!r}")
    if not 0.0 < float(target) < 1.0:
        raise ValueError(f"target_acceptance: expected a value in (0, 1), got {target!r}")


def rwm(logdensity_fn: Callable, *, n_warmup: int, target_acceptance: float = 0.234,
        initial_scale: float = 1.0) -> Sampler:
    """Random-walk Metropolis with an adapted Gaussian proposal (module docstring).

    Parameters
    ----------
    logdensity_fn : callable ``(x (d,), data) -> scalar``
        Log-density of the target (up to a constant); −inf or NaN rejects.
    n_warmup : int (static)
        Adaptation steps; the proposal is frozen afterwards.
    target_acceptance : float
        Acceptance probability the scale ε is tuned to (0.234, optimal for d ≳ 5).
    initial_scale : float
        ε at the start: the first proposals have covariance ε² (2.38²/d) I.

    Returns
    -------
    Sampler
    """
    from blackjax.mcmc import random_walk

    _check_common(n_warmup, target_acceptance)
    kernel = random_walk.build_additive_step()

    def transition(key, chain, logdensity, eps, covariance, cholesky):
        d = chain.position.shape[-1]
        factor = eps * (2.38 / math.sqrt(d)) * cholesky
        chain, info = kernel(key, chain, logdensity, random_walk.normal(factor))
        return chain, _Info(info.acceptance_rate, jnp.zeros((), bool), jnp.ones((), jnp.int32))

    return _adaptive("rwm", transition, random_walk.init, logdensity_fn, int(n_warmup), float(target_acceptance),
                     float(initial_scale))


def nuts(logdensity_fn: Callable, *, n_warmup: int, target_acceptance: float = 0.8, max_tree_depth: int = 6,
         initial_step_size: float = 0.1, divergence_threshold: float = 1000.0) -> Sampler:
    """The No-U-Turn sampler with windowed step-size and dense-metric adaptation.

    Parameters
    ----------
    logdensity_fn : callable ``(x (d,), data) -> scalar``
        Log-density of the target, differentiable in x (``jax.grad``).
    n_warmup : int (static)
        Adaptation steps (Stan's schedule; ε and the metric are frozen afterwards).
    target_acceptance : float
        Target mean acceptance statistic of the step-size adaptation (0.8).
    max_tree_depth : int (static)
        At most 2^max_tree_depth − 1 leapfrog steps (gradient evaluations) per step.
    initial_step_size : float
        Leapfrog step size at the start of warmup.
    divergence_threshold : float
        Energy error (nats) above which a trajectory is called divergent.

    Returns
    -------
    Sampler
    """
    import blackjax
    from blackjax.mcmc import hmc

    _check_common(n_warmup, target_acceptance)
    if not (isinstance(max_tree_depth, (int, np.integer)) and 1 <= max_tree_depth <= 12):
        raise ValueError(f"max_tree_depth: expected an integer in 1 … 12, got {max_tree_depth!r}")
    kernel = blackjax.nuts.build_kernel(divergence_threshold=divergence_threshold)

    def transition(key, chain, logdensity, eps, covariance, cholesky):
        chain, info = kernel(key, chain, logdensity, eps, covariance, max_num_doublings=int(max_tree_depth))
        return chain, _Info(info.acceptance_rate, info.is_divergent, info.num_integration_steps.astype(jnp.int32))

    return _adaptive("nuts", transition, hmc.init, logdensity_fn, int(n_warmup), float(target_acceptance),
                     float(initial_step_size))


# --------------------------------------------------------------------------- driver
@dataclasses.dataclass
class ChainRun:
    """Output of :func:`run_chains` (NumPy arrays; G groups, C chains, N kept draws).

    Attributes
    ----------
    positions : (G, C, N, d)
        Draws after warmup, every ``thin``-th one.
    logdensity : (G, C, N)
        Log-density of the kept draws.
    acceptance_rate, divergent, n_evaluations : (G, C, n_samples)
        Per sampling step (all, not thinned).
    warmup_acceptance, warmup_divergent, warmup_evaluations : (G, C)
        Means / counts over warmup.
    step_size : (G,)
        Frozen ε of each group.
    covariance : (G, d, d)
        Frozen Σ of each group.
    seconds, compile_seconds : float
        Run time (compilation excluded) and compilation time of the chunk function.
    n_steps : int
        Warmup plus sampling steps taken.
    """

    positions: np.ndarray
    logdensity: np.ndarray
    acceptance_rate: np.ndarray
    divergent: np.ndarray
    n_evaluations: np.ndarray
    warmup_acceptance: np.ndarray
    warmup_divergent: np.ndarray
    warmup_evaluations: np.ndarray
    step_size: np.ndarray
    covariance: np.ndarray
    seconds: float
    compile_seconds: float
    n_steps: int
    state: Any = None


def choose_chunk(n_warmup: int, n_samples: int, target: int) -> int:
    """Largest divisor of gcd(n_warmup, n_samples) not above ``target`` (one compiled chunk
    length serves warmup and sampling)."""
    g = math.gcd(int(n_warmup), int(n_samples))
    target = max(1, min(int(target), g))
    return max(k for k in range(1, target + 1) if g % k == 0)


def run_chains(key, sampler: Sampler, positions, data=None, *, n_samples: int, thin: int = 1, chunk: int = 50,
               progress: bool = True, label: str = "MCMC", initializer: Callable | None = None) -> ChainRun:
    """Run ``sampler`` on G groups of C chains: warmup, then ``n_samples`` kept steps.

    Parameters
    ----------
    key : jax.random key
    sampler : Sampler
        From :func:`rwm` or :func:`nuts` (its ``n_warmup`` sets the warmup length).
    positions : array (G, C, d)
        Initial positions (sampler coordinates); with ``initializer``, only its shape
        (G, C) and dtype are used.
    data : pytree with leading axis G, or None
        Passed to the log-density of each group.
    n_samples : int
        Sampling steps after warmup (all enter the diagnostics; every ``thin``-th is kept).
    thin : int
        Keep every ``thin``-th draw.
    chunk : int
        Steps per compiled ``lax.scan`` call, reduced to a divisor of
        gcd(n_warmup, n_samples) so that one compiled function serves every call; the
        progress bar advances between calls.
    progress : bool
        Show a ``rich`` progress bar (rate, ETA, acceptance, divergences).
    initializer : callable ``(key, data_g) -> positions (C, d)``, optional
        Computes each group's initial positions in the same compiled call as the
        sampler's ``init`` (one compilation of the log-density instead of two).

    Returns
    -------
    ChainRun
    """
    n_warmup = sampler.n_warmup
    if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 2):
        raise ValueError(f"n_samples: expected an integer ≥ 2, got {n_samples!r}")
    if not (isinstance(thin, (int, np.integer)) and 1 <= thin <= n_samples):
        raise ValueError(f"thin: expected an integer in 1 … n_samples = {n_samples}, got {thin!r}")
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"chunk: expected an integer ≥ 1, got {chunk!r}")
    positions = jnp.asarray(positions)
    if positions.ndim != 3:
        raise ValueError(f"positions: expected shape (n_groups, n_chains, d), got {positions.shape}")
    if initializer is None and not bool(jnp.all(jnp.isfinite(positions))):
        raise ValueError("positions: every initial position must be finite")
    chunk = choose_chunk(n_warmup, n_samples, chunk) if n_warmup else choose_chunk(n_samples, n_samples, chunk)
    n_groups = positions.shape[0]
    key_init, key_run = jax.random.split(key)
    axis = 0 if data is not None else None

    def start(k, x, d):
        if initializer is not None:
            k, k_positions = jax.random.split(k)
            x = initializer(k_positions, d).astype(x.dtype)
        return sampler.init(k, x, d)

    state = jax.jit(jax.vmap(start, in_axes=(0, 0, axis)))(jax.random.split(key_init, n_groups), positions, data)

    def one_step(carry, k):
        state = carry
        state, info = jax.vmap(sampler.step, in_axes=(0, 0, 0 if data is not None else None))(
            jax.random.split(k, n_groups), state, data)
        return state, (state.chain.position, state.chain.logdensity, info)

    @jax.jit
    def run_chunk(k, state, data):
        return jax.lax.scan(one_step, state, jax.random.split(k, chunk))

    t0 = time.perf_counter()
    compiled = run_chunk.lower(key_run, state, data).compile()
    compile_seconds = time.perf_counter() - t0
    n_chunks_warm, n_chunks_sample = n_warmup // chunk, n_samples // chunk
    keys = jax.random.split(key_run, n_chunks_warm + n_chunks_sample)
    bar = _Progress(n_warmup, n_samples, enabled=progress, label=f"{label} {sampler.name}")
    warm = {"acc": [], "div": [], "ev": []}
    kept = {"x": [], "ld": [], "acc": [], "div": [], "ev": []}
    t0 = time.perf_counter()
    try:
        for i in range(n_chunks_warm + n_chunks_sample):
            state, (x, ld, info) = compiled(keys[i], state, data)
            acc, div, ev = (np.asarray(a) for a in (info.acceptance_rate, info.divergent, info.n_evaluations))
            if i < n_chunks_warm:
                for name, value in (("acc", acc), ("div", div), ("ev", ev)):
                    warm[name].append(value)
            else:
                for name, value in (("x", np.asarray(x)), ("ld", np.asarray(ld)), ("acc", acc), ("div", div), ("ev", ev)):
                    kept[name].append(value)
            bar.update((i + 1) * chunk, float(np.nanmean(acc)), int(np.sum(div)), float(np.mean(ev)))
        jax.block_until_ready(state)
        seconds = time.perf_counter() - t0
    finally:
        bar.close()

    def stacked(parts):  # list of (chunk, G, C, ...) → (G, C, steps, ...)
        return np.moveaxis(np.concatenate(parts, axis=0), 0, 2)

    def warm_stat(name, reduce):
        if not warm[name]:
            return np.full(positions.shape[:2], np.nan)
        return reduce(stacked(warm[name]).astype(float), axis=2)

    positions_kept = stacked(kept["x"])[:, :, ::thin]
    return ChainRun(
        positions=positions_kept,
        logdensity=stacked(kept["ld"])[:, :, ::thin],
        acceptance_rate=stacked(kept["acc"]),
        divergent=stacked(kept["div"]),
        n_evaluations=stacked(kept["ev"]),
        warmup_acceptance=warm_stat("acc", np.nanmean),
        warmup_divergent=warm_stat("div", np.sum),
        warmup_evaluations=warm_stat("ev", np.mean),
        step_size=np.exp(np.asarray(state.adaptation.log_step_size_avg)),
        covariance=np.asarray(state.covariance),
        seconds=seconds,
        compile_seconds=compile_seconds,
        n_steps=n_warmup + n_samples,
        state=state,
    )


class _Progress:
    """A rich progress bar over warmup + sampling steps (silent when disabled)."""

    def __init__(self, n_warmup: int, n_samples: int, *, enabled: bool, label: str):
        self.enabled, self.n_warmup = enabled, n_warmup
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
        )
        self.progress.start()
        self.task = self.progress.add_task("mcmc", total=n_warmup + n_samples, status="warmup")
        self.t0 = time.perf_counter()

    def update(self, step: int, acceptance: float, divergent: int, evaluations: float):
        if not self.enabled:
            return
        rate = step / max(time.perf_counter() - self.t0, 1e-9)
        phase = "warmup" if step <= self.n_warmup else "sampling"
        status = f"{phase}  {rate:.2f} steps/s  acc {acceptance:.2f}  evals/step {evaluations:.0f}  div {divergent}"
        self.progress.update(self.task, completed=step, status=status)

    def close(self):
        if self.enabled:
            self.progress.stop()
