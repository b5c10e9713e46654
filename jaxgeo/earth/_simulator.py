"""On-device simulator of joint Rayleigh-dispersion + P receiver-function samples.

One jit-compiled function, :func:`simulate`, draws ``n`` models from the prior and
returns, for each, noisy and clean Rayleigh phase and group velocities at random
periods, a noisy and clean P receiver function for a random slowness and Gaussian
width, the noise standard deviations, the parameters and the targets. No host loops
and no NumPy inside: everything after tracing runs in XLA on the device.

Forward model
-------------
* Dispersion: fundamental-mode Rayleigh phase velocity ``c`` of the layered model
  (:func:`jaxgeo.earth.layered_model`) with the CPS surf96 earth-flattening correction
  (``spherical=True``), and group velocity ``U = c / (1 + (T/c) dc/dT)`` from the same
  root: ``dc/dT`` is the forward-mode (implicit) derivative of the phase-velocity root
  with respect to period, so phase and group cost one root search.
  Periods: ``n_periods`` per sample, log-uniform on ``period_range``, sorted; the
  group velocities are at the same periods (``separate_group_periods=False``) or at
  their own draw.
* Receiver function: :func:`jaxgeo.receiver.receiver_function` on the truncated model
  (:func:`jaxgeo.earth.receiver_model`, its own layering), times 0 … ``rf_duration`` s every
  ``1/rf_sampling`` s (121 samples by default), slowness uniform on
  ``slowness_range`` (s/km), Gaussian parameter a uniform on ``gauss_range`` (1/s;
  default 1.5–3.0, so 2.5 is inside). Amplitude convention of CONVENTIONS.md: RF in
  1/s with a unit-area Gaussian (the direct-P pulse peaks at ``(U_R/U_Z) a/√π``, about
  0.3–0.6 1/s here).

Noise
-----
Independent zero-mean Gaussian noise, per value: phase ``σ = phase_noise · c``
(2 %), group ``σ = group_noise · U`` (4 %), RF ``σ = rf_noise`` (0.02 1/s, white,
every sample). The σ used is returned with every value. Resulting SNRs
(``10 log10(Σ clean² / Σ noise²)`` per sample, measured by ``benchmarks/simulate.py``
on 1,024 samples): phase 34.0 dB median (by construction 20 log10(1/0.02)), group
28.1 dB, RF 16.2 dB (5–95 %: 11.7–21.1 dB; it grows with a and with the RF's amplitude).

Forward failures
----------------
A forward failure is any NaN or infinite value among a sample's phase, group or RF
values (e.g. a root the search cannot bracket). The simulator computes
``n + spare`` candidates (``spare = max(min_spare, ceil(oversample · n))``), keeps the
first ``n`` valid ones in draw order with a static-shape gather (stable ``argsort`` of
the failure mask), and returns ``n_failed`` (failed candidates) and ``valid`` (False
only where fewer than ``n`` candidates were valid; such rows hold a failed candidate
and must be masked). Results are deterministic given the key, ``n`` and the config.
Measured rate (``benchmarks/simulate.py --failure-batches 4``, float32, default
layerings): 3 failures in 5,241 candidates (0.057 %; 2026-12-04, 22:07 and 22:33 UTC,
130-layer dispersion layering; 4 at 19:28 with the count and repair before, 3 with the
100 layers before, 0 on 2026-12-02, when the exact mode-count check did not yet turn
wrong roots into NaN).

Batching: dispersion is vmapped over the batch; receiver functions are mapped in chunks
of ``rf_batch_size`` models (:func:`batched_forward`), which on a CPU keeps the
propagator's working set in cache.

Known limitation inherited from :func:`jaxgeo.dispersion.phase_velocity`: its
fixed-grid root search can return a higher mode instead of the fundamental where two
roots are closer than a grid cell. On prior draws this happened on 3 of 98 (short periods,
crustal low-velocity zones or slow sediments) before the fundamental's tracking points
were made uniform in log c and the continuation slope stopped using two close periods
(2026-12-02); since then on none of 698 draws checked against disba (600 in float64, 400
of them also in float32, and the simulator test's 98 in float32). Such values are
finite, so they would not be counted as failures. ``n_grid`` is a config option (cost
is linear in it).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import dispersion as _dispersion
from ..receiver import frequency_count, receiver_function
from ..parallel import entry_point_jit, split_batch
from . import _prior as P
from ._model import (
    DEFAULT_LAYERING,
    RECEIVER_LAYERING,
    Layering,
    layered_model,
    receiver_model,
    targets,
)
from ._relations import MANTLE_VP_VS, brocher_vp_from_vs

__all__ = [
    "SimulatorConfig",
    "forward",
    "batched_forward",
    "rf_frequency_count",
    "rf_times",
    "simulate",
    "worst_case_frequency_count",
]


@dataclasses.dataclass(frozen=True)
class SimulatorConfig:
    """Options of :func:`simulate` (frozen and hashable: static under ``jit``).

    Attributes
    ----------
    n_periods : int
        Periods per sample (60).
    period_range : (float, float)
        Period bounds (s) of the log-uniform draw (2, 160).
    separate_group_periods : bool
        Draw the group-velocity periods independently of the phase ones (costs a
        second root search per sample).
    spherical : bool
        Apply the earth-flattening correction (True).
    rf_duration, rf_sampling : float
        RF window 0 … ``rf_duration`` s (12) sampled at ``rf_sampling`` Hz (10).
    slowness_range : (float, float)
        Ray parameter bounds (s/km), uniform draw (0.04, 0.08).
    gauss_range : (float, float)
        Gaussian parameter a bounds (1/s), uniform draw (1.5, 3.0).
    phase_noise, group_noise : float
        Relative noise standard deviations (0.02, 0.04).
    rf_noise : float
        Absolute RF noise standard deviation (0.02 1/s).
    dtype : str
        ``"float32"`` or ``"float64"``.
    layering, rf_layering : Layering
        Discretisation of the model for dispersion and for receiver functions
        (:class:`jaxgeo.earth.Layering`; see ``jaxgeo.earth._model`` for why they differ).
    n_grid : int
        Phase-velocity search grid of :func:`jaxgeo.dispersion.phase_velocity`.
    oversample, min_spare : float, int
        Spare candidates drawn to replace forward failures.
    rf_batch_size : int or None
        Models per chunk of the receiver-function synthesis (``jax.lax.map`` with
        ``batch_size``): on a CPU a chunk of 32 models keeps the propagator's working
        set in cache and runs 1.4–1.6× faster (float32) than one ``vmap`` over the whole batch. 0
        vmaps the whole batch at once (best on a GPU); None (default) picks 32 on the
        CPU backend and 0 elsewhere.
    devices : int or None
        Devices the batch is split over (:func:`jaxgeo.parallel.split_batch`): None
        (default) uses every local device of the default backend, an int k the first k.
        On a CPU JAX shows one device unless :func:`jaxgeo.parallel.use_cpu_cores` ran
        first (the benchmark scripts call it; the ``jaxgeo`` command-line tool does
        not); one device per core measured
        1.5× faster on 2 cores (benchmarks/README.md). The draws do not depend on the
        split; float32 velocities agree to the dispersion operator's tolerances (1e-4
        phase, 1e-3 group; XLA vectorises a smaller shard differently, so not bitwise).
    """

    n_periods: int = 60
    period_range: tuple = (2.0, 160.0)
    separate_group_periods: bool = False
    spherical: bool = True
    rf_duration: float = 12.0
    rf_sampling: float = 10.0
    slowness_range: tuple = (0.04, 0.08)
    gauss_range: tuple = (1.5, 3.0)
    phase_noise: float = 0.02
    group_noise: float = 0.04
    rf_noise: float = 0.02
    dtype: str = "float32"
    layering: Layering = DEFAULT_LAYERING
    rf_layering: Layering = RECEIVER_LAYERING
    n_grid: int = 96
    oversample: float = 0.01
    min_spare: int = 2
    rf_batch_size: int | None = None
    devices: int | None = None

    def __post_init__(self):
        size = self.rf_batch_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValueError(f"argument 'rf_batch_size' must be None or an integer >= 0, got {size!r}")
        devices = self.devices
        if devices is not None and (isinstance(devices, bool) or not isinstance(devices, int) or devices < 1):
            raise ValueError(f"argument 'devices' must be None or an integer >= 1, got {devices!r}")

    @property
    def n_times(self) -> int:
        return round(self.rf_duration * self.rf_sampling) + 1

    def spare(self, n: int) -> int:
        return max(int(self.min_spare), math.ceil(self.oversample * n))


def rf_times(config: SimulatorConfig):
    """RF sample times (s), shape (n_times,), in the config's dtype."""
    return jnp.arange(config.n_times, dtype=config.dtype) / config.rf_sampling


