"""Unified vector tokens of G-Query (Wang et al., 2025).

Every observation and every inversion target is one token of width D:

    x = φ(type) + Σ_i u_i · e_{u,i} + Σ_j p_j · e_{p,j}

with φ a learned embedding of the token's type, u its numeric **values** and p its
numeric **parameters**, each times its own learned vector (:class:`._model.TokenEmbedding`).
This module builds the types, u and p (and masks) as arrays; the network embeds them.

Types
-----
Data: ``phase`` (0), ``group`` (1), ``rf`` (2). Queries: ``vs`` (3, one per depth
node), ``crust_vp_vs`` (4), ``sediment_thickness`` (5), ``crust_thickness`` (6).

Values u (4 slots; a slot that does not apply is 0; **unknown = −1**)
-----------------------------------------------------------------------
====  ===========================  ==================================================
slot  meaning                      normalisation
====  ===========================  ==================================================
0     observed value               phase/group velocity in km/s; RF in 1/s (as is)
1     its uncertainty σ            same units as the value
2     reference value (queries)    Vs km/s, Vp/Vs as is; ST, CT in units of 100 km
3     reference uncertainty        same units as the reference
====  ===========================  ==================================================

Parameters p (5 + 6·n_fourier slots; 0 where they do not apply)
----------------------------------------------------------------
====  ============================  ===============================================
slot  meaning                       normalisation
====  ============================  ===============================================
0     period T (phase, group)       T / 40 s
1     time t (RF)                   t / 40 s
2     depth z (Vs queries)          z / 100 km
3     slowness (RF)                 p / 0.1 s/km
4     Gaussian parameter a (RF)     a / 2.5 s⁻¹
5…    Fourier features (optional)   sin(π k s), cos(π k s), k = 1…n_fourier, of
                                    s = ln(T/2 s)/ln 80 (dispersion), t/12 s (RF),
                                    ln(1 + z(e⁴−1)/375 km)/4 (Vs; uniform over the
                                    target nodes), each data kind in its own slots
====  ============================  ===============================================

Targets
-------
The network predicts the 164 targets ``[vs(161 nodes), crust_vp_vs, sediment_thickness,
crust_thickness]`` standardised by the prior's mean and standard deviation of each target
(:func:`target_statistics`, from 16,384 prior draws with a fixed key); predictions and σ
are returned in physical units.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import earth

__all__ = [
    "DATA_TYPES",
    "N_PARAM_BASE",
    "N_TARGETS",
    "N_TYPES",
    "N_VALUES",
    "QUERY_TYPES",
    "TARGET_NAMES",
    "data_tokens",
    "n_params",
    "query_tokens",
    "target_statistics",
    "target_vector",
]

DATA_TYPES = ("phase", "group", "rf")
QUERY_TYPES = ("vs", "crust_vp_vs", "sediment_thickness", "crust_thickness")
TARGET_NAMES = QUERY_TYPES
N_TYPES = len(DATA_TYPES) + len(QUERY_TYPES)
N_VALUES = 4
N_PARAM_BASE = 5
N_DEPTHS = earth.N_TARGET_DEPTHS
N_TARGETS = N_DEPTHS + 3
UNKNOWN = -1.0

PERIOD_SCALE = 40.0  # s
TIME_SCALE = 40.0  # s
DEPTH_SCALE = 100.0  # km
SLOWNESS_SCALE = 0.1  # s/km
GAUSS_SCALE = 2.5  # 1/s
THICKNESS_SCALE = 100.0  # km, for ST and CT references


def n_params(n_fourier: int) -> int:
    """Number of parameter slots for ``n_fourier`` sinusoidal features."""
    return N_PARAM_BASE + 6 * n_fourier


def _fourier(s, n_fourier: int, group: int, total: int):
    """Sinusoidal features of ``s`` (...,) placed in their group's slots of ``total``."""
    if n_fourier == 0:
        return jnp.zeros(s.shape + (total - N_PARAM_BASE,), s.dtype)
    k = jnp.arange(1, n_fourier + 1, dtype=s.dtype)
    angle = math.pi * s[..., None] * k.reshape((1,) * s.ndim + (n_fourier,))
    feats = jnp.concatenate([jnp.sin(angle), jnp.cos(angle)], axis=-1)
    before = jnp.zeros(s.shape + (2 * n_fourier * group,), s.dtype)
    after = jnp.zeros(s.shape + (2 * n_fourier * (2 - group),), s.dtype)
    return jnp.concatenate([before, feats, after], axis=-1)


def _params(base: dict, s, n_fourier: int, group: int):
    """Parameter rows (L, n_params) with the base slots of ``base`` set."""
    total = n_params(n_fourier)
    n = s.shape[0]
    columns = [base.get(j, jnp.zeros((n,), s.dtype)) for j in range(N_PARAM_BASE)]
    return jnp.concatenate([jnp.stack(columns, axis=-1), _fourier(s, n_fourier, group, total)], axis=-1)


def _values(value, sigma, slot: int):
    zero = jnp.zeros_like(value)
    cols = [zero, zero, zero, zero]
    cols[slot], cols[slot + 1] = value, sigma
    return jnp.stack(cols, axis=-1)


