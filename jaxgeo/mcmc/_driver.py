"""The convenience driver :func:`sample` and its :class:`PosteriorResult`.

``sample(key, observations)`` samples the posterior of :mod:`._posterior` for one
station or a batch (all stations and chains vmapped in one compiled call per chunk of
steps), computes the diagnostics of :mod:`._diagnostics`, warns where chains have not
converged, and returns the draws as physical parameters (23 per draw, order
``jaxgeo.earth.PARAM_NAMES``), with summaries in the target representation of
G-Query (:func:`jaxgeo.earth.targets`).

Initial positions: each chain starts at the best (highest posterior) of ``n_init``
draws from the prior, so chains start dispersed but not in the prior's far tails.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import earth
from . import _diagnostics as D
from ._kernels import SAMPLERS, ChainRun, choose_chunk, nuts, run_chains, rwm
from ._posterior import StationBatch, log_posterior_fn, predict_fn, prior_transform

__all__ = ["DEFAULTS", "PosteriorResult", "initial_positions", "sample"]

#: Default steps and chunk length per sampler (see the module docstring of
#: ``benchmarks/gquery_vs_mcmc.py`` for measured costs).
DEFAULTS = {
    "rwm": {"n_warmup": 2000, "n_samples": 4000, "chunk": 50},
    "nuts": {"n_warmup": 300, "n_samples": 300, "chunk": 5},
}
TARGET_KEYS = ("vs", "crust_vp_vs", "sediment_thickness", "crust_thickness")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer ≥ {minimum}, got {value!r}")
    return int(value)


def initial_positions(batch: StationBatch, n_chains: int, n_init: int, config=None):
    """``init(key, station_arrays) -> x (n_chains, 23)``: per chain, the best of ``n_init``
    prior draws (highest posterior), in sampler coordinates (vmap over stations)."""
    config = earth.SimulatorConfig() if config is None else config
    dtype = jnp.dtype(config.dtype)
    logp = log_posterior_fn(batch, config)
    transform = prior_transform()
    lower, upper = jnp.asarray(earth.LOWER, dtype), jnp.asarray(earth.UPPER, dtype)
    margin = 1e-4 * (upper - lower)  # strictly inside the box (float32 draws can land on a bound)

    def init(key, data):
        theta = earth.sample_prior(key, n_chains * n_init, dtype)
        theta = jnp.clip(theta, (lower + margin)[None, :], (upper - margin)[None, :])
        x = transform.to_unbounded(theta)
        values = jax.vmap(logp, in_axes=(0, None))(x, data)
        values = jnp.where(jnp.isfinite(values), values, -jnp.inf).reshape(n_chains, n_init)
        best = jnp.argmax(values, axis=-1)
        return x.reshape(n_chains, n_init, -1)[jnp.arange(n_chains), best]

    return init


def sample(key, observations, *, sampler: str = "nuts", n_chains: int = 4, n_warmup: int | None = None,
           n_samples: int | None = None, thin: int = 1, kinds=None, config: earth.SimulatorConfig | None = None,
           n_init: int = 32, max_tree_depth: int = 6, chunk: int | None = None, progress: bool = True,
           warn: bool = True) -> PosteriorResult:
    """Sample the posterior of the 23 Earth-model parameters at one or many stations.

    Parameters
    ----------
    key : jax.random key
    observations : jaxgeo.earth.Observations or sequence of them
        One station, or a batch (vmapped together; results get a leading station axis).
    sampler : {"nuts", "rwm"}
        NUTS with exact gradients, or random-walk Metropolis with adapted covariance.
    n_chains : int
        Chains per station (≥ 2 for R̂).
    n_warmup, n_samples : int
        Adaptation steps (discarded) and sampling steps (default ``DEFAULTS[sampler]``).
    thin : int
        Keep every ``thin``-th draw in ``samples`` (diagnostics and summaries use all).
    kinds : sequence of {"phase", "group", "rf"}, optional
        Data types to use (default: all present).
    config : jaxgeo.earth.SimulatorConfig
        Forward-model settings and dtype (``"float64"`` needs ``jax_enable_x64``).
    n_init : int
        Prior draws per chain among which the start is the most probable.
    max_tree_depth : int
        NUTS: at most 2^max_tree_depth − 1 gradient evaluations per step.
    chunk : int, optional
        Steps per compiled call (progress between calls).
    progress : bool
        Show a progress bar.
    warn : bool
        ``warnings.warn`` where R̂ > 1.05 or bulk ESS < 100.

    Returns
    -------
    PosteriorResult
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler: expected one of {SAMPLERS}, got {sampler!r}")
    defaults = DEFAULTS[sampler]
    n_chains = _check_int("n_chains", n_chains, 2)
    n_warmup = _check_int("n_warmup", defaults["n_warmup"] if n_warmup is None else n_warmup, 0)
    n_samples = _check_int("n_samples", defaults["n_samples"] if n_samples is None else n_samples, 4)
    thin = _check_int("thin", thin, 1)
    if thin > n_samples:
        raise ValueError(f"thin: expected at most n_samples = {n_samples}, got {thin}")
    n_init = _check_int("n_init", n_init, 1)
    chunk = _check_int("chunk", defaults["chunk"] if chunk is None else chunk, 1)
    config = earth.SimulatorConfig() if config is None else config
    if not isinstance(config, earth.SimulatorConfig):
        raise ValueError(f"config: expected a jaxgeo.earth.SimulatorConfig, got {type(config).__name__}")
    if config.dtype not in ("float32", "float64"):
        raise ValueError(f"config.dtype: expected 'float32' or 'float64', got {config.dtype!r}")
    if config.dtype == "float64" and not jax.config.read("jax_enable_x64"):
        raise ValueError("config.dtype: 'float64' needs jax.config.update('jax_enable_x64', True) first")
    single = isinstance(observations, earth.Observations)
    batch = StationBatch.from_observations(observations, kinds=kinds, config=config)
    logp = log_posterior_fn(batch, config)
    if sampler == "rwm":
        kernel = rwm(logp, n_warmup=n_warmup)
    else:
        kernel = nuts(logp, n_warmup=n_warmup, max_tree_depth=max_tree_depth)
    key_run = key
    dtype = jnp.dtype(config.dtype)
    x0 = jnp.zeros((batch.n_stations, n_chains, earth.N_PARAMS), dtype)
    run = run_chains(key_run, kernel, x0, batch.device_arrays(dtype), n_samples=n_samples, thin=1,
                     initializer=initial_positions(batch, n_chains, n_init, config),
                     chunk=choose_chunk(n_warmup, n_samples, chunk) if n_warmup else chunk, progress=progress,
                     label=f"{batch.n_stations} station(s) × {n_chains} chains")
    return PosteriorResult.from_run(run, batch, sampler=sampler, config=config, single=single, warn=warn,
                                    settings={"sampler": sampler, "n_chains": n_chains, "n_warmup": n_warmup,
                                              "n_samples": n_samples, "thin": thin, "n_init": n_init,
                                              "max_tree_depth": max_tree_depth if sampler == "nuts" else None,
                                              "dtype": config.dtype, "kinds": list(batch.kinds)})