@functools.cache
def rf_frequency_count(config: SimulatorConfig) -> int:
    """Static frequency count of the RF synthesis, valid for every model of the prior.

    :func:`worst_case_frequency_count` for the config's RF window, its largest
    slowness and its largest Gaussian parameter.
    """
    times = np.arange(config.n_times) / config.rf_sampling
    return worst_case_frequency_count(
        times, max(config.slowness_range), max(config.gauss_range), config.rf_layering
    )


def worst_case_frequency_count(
    times, slowness: float, gauss: float, layering: Layering = RECEIVER_LAYERING
) -> int:
    """Frequency count of the RF synthesis valid for every model of the prior.

    :func:`jaxgeo.receiver.frequency_count` of a worst-case receiver model: the thickest
    sediment, crust and truncated mantle, each at the slowest shear velocity and the
    largest Vp/Vs the prior allows, at the given times (s), slowness (s/km; pass the
    largest one used) and Gaussian parameter (1/s; the largest one used). What sets
    the period beyond the window is the stack's Ps delay Σ h (η_β − η_α), which grows
    with the slowness and the Vp/Vs ratio and as the shear velocity drops (for
    Vp/Vs ≥ 1.5 and p·Vs < 0.4, as here), so this model bounds every model of the prior.
    The period scales as 1/a for a given count while the Gaussian lead only grows as
    1/a, so the largest a is the worst case.
    """
    st_max = float(P.UPPER[0])
    ct_max = float(P.UPPER[P.CRUST_THICKNESS])
    # receiver_model's mantle reaches from the Moho to receiver_depth: thickest under
    # the shallowest Moho (no sediment, the thinnest crust)
    mantle = layering.receiver_depth - float(P.LOWER[0] + P.LOWER[P.CRUST_THICKNESS])
    vs_sed = float(P.LOWER[1])
    vs_crust = float(P.LOWER[P.CRUST_VS][0])
    vs_mantle = float(P.LOWER[P.MANTLE_VS][0])
    thickness = np.array([st_max, ct_max, mantle, 0.0])
    vs = np.array([vs_sed, vs_crust, vs_mantle, vs_mantle])
    vp = np.array(
        [
            brocher_vp_from_vs(vs_sed),
            float(P.UPPER[P.CRUST_VP_VS]) * vs_crust,
            MANTLE_VP_VS * vs_mantle,
            MANTLE_VP_VS * vs_mantle,
        ]
    )
    return frequency_count(
        np.asarray(times, dtype=float),
        thickness,
        vp,
        vs,
        np.ones(4),
        slowness=float(slowness),
        gauss=float(gauss),
    )