def data_tokens(
    phase_periods, phase, phase_sigma, group_periods, group, group_sigma, rf_times, rf, rf_sigma, slowness, gauss,
    *, n_fourier: int,
):
    """Data tokens of one station (``vmap`` for batches).

    Arguments are the simulator's arrays for one sample: (n_phase,), (n_group,),
    (n_rf,) and scalars. Returns ``(types (L,), values (L, 4), params (L, P))`` with
    L = n_phase + n_group + n_rf, in that order.
    """
    dtype = jnp.result_type(phase, float)
    phase_periods, group_periods = (jnp.asarray(a, dtype) for a in (phase_periods, group_periods))
    rf_times = jnp.asarray(rf_times, dtype)

    def dispersion(periods, value, sigma, type_id):
        s = jnp.log(periods / 2.0) / math.log(80.0)
        p = _params({0: periods / PERIOD_SCALE}, s, n_fourier, 0)
        return jnp.full(periods.shape, type_id, jnp.int32), _values(value, sigma, 0), p

    rf_n = rf_times.shape[0]
    rf_params = _params(
        {
            1: rf_times / TIME_SCALE,
            3: jnp.full((rf_n,), slowness / SLOWNESS_SCALE, dtype),
            4: jnp.full((rf_n,), gauss / GAUSS_SCALE, dtype),
        },
        rf_times / 12.0,
        n_fourier,
        1,
    )
    parts = [
        dispersion(phase_periods, phase, phase_sigma, 0),
        dispersion(group_periods, group, group_sigma, 1),
        (jnp.full((rf_n,), 2, jnp.int32), _values(rf, rf_sigma, 0), rf_params),
    ]
    return tuple(jnp.concatenate(x, axis=0) for x in zip(*parts))


def _depth_position(depth):
    return jnp.log1p(depth * math.expm1(4.0) / 375.0) / 4.0


def query_tokens(reference, reference_sigma, *, n_fourier: int, dtype=jnp.float32):
    """Query tokens of the 164 targets (``vmap`` for batches).

    ``reference`` and ``reference_sigma`` (164,) are in physical units (Vs km/s, Vp/Vs,
    ST and CT km); −1 (or NaN) marks an unknown. Returns ``(types (164,), values
    (164, 4), params (164, P))``.
    """
    depth = earth.target_depths(dtype)
    reference = jnp.asarray(reference, dtype)
    reference_sigma = jnp.asarray(reference_sigma, dtype)
    scale = jnp.concatenate([jnp.ones((N_DEPTHS + 1,), dtype), jnp.full((2,), 1.0 / THICKNESS_SCALE, dtype)])
    known = jnp.isfinite(reference) & (reference_sigma > 0) & (reference != UNKNOWN) & jnp.isfinite(reference_sigma)
    ref = jnp.where(known, reference * scale, UNKNOWN)
    ref_sigma = jnp.where(known, reference_sigma * scale, UNKNOWN)
    types = jnp.concatenate([jnp.full((N_DEPTHS,), 3, jnp.int32), jnp.array([4, 5, 6], jnp.int32)])
    s = jnp.concatenate([_depth_position(depth), jnp.zeros((3,), dtype)])
    z = jnp.concatenate([depth / DEPTH_SCALE, jnp.zeros((3,), dtype)])
    params = _params({2: z}, s, n_fourier, 2)
    # the scalar targets carry no position: zero their Fourier slots
    params = params.at[N_DEPTHS:, N_PARAM_BASE:].set(0.0)
    return types, _values(ref, ref_sigma, 2), params


def target_vector(targets: dict):
    """Stack :func:`jaxgeo.earth.targets` output into (..., 164) physical targets."""
    return jnp.concatenate(
        [targets["vs"], targets["crust_vp_vs"][..., None], targets["sediment_thickness"][..., None],
         targets["crust_thickness"][..., None]],
        axis=-1,
    )


@functools.cache
def target_statistics() -> tuple[np.ndarray, np.ndarray]:
    """Prior mean and standard deviation of the 164 targets (float64 NumPy, cached).

    From 16,384 draws of :func:`jaxgeo.earth.sample_prior` with a fixed key (the mean
    is also the prior-mean baseline of the evaluation).
    """
    def draw(key_data):
        key = jax.random.wrap_key_data(key_data, impl="threefry2x32")
        return target_vector(earth.targets(earth.sample_prior(key, 16384, jnp.float32)))

    # an AOT-compiled call on host data runs at once, even when reached while tracing
    key_data = np.array([0, 1234], dtype=np.uint32)  # = key_data(jax.random.key(1234)) of threefry2x32
    y = np.asarray(jax.jit(draw).lower(key_data).compile()(key_data), dtype=np.float64)
    return y.mean(axis=0), y.std(axis=0)


def interface_weights(sediment_thickness, crust_thickness, weight: float = 5.0):
    """Loss weights (..., 164): ``weight`` for the Vs nodes on either side of the
    sediment–crust interface and of the Moho, and for ST and CT; 1 elsewhere."""
    st = jnp.asarray(sediment_thickness)[..., None]
    depth = earth.target_depths(jnp.result_type(sediment_thickness, float)).reshape((1,) * (st.ndim - 1) + (-1,))
    moho = st + jnp.asarray(crust_thickness)[..., None]

    def adjacent(z):
        # node j with depth_j ≤ z < depth_{j+1}, and node j+1
        below = jnp.sum(depth <= z, axis=-1, keepdims=True) - 1
        j = jnp.arange(N_DEPTHS).reshape(depth.shape)
        return (j == below) | (j == below + 1)

    near = adjacent(st) | adjacent(moho)
    vs_w = jnp.where(near, weight, 1.0)
    shape = vs_w.shape[:-1]
    ones = jnp.ones(shape + (1,), vs_w.dtype)
    return jnp.concatenate([vs_w, ones, weight * ones, weight * ones], axis=-1)
