"""The posterior of the 23-parameter Earth model given one or many stations' data.

    log p(θ | d) = log p(θ) + Σ_kinds Σ_i [ −½ ((d_i − f_i(θ)) / σ_i)² − log σ_i − ½ log 2π ]

with p(θ) the uniform prior of :mod:`jaxgeo.earth` (:func:`jaxgeo.earth.log_prior`,
box ``LOWER … UPPER``), f the simulator's forward model at the station's observation
points (Rayleigh phase and group velocities, P receiver function: the physics of
:func:`jaxgeo.earth.observation_operator`), and σ the observations' own standard
deviations (independent Gaussian errors). Any subset of the three data types can be
used. The samplers move in x = logit coordinates of the box (:mod:`._transform`), with
density ``log p(θ(x) | d) + log|dθ/dx|``.

Batches of stations
-------------------
:class:`StationBatch` stacks stations into arrays with a leading station axis, so one
compiled log-density serves them all under ``vmap``. Stations may differ in periods,
RF times, slowness, Gaussian width, in the number of values of each kind and in the
kinds present: shorter arrays are padded (periods by repeating the last one, RF times
by continuing their uniform grid) and padded or absent values get zero weight, so
each station's likelihood is exactly its own. The phase and group velocities of a
station are computed from one root search on the union of its phase and group
periods (the simulator's data share them, which halves the cost compared with
``observation_operator``). The RF frequency count is static: the largest
:func:`jaxgeo.earth.worst_case_frequency_count` over the batch, so it is valid for
every prior model at every station.

A forward value that is NaN or infinite at an observed point (a failed root search,
an RF the static frequency count cannot resolve) makes the log-likelihood −inf, so
the sampler rejects that model; the NaN never reaches a gradient (double ``where``).
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from .. import earth
from ._transform import BoxTransform

__all__ = ["StationBatch", "log_likelihood_fn", "log_posterior_fn", "predict_fn", "prior_transform"]

KINDS = ("phase", "group", "rf")
_LOG_2PI = math.log(2.0 * math.pi)


def prior_transform() -> BoxTransform:
    """The logit transform of the prior box ``jaxgeo.earth.LOWER … UPPER`` (23 parameters)."""
    return BoxTransform(earth.LOWER, earth.UPPER)


@dataclasses.dataclass(frozen=True, eq=False)
class StationBatch:
    """Observations of G stations stacked for vmapped likelihoods.

    Attributes
    ----------
    arrays : dict of NumPy float64 arrays, leading axis G
        ``periods`` (G, P) unique dispersion periods (s); ``phase_index``,
        ``phase``, ``phase_weight`` (G, n_phase) (index into ``periods``, value km/s,
        weight 1/σ, 0 where padded); the same for ``group``; ``rf_times``,
        ``rf``, ``rf_weight`` (G, n_rf); ``slowness``, ``gauss`` (G,);
        ``log_norm`` (G,) the likelihood's constant −Σ log σ − ½ n log 2π.
    kinds : tuple of str (static)
        Data types present in at least one station.
    n_freq : int (static)
        RF frequency count valid for the whole batch (0 without RF).
    observations : tuple of Observations
        The stations, in order.
    """

    arrays: dict
    kinds: tuple
    n_freq: int
    observations: tuple

    @property
    def n_stations(self) -> int:
        return len(self.observations)

    @classmethod
    def from_observations(cls, observations, *, kinds=None, config: earth.SimulatorConfig | None = None) -> StationBatch:
        """Stack ``observations`` (one :class:`jaxgeo.earth.Observations` or a sequence).

        ``kinds``: use only these data types (default: all present). Raises
        ``ValueError`` naming the station when a station has none of them.
        """
        config = earth.SimulatorConfig() if config is None else config
        if isinstance(observations, earth.Observations):
            observations = [observations]
        observations = list(observations)
        if not observations:
            raise ValueError("observations: give at least one station")
        for i, o in enumerate(observations):
            if not isinstance(o, earth.Observations):
                raise ValueError(f"observations[{i}]: expected jaxgeo.earth.Observations, got {type(o).__name__}")
        if kinds is not None:
            kinds = tuple(kinds)
            unknown = sorted(set(kinds) - set(KINDS))
            if unknown or not kinds:
                raise ValueError(f"kinds: expected a non-empty subset of {KINDS}, got {kinds!r}")
            observations = [o.subset(kinds) if set(o.kinds) - set(kinds) else o for o in observations]
        for i, o in enumerate(observations):
            if not o.kinds:
                raise ValueError(f"observations[{i}] ({o.source}): none of the data types {kinds} is present")
        present = tuple(k for k in KINDS if any(k in o.kinds for o in observations))
        g = len(observations)
        unions = [np.unique(np.concatenate([o.phase_periods, o.group_periods])) for o in observations]
        n_periods = max(u.size for u in unions) if ("phase" in present or "group" in present) else 0
        arrays = {}
        if n_periods:
            periods = np.full((g, n_periods), 10.0)
            for s, u in enumerate(unions):
                if u.size:
                    periods[s, : u.size] = u
                    periods[s, u.size:] = u[-1]
            arrays["periods"] = periods
        for kind in ("phase", "group"):
            if kind not in present:
                continue
            n = max(getattr(o, f"n_{kind}") for o in observations)
            index = np.zeros((g, n), np.int32)
            value = np.ones((g, n))
            weight = np.zeros((g, n))
            for s, o in enumerate(observations):
                k = getattr(o, f"n_{kind}")
                index[s, :k] = np.searchsorted(unions[s], getattr(o, f"{kind}_periods"))
                value[s, :k] = getattr(o, kind)
                weight[s, :k] = 1.0 / getattr(o, f"{kind}_sigma")
            arrays[f"{kind}_index"], arrays[kind], arrays[f"{kind}_weight"] = index, value, weight
        n_freq = 0
        if "rf" in present:
            n = max(o.n_rf for o in observations)
            times = np.zeros((g, n))
            value = np.zeros((g, n))
            weight = np.zeros((g, n))
            slowness = np.full(g, 0.06)
            gauss = np.full(g, 2.5)
            for s, o in enumerate(observations):
                k = o.n_rf
                if k:
                    dt = o.rf_times[1] - o.rf_times[0]
                    times[s] = o.rf_times[0] + dt * np.arange(n)
                    times[s, :k] = o.rf_times
                    value[s, :k] = o.rf
                    weight[s, :k] = 1.0 / o.rf_sigma
                    slowness[s], gauss[s] = o.slowness, o.gauss
                else:
                    times[s] = np.arange(n) / config.rf_sampling
                n_freq = max(n_freq, earth.worst_case_frequency_count(times[s], slowness[s], gauss[s], config.rf_layering))
            arrays.update(rf_times=times, rf=value, rf_weight=weight, slowness=slowness, gauss=gauss)
        log_norm = np.zeros(g)
        for kind in present:
            w = arrays[f"{kind}_weight"]
            log_norm += np.sum(np.where(w > 0, np.log(np.where(w > 0, w, 1.0)) - 0.5 * _LOG_2PI, 0.0), axis=1)
        arrays["log_norm"] = log_norm
        return cls(arrays, present, int(n_freq), tuple(observations))

    def device_arrays(self, dtype) -> dict:
        """``arrays`` as JAX arrays of ``dtype`` (indices stay int32)."""
        return {k: jnp.asarray(v) if v.dtype.kind == "i" else jnp.asarray(v, dtype) for k, v in self.arrays.items()}

    def station(self, arrays: dict, index: int) -> dict:
        """The arrays of one station (no leading axis)."""
        return {k: v[index] for k, v in arrays.items()}


def predict_fn(batch: StationBatch, config: earth.SimulatorConfig | None = None):
    """``f(params (23,), station_arrays) -> {"phase", "group", "rf"}`` of one station.

    Predictions at the station's (padded) observation points, for the batch's kinds.
    """
    from ..earth._simulator import _phase_and_group
    from ..receiver import receiver_function

    config = earth.SimulatorConfig() if config is None else config
    dtype = jnp.dtype(config.dtype)
    kinds, n_freq = batch.kinds, batch.n_freq

    def forward(params, data):
        params = jnp.asarray(params, dtype)
        out = {}
        if "phase" in kinds or "group" in kinds:
            c, u = _phase_and_group(data["periods"], *earth.layered_model(params, config.layering), config)
            if "phase" in kinds:
                out["phase"] = c[data["phase_index"]]
            if "group" in kinds:
                out["group"] = u[data["group_index"]]
        if "rf" in kinds:
            out["rf"] = receiver_function(
                data["rf_times"], *earth.receiver_model(params, config.rf_layering),
                slowness=data["slowness"], gauss=data["gauss"], n_freq=n_freq, validate=False,
            )
        return out

    return forward


def log_likelihood_fn(batch: StationBatch, config: earth.SimulatorConfig | None = None):
    """``loglik(params (23,), station_arrays) -> scalar``: the Gaussian log-likelihood.

    −inf where a prediction at an observed point is not finite.
    """
    forward = predict_fn(batch, config)
    kinds = batch.kinds

    def loglik(params, data):
        predicted = forward(params, data)
        total = data["log_norm"]
        bad = jnp.zeros((), bool)
        for kind in kinds:
            f, d, w = predicted[kind], data[kind], data[f"{kind}_weight"]
            used = w > 0
            ok = jnp.isfinite(f)
            bad = bad | jnp.any(used & ~ok)
            safe = jnp.where(ok & used, f, d)  # double where: no NaN into the gradient
            r = (safe - d) * w
            total = total - 0.5 * jnp.sum(r * r)
        return jnp.where(bad, -jnp.inf, total)

    return loglik


def log_posterior_fn(batch: StationBatch, config: earth.SimulatorConfig | None = None):
    """``logp(x (23,), station_arrays) -> scalar``: the log-posterior in logit coordinates.

    ``log_prior(θ) + log|dθ/dx| + loglik(θ)`` with θ = ``prior_transform().to_bounded(x)``.
    """
    transform = prior_transform()
    loglik = log_likelihood_fn(batch, config)

    def logp(x, data):
        theta = transform.to_bounded(x)
        prior = earth.log_prior(theta) + transform.log_det_jacobian(x)
        value = prior + loglik(theta, data)
        return jnp.where(jnp.isnan(value), -jnp.inf, value)

    return logp