def _phase_and_group(periods, thickness, vp, vs, rho, config):
    combined = getattr(_dispersion, "phase_and_group_velocity", None)
    options = {
        "spherical": config.spherical,
        "validate": False,
        "n_grid": config.n_grid,
    }
    if combined is not None:
        return combined(periods, thickness, vp, vs, rho, **options)

    def phase(t):
        return _dispersion.phase_velocity(t, thickness, vp, vs, rho, **options)

    c, dc_dt = jax.jvp(phase, (periods,), (jnp.ones_like(periods),))
    return c, c / (1.0 + periods / c * dc_dt)


def forward(
    params, periods, slowness, gauss, config: SimulatorConfig = SimulatorConfig()
):
    """Clean data of one model (vmap for batches): the simulator's forward model.

    Parameters
    ----------
    params : array (23,)
    periods : array (n_periods,) or (2·n_periods,)
        Periods (s); with ``separate_group_periods`` the first half are the phase
        periods and the second half the group periods.
    slowness, gauss : scalars
        Ray parameter (s/km) and Gaussian parameter a (1/s).
    config : SimulatorConfig (static)

    Returns
    -------
    phase, group : arrays (n_periods,)
        Rayleigh phase and group velocities (km/s).
    rf : array (n_times,)
        Receiver function (1/s).
    """
    phase, group = _dispersion_data(params, periods, config)
    return phase, group, _receiver_data(params, slowness, gauss, config)


def _dispersion_data(params, periods, config: SimulatorConfig):
    """Phase and group velocities of :func:`forward` (one model)."""
    model = layered_model(params, config.layering)
    c, u = _phase_and_group(periods, *model, config)
    k = config.n_periods
    return (c[:k], u[k:]) if config.separate_group_periods else (c, u)


def _receiver_data(params, slowness, gauss, config: SimulatorConfig):
    """Receiver function of :func:`forward` (one model)."""
    return receiver_function(
        rf_times(config),
        *receiver_model(params, config.rf_layering),
        slowness=slowness,
        gauss=gauss,
        n_freq=rf_frequency_count(config),
        validate=False,
    )


def _rf_batch_size(config: SimulatorConfig) -> int:
    if config.rf_batch_size is not None:
        return int(config.rf_batch_size)
    return 32 if jax.default_backend() == "cpu" else 0