@dataclasses.dataclass
class PosteriorResult:
    """Posterior draws and diagnostics (NumPy). With a single station, arrays have no
    leading station axis (shapes below drop ``S``).

    Attributes
    ----------
    samples : (S, chains, draws, 23)
        Thinned draws of the physical parameters (order ``jaxgeo.earth.PARAM_NAMES``).
    diagnostics : dict
        ``rhat``, ``ess_bulk`` (S, 23); ``acceptance_rate`` (S, chains) mean over the
        sampling steps; ``divergences`` (S, chains) count (NUTS); ``evaluations_per_step``
        (S, chains) mean log-density evaluations (NUTS: gradient evaluations) per
        sampling step; ``step_size`` (S,); ``warmup_acceptance_rate``,
        ``warmup_divergences`` (S, chains); ``seconds``, ``compile_seconds``,
        ``seconds_per_step`` (floats); ``warnings`` (list of str).
    settings : dict
        The sampler settings.
    targets_summary : dict
        Summaries of all (unthinned) draws in the target representation (:meth:`summary`).
    single : bool
        One station (no station axis).
    sources : tuple of str
        The stations' sources (file names).
    """

    samples: np.ndarray
    diagnostics: dict
    settings: dict
    targets_summary: dict
    single: bool
    sources: tuple
    batch: StationBatch | None = None
    config: earth.SimulatorConfig | None = None

    @classmethod
    def from_run(cls, run: ChainRun, batch: StationBatch, *, sampler, config, single, warn, settings):
        transform = prior_transform()
        thin = settings["thin"]
        theta_all = _to_bounded(transform, run.positions)
        r = D.rhat(theta_all)
        e = D.ess_bulk(theta_all)
        sources = tuple(o.source for o in batch.observations)
        messages = D.convergence_warnings(r, e, earth.PARAM_NAMES, groups=sources) if warn else []
        diagnostics = {
            "rhat": r,
            "ess_bulk": e,
            "acceptance_rate": np.nanmean(run.acceptance_rate, axis=-1),
            "divergences": np.sum(run.divergent, axis=-1).astype(np.int64),
            "evaluations_per_step": np.mean(run.n_evaluations, axis=-1),
            "step_size": run.step_size,
            "warmup_acceptance_rate": run.warmup_acceptance,
            "warmup_divergences": run.warmup_divergent,
            "seconds": run.seconds,
            "compile_seconds": run.compile_seconds,
            "seconds_per_step": run.seconds / max(run.n_steps, 1),
            "warnings": messages,
        }
        summary = _summarise_targets(theta_all)
        samples = theta_all[:, :, ::thin]
        if single:
            diagnostics = {k: (v[0] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == 1 else v)
                           for k, v in diagnostics.items()}
            samples = samples[0]
            summary = {k: (v if k == "depth" else v[0]) for k, v in summary.items()}
        return cls(samples, diagnostics, settings, summary, single, sources, batch, config)

    def summary(self) -> dict:
        """Posterior summaries in the target representation of :func:`jaxgeo.earth.targets`.

        Returns ``{"depth": (161,) km}`` and, for each of ``vs`` ((S,) 161 km/s),
        ``crust_vp_vs``, ``sediment_thickness``, ``crust_thickness`` ((S,)), the keys
        ``<name>_mean``, ``<name>_std``, ``<name>_p05``, ``<name>_p50``, ``<name>_p95``
        over all chains' draws after warmup.
        """
        return dict(self.targets_summary)

    def predicted(self, params) -> dict:
        """Predicted data of parameter vectors (..., 23) at each station's points.

        Returns ``{kind: (S, ..., n_kind)}`` (no S with one station), unpadded per station
        only when S = 1 (padded values are not meaningful).
        """
        if self.batch is None:
            raise ValueError("this result holds no observations (it was loaded from a file)")
        config = self.config or earth.SimulatorConfig()
        dtype = jnp.dtype(config.dtype)
        forward = jax.jit(predict_fn(self.batch, config))
        arrays = self.batch.device_arrays(dtype)
        params = np.asarray(params)
        if self.single:
            params = params[None]
        out = {}
        for s in range(self.batch.n_stations):
            p = jnp.asarray(params[s], dtype)
            flat = p.reshape(-1, p.shape[-1])
            data = self.batch.station(arrays, s)
            values = jax.vmap(lambda q, data=data: forward(q, data))(flat)
            for k, v in values.items():
                out.setdefault(k, []).append(np.asarray(v).reshape(p.shape[:-1] + v.shape[-1:]))
        out = {k: np.stack(v) for k, v in out.items()}
        if self.single:
            o = self.batch.observations[0]
            out = {k: v[0][..., : getattr(o, f"n_{k}")] for k, v in out.items()}
        return out

    def save(self, path) -> Path:
        """Write ``samples``, summaries, diagnostics and settings to an ``.npz`` file."""
        path = Path(path)
        arrays = {"samples": self.samples, "param_names": np.array(earth.PARAM_NAMES)}
        arrays.update({f"summary_{k}": np.asarray(v) for k, v in self.targets_summary.items()})
        for k, v in self.diagnostics.items():
            if k == "warnings":
                arrays["diagnostics_warnings"] = np.array(v, dtype=str)
            else:
                arrays[f"diagnostics_{k}"] = np.asarray(v)
        arrays["settings"] = np.array(json.dumps(self.settings))
        arrays["sources"] = np.array(self.sources, dtype=str)
        np.savez(path, **arrays)
        return path

    def diagnostics_json(self) -> dict:
        """The diagnostics as plain JSON-serialisable values, with parameter names."""
        out = {"settings": self.settings, "sources": list(self.sources), "parameters": list(earth.PARAM_NAMES)}
        for k, v in self.diagnostics.items():
            out[k] = np.asarray(v).tolist() if isinstance(v, np.ndarray) else v
        r = np.atleast_2d(self.diagnostics["rhat"])
        e = np.atleast_2d(self.diagnostics["ess_bulk"])
        out["max_rhat"] = float(np.nanmax(r))
        out["min_ess_bulk"] = float(np.nanmin(e))
        out["converged"] = bool(np.nanmax(r) <= D.RHAT_LIMIT and np.nanmin(e) >= D.ESS_LIMIT)
        return out


def _to_bounded(transform, x):
    return np.asarray(transform.to_bounded(jnp.asarray(x)), dtype=np.float64)


def _summarise_targets(theta):
    """theta (S, C, N, 23) → flat summary dict of the targets (pooled chains and draws)."""
    out = {}
    per_station = []
    for station in theta:  # one station at a time: Vs of every draw is (C, N, 161)
        t = earth.targets(jnp.asarray(station))
        out["depth"] = np.asarray(t["depth"], dtype=np.float64)
        per_station.append({name: D.summarise(np.asarray(t[name]), axis=(0, 1)) for name in TARGET_KEYS})
    for name in TARGET_KEYS:
        for stat in D.STATISTICS:
            out[f"{name}_{stat}"] = np.stack([p[name][stat] for p in per_station])
    return out