def batched_forward(params, periods, slowness, gauss, config: SimulatorConfig = SimulatorConfig()):
    """:func:`forward` over a leading batch axis of every argument.

    Dispersion is vmapped over the whole batch; receiver functions are mapped in chunks
    of ``config.rf_batch_size`` models (see :class:`SimulatorConfig`). Same values as
    ``jax.vmap(forward)`` to rounding.
    """
    phase, group = jax.vmap(functools.partial(_dispersion_data, config=config))(params, periods)
    rf_one = functools.partial(_receiver_data, config=config)
    batch_size = _rf_batch_size(config)
    if batch_size > 0:
        rf = jax.lax.map(lambda a: rf_one(*a), (params, slowness, gauss), batch_size=batch_size)
    else:
        rf = jax.vmap(rf_one)(params, slowness, gauss)
    return phase, group, rf


def _uniform(key, shape, bounds, dtype):
    lo, hi = bounds
    return lo + (hi - lo) * jax.random.uniform(key, shape, dtype=dtype)


@functools.partial(entry_point_jit, static_argnames=("n", "config"))
def simulate(key, n: int, config: SimulatorConfig = SimulatorConfig()):
    """Draw ``n`` prior models and their noisy joint data, all on the device.

    Parameters
    ----------
    key : jax.random key
    n : int (static)
        Batch size.
    config : SimulatorConfig (static)

    Returns
    -------
    dict of arrays (leading axis n unless stated), dtype ``config.dtype``:
        ``params`` (n, 23); ``targets`` (dict of :func:`jaxgeo.earth.targets`);
        ``phase_periods`` / ``group_periods`` (n, n_periods) s;
        ``phase`` / ``group`` (n, n_periods) noisy km/s, ``phase_clean`` /
        ``group_clean`` clean, ``phase_sigma`` / ``group_sigma`` the σ used;
        ``rf_times`` (n_times,) s; ``rf`` (n, n_times) noisy 1/s, ``rf_clean``,
        ``rf_sigma``; ``slowness`` (n,) s/km; ``gauss`` (n,) 1/s;
        ``valid`` (n,) bool; ``n_failed`` () int32, failed candidates among the
        ``n + spare`` computed.
    """
    dtype = jnp.dtype(config.dtype)
    m = n + config.spare(n)
    keys = jax.random.split(key, 8)
    params = P.sample_prior(keys[0], m, dtype)
    n_draw = config.n_periods * (2 if config.separate_group_periods else 1)
    log_lo, log_hi = (math.log(t) for t in config.period_range)
    periods = jnp.exp(_uniform(keys[1], (m, n_draw), (log_lo, log_hi), dtype))
    if config.separate_group_periods:
        k = config.n_periods
        periods = jnp.concatenate(
            [jnp.sort(periods[:, :k], axis=-1), jnp.sort(periods[:, k:], axis=-1)],
            axis=-1,
        )
    else:
        periods = jnp.sort(periods, axis=-1)
    slowness = _uniform(keys[2], (m,), config.slowness_range, dtype)
    gauss = _uniform(keys[3], (m,), config.gauss_range, dtype)

    split = split_batch(functools.partial(batched_forward, config=config), config.devices)
    phase, group, rf = split(params, periods, slowness, gauss)

    ok = (
        jnp.all(jnp.isfinite(phase), axis=-1)
        & jnp.all(jnp.isfinite(group), axis=-1)
        & jnp.all(jnp.isfinite(rf), axis=-1)
    )
    chosen = jnp.argsort(~ok, stable=True)[:n]

    def pick(x):
        return jnp.take(x, chosen, axis=0)

    params, periods, slowness, gauss, phase, group, rf, valid = map(
        pick, (params, periods, slowness, gauss, phase, group, rf, ok)
    )
    k = config.n_periods
    phase_periods = periods[:, :k]
    group_periods = periods[:, k:] if config.separate_group_periods else phase_periods

    phase_sigma = config.phase_noise * phase
    group_sigma = config.group_noise * group
    rf_sigma = jnp.full(rf.shape, config.rf_noise, dtype=dtype)
    noise = [
        jax.random.normal(kk, shape, dtype=dtype)
        for kk, shape in zip(keys[4:7], (phase.shape, group.shape, rf.shape))
    ]
    return {
        "params": params,
        "targets": targets(params),
        "phase_periods": phase_periods,
        "group_periods": group_periods,
        "phase": phase + phase_sigma * noise[0],
        "phase_clean": phase,
        "phase_sigma": phase_sigma,
        "group": group + group_sigma * noise[1],
        "group_clean": group,
        "group_sigma": group_sigma,
        "rf_times": rf_times(config),
        "rf": rf + rf_sigma * noise[2],
        "rf_clean": rf,
        "rf_sigma": rf_sigma,
        "slowness": slowness,
        "gauss": gauss,
        "valid": valid,
        "n_failed": jnp.sum(~ok).astype(jnp.int32),
    }
