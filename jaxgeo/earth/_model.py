"""From parameters to a continuous profile, a fixed-shape layered model and targets.

Continuous model (what the parameters describe), depth z in km below the surface:

* sediment, ``0 ≤ z < ST``: Vs linear from ``sediment_vs_top`` to
  ``sediment_vs_bottom``; Vp from Brocher's Vs→Vp fit; ρ from Nafe–Drake (Brocher 2005);
* crystalline crust, ``ST ≤ z < ST + CT`` (the Moho): Vs a uniform cubic B-spline
  with 5 coefficients over the crust (:mod:`._bspline`); Vp = κ Vs; ρ from Nafe–Drake;
* mantle, ``ST + CT ≤ z < 410``: Vs a uniform cubic B-spline with 13 coefficients
  over the mantle; Vp = 1.79 Vs; ρ = 0.77 + 0.32 Vp;
* ``410 ≤ z``: ak135 (fixed), half-space from 660 km.

Discretisation (:class:`Layering`): a fixed number of constant layers, so every model
has the same static shape. The sediment is split into sublayers of equal vertical S
time (thin where slow; zero thickness when ST = 0), each the isotropic layer of the depth
means of ρ, μ = ρVs² and M = ρVp² over it (Voigt means); the crust and the mantle into
layers that thicken with depth (boundaries at ``top + span·(i/N)^γ``), each with the
continuous model's values at its mid-depth; 410–660 km into equal layers; then the
half-space. Every interface of the continuous model (sediment base, Moho, 410) is a layer
boundary.

Two layerings are used, because the two data need different things: ``DEFAULT_LAYERING``
(130 layers: 56 sediment sublayers, 32 crustal layers graded with γ = 2, 36 mantle
layers graded with γ = 2, 5 below 410 km) for surface waves, whose short periods need
thin layers near the surface and resolve the sediment's gradient, and
``RECEIVER_LAYERING`` (145 layers: 32 sediment sublayers, 64 equal crustal layers, 48
mantle layers from the Moho to a half-space at 140 km) for receiver functions, which see
every step of a staircase as a converted phase and its multiples (at a = 3 1/s, steps a
few km apart ring at ~1 Hz). CPS surf96 takes at most 100 layers: compare it on a
coarser :class:`Layering`.

Convergence (doubling every layer count, float64). Dispersion, computed with disba
(Dunkin, a flat earth, 30 periods over 2–160 s) so that the root search does not enter
the measurement, on 224 prior draws (``sample_prior(key(k), 32)`` for k = 7, 9, 11, 13,
15, 17, 19; 2026-12-04): the largest change of the Rayleigh phase velocity is 2.5e-4 and
of the group velocity 7.3e-4 (median 1.9e-4); disba found no root on one layering of one
draw. ``tests/earth/test_convergence.py`` checks the first 16 of k = 9. The 100-layer
layering used until then (32 S-time-matched sediment sublayers, crust γ = 2.5, 30
mantle layers γ = 1.5) changed the group velocity by up to 3.3e-3 (4.3 s, next to a group-velocity
minimum, ST 3.3 km with Vs 0.57 → 2.25 km/s: the first draw of k = 9) and by more than
1e-3 on 7 of the 160 draws of k = 9, 11, 15, 17, 19 (one of them a jump of disba to
another mode).
What was measured on the way (the 64 draws of k = 9 and 11, group velocity, largest
change): the sediment's share falls as 1/N² of its sublayers, and it depends on the
sublayer values — at 32 sublayers 3.3e-3 with S-time-matched velocities, 3.7e-3 with
Reuss (harmonic) means of the moduli, 2.5e-3 with mid-depth values, 1.9e-3 with Voigt
means; equal S-time boundaries beat equal steps of Vs^α (α = −1 … 0.6, up to 2.4e-3 at
48 sublayers against 9.1e-4). Voigt means in the crust and the mantle instead of
mid-depth values made their share worse (median change 2.4e-4 → 4.0e-4), so they keep
mid-depth values. With 56 sediment sublayers the mantle (7.3e-4 with 30 layers of
γ = 1.5, 6.1e-4 with γ = 2) needed 36 layers. Receiver functions (a = 3 1/s, slowness
0.04 and 0.08 s/km; 96 draws, k = 7, 9, 11): at most 0.36 % NRMS (median 0.07 %).
The 100-layer dispersion layering cost 30 % less dispersion time than this one (the
search is linear in the layer count); the peer pipeline of ``benchmarks/simulate.py``
slowed by 9 %, so the simulator's ratio to it fell ~3 % (batch 64: 9.65–9.71× against
10.00–10.24×); a cheaper exact mode count then brought it to 10.58–11.00×
(``benchmarks/README.md``).

All functions take a parameter array of shape (..., 23) and map over leading axes.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from . import _prior as P
from ._bspline import cubic_bspline_basis
from ._relations import (
    AK135_HALF_SPACE,
    MANTLE_VP_VS,
    REFERENCE_BOTTOM,
    REFERENCE_TOP,
    ak135_lower,
    birch_density,
    brocher_vp_from_vs,
    nafe_drake_density,
)

__all__ = [
    "DEFAULT_LAYERING",
    "N_TARGET_DEPTHS",
    "RECEIVER_LAYERING",
    "TARGET_MAX_DEPTH",
    "Layering",
    "layered_model",
    "receiver_model",
    "target_depths",
    "targets",
    "vs_profile",
]

N_TARGET_DEPTHS = 161
TARGET_MAX_DEPTH = 375.0
# Stretch of the target depth grid: node spacing grows as exp(4u) from 0.17 km at the
# surface to 9.5 km at 375 km.
_TARGET_STRETCH = 4.0


@dataclasses.dataclass(frozen=True)
class Layering:
    """How the continuous model is cut into constant layers (static, hashable).

    Attributes
    ----------
    n_sediment : int
        Sediment sublayers, of equal vertical S travel time (thin where slow), each with
        the depth (Voigt) means of ρ, ρVs² and ρVp² over it.
    n_crust : int
        Crystalline-crust layers.
    crust_grading : float
        γ ≥ 1: crust boundaries at ``ST + CT·(i/n_crust)^γ`` (thin layers at the top,
        where short-period surface waves need them; γ = 1 gives equal layers).
    n_mantle : int
        Layers from the Moho to 410 km.
    mantle_grading : float
        γ ≥ 1: mantle boundaries at ``Moho + (410 − Moho)(i/n_mantle)^γ`` (and at
        ``Moho + (receiver_depth − Moho)(i/n_receiver_mantle)^γ`` in :func:`receiver_model`).
    n_reference : int
        Equal layers of ak135 between 410 and 660 km.
    receiver_depth : float
        Depth (km) of the half-space of :func:`receiver_model`.
    n_receiver_mantle : int
        Mantle layers of :func:`receiver_model` from the Moho to ``receiver_depth``.
    """

    n_sediment: int = 56
    n_crust: int = 32
    crust_grading: float = 2.0
    n_mantle: int = 36
    mantle_grading: float = 2.0
    n_reference: int = 5
    receiver_depth: float = 140.0
    n_receiver_mantle: int = 32

    def __post_init__(self):
        for name in ("n_sediment", "n_crust", "n_mantle", "n_reference", "n_receiver_mantle"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Layering.{name} must be an integer >= 1, got {value!r}")
        for name in ("crust_grading", "mantle_grading"):
            if not getattr(self, name) >= 1.0:
                raise ValueError(f"Layering.{name} must be >= 1, got {getattr(self, name)!r}")
        deepest_moho = float(P.UPPER[0] + P.UPPER[P.CRUST_THICKNESS])
        if not deepest_moho < self.receiver_depth < REFERENCE_TOP:
            raise ValueError(
                f"Layering.receiver_depth must lie between the deepest Moho of the prior "
                f"({deepest_moho:g} km) and {REFERENCE_TOP:g} km, got {self.receiver_depth!r}"
            )

    @property
    def n_layers(self) -> int:
        """Number of layers of :func:`layered_model`, the half-space included."""
        return self.n_sediment + self.n_crust + self.n_mantle + self.n_reference + 1

    def crust_fractions(self) -> np.ndarray:
        """Crust boundaries as fractions of CT, shape (n_crust + 1,)."""
        return (np.arange(self.n_crust + 1) / self.n_crust) ** self.crust_grading

    def mantle_fractions(self) -> np.ndarray:
        """Mantle boundaries as fractions of the Moho–410 span, shape (n_mantle + 1,)."""
        return (np.arange(self.n_mantle + 1) / self.n_mantle) ** self.mantle_grading

    def receiver_mantle_fractions(self) -> np.ndarray:
        """Mantle boundaries of :func:`receiver_model` as fractions of Moho–``receiver_depth``."""
        n = self.n_receiver_mantle
        return (np.arange(n + 1) / n) ** self.mantle_grading

    @property
    def n_receiver_layers(self) -> int:
        """Number of layers of :func:`receiver_model`, the half-space included."""
        return self.n_sediment + self.n_crust + self.n_receiver_mantle + 1

    def doubled(self) -> Layering:
        """The same layering with twice as many layers in every part (convergence checks)."""
        return dataclasses.replace(
            self,
            n_sediment=2 * self.n_sediment,
            n_crust=2 * self.n_crust,
            n_mantle=2 * self.n_mantle,
            n_reference=2 * self.n_reference,
            n_receiver_mantle=2 * self.n_receiver_mantle,
        )


#: Layering of the dispersion model (130 layers): sediment and graded crust fine enough
#: for 2-s surface waves in slow sediments, doubling it changes Rayleigh phase and group
#: velocities by < 1e-3 (see the module docstring for its convergence).
DEFAULT_LAYERING = Layering()
#: Layering of the receiver-function model (145 layers, half-space at 140 km): equal
#: crustal layers, graded mantle layers from the Moho to 140 km.
RECEIVER_LAYERING = Layering(
    n_sediment=32, n_crust=64, crust_grading=1.0, mantle_grading=1.5, n_receiver_mantle=48
)


#: Gauss–Legendre nodes and weights on [0, 1] for the sediment sublayers' means: the
#: moduli are polynomials in depth (Brocher's Vp of a linear Vs, Nafe–Drake's ρ of Vp)
#: that vary by a few % over a sublayer; 4 nodes give their means to < 1e-12 relative
#: (tests/earth/test_earth_model.py, against 64 nodes).
_MEAN_NODES, _MEAN_WEIGHTS = (
    0.5 * (np.polynomial.legendre.leggauss(4)[0] + 1.0),
    0.5 * np.polynomial.legendre.leggauss(4)[1],
)


def _span_nodes(lower, upper):
    """Quadrature nodes (..., n, G) in each span [lower, upper] (arrays (..., n))."""
    nodes = jnp.asarray(_MEAN_NODES, dtype=lower.dtype).reshape((1,) * lower.ndim + (-1,))
    return lower[..., None] + (upper - lower)[..., None] * nodes


def _layer_means(vp, vs, rho):
    """The isotropic layer of the depth means of ρ, μ = ρVs² and M = ρVp².

    ``vp, vs, rho`` (..., n, G) are the continuous model at each layer's quadrature
    nodes; returns (vp, vs, rho) of shape (..., n). Vs < Vp/√2 at every node keeps it so.
    """
    w = jnp.asarray(_MEAN_WEIGHTS, dtype=vs.dtype)
    rho_mean = rho @ w
    mu_mean = (rho * vs**2) @ w
    m_mean = (rho * vp**2) @ w
    return jnp.sqrt(m_mean / rho_mean), jnp.sqrt(mu_mean / rho_mean), rho_mean


def _split(params):
    sediment_thickness = params[..., 0]
    vs_top, vs_bottom = params[..., 1], params[..., 2]
    crust_thickness = params[..., P.CRUST_THICKNESS]
    crust_coefficients = params[..., P.CRUST_VS]
    vp_vs = params[..., P.CRUST_VP_VS]
    mantle_coefficients = params[..., P.MANTLE_VS]
    return (
        sediment_thickness,
        vs_top,
        vs_bottom,
        crust_thickness,
        crust_coefficients,
        vp_vs,
        mantle_coefficients,
    )


def _spline(fraction, coefficients):
    """B-spline profile at ``fraction`` (..., m) ∈ [0, 1] for coefficients (..., K)."""
    basis = cubic_bspline_basis(fraction, coefficients.shape[-1])
    return jnp.sum(basis * coefficients[..., None, :], axis=-1)


def _sediment(fraction, vs_top, vs_bottom):
    extra = (1,) * (fraction.ndim - vs_top.ndim)  # fraction (..., m) or (..., m, G)
    vs = vs_top.reshape(vs_top.shape + extra) + fraction * (vs_bottom - vs_top).reshape(
        vs_top.shape + extra
    )
    return _sediment_from_vs(vs)


def _sediment_from_vs(vs):
    vp = brocher_vp_from_vs(vs)
    return vp, vs, nafe_drake_density(vp)


def _sediment_layers(st, vs_top, vs_bottom, n, dtype):
    """Sublayers of equal vertical S time of the linear sediment gradient.

    With ``v(z) = v₀ + g z`` the S time to depth z is ``ln(v/v₀)/g``, so equal times put
    the boundary velocities in geometric progression ``v_k = v₀ s^k``,
    ``s = (v₁/v₀)^{1/n}``, at depths ``ST (s^k − 1)/(s^n − 1)``. Each sublayer gets the
    depth means of the moduli and density over it (:func:`_layer_means`).
    """
    log_ratio = jnp.log(vs_bottom / vs_top)[..., None]  # (..., 1)
    k = jnp.broadcast_to(
        jnp.asarray(np.arange(n + 1), dtype=dtype), log_ratio.shape[:-1] + (n + 1,)
    )
    power = jnp.exp(log_ratio * k / n)  # v_k / v₀, (..., n + 1)
    total = power[..., -1:] - 1.0
    nearly_uniform = jnp.abs(total) < 1e-6
    depth_fraction = jnp.where(
        nearly_uniform, k / n, (power - 1.0) / jnp.where(nearly_uniform, 1.0, total)
    )
    thickness = st[..., None] * (depth_fraction[..., 1:] - depth_fraction[..., :-1])
    nodes = _span_nodes(depth_fraction[..., :-1], depth_fraction[..., 1:])
    return thickness, _layer_means(*_sediment(nodes, vs_top, vs_bottom))


def _crust(fraction, coefficients, vp_vs):
    vs = _spline(fraction, coefficients)
    vp = vp_vs[..., None] * vs
    return vp, vs, nafe_drake_density(vp)


def _mantle(fraction, coefficients):
    vs = _spline(fraction, coefficients)
    vp = MANTLE_VP_VS * vs
    return vp, vs, birch_density(vp)


def _upper_layers(params, layering: Layering):
    """Sediment sublayers and crustal layers: thicknesses and (vp, vs, rho) of each part."""
    dtype = params.dtype
    st, vs_top, vs_bottom, ct, crust_c, vp_vs, _ = _split(params)
    batch = params.shape[:-1]
    sediment_thickness, sediment = _sediment_layers(
        st, vs_top, vs_bottom, layering.n_sediment, dtype
    )
    crust_fractions = jnp.asarray(layering.crust_fractions(), dtype=dtype)
    crust_thickness = ct[..., None] * jnp.broadcast_to(
        crust_fractions[1:] - crust_fractions[:-1], batch + (layering.n_crust,)
    )
    crust_mid = jnp.broadcast_to(
        0.5 * (crust_fractions[1:] + crust_fractions[:-1]), batch + (layering.n_crust,)
    )
    return (sediment_thickness, crust_thickness), (sediment, _crust(crust_mid, crust_c, vp_vs))


def _mantle_layers(params, bottom, fractions):
    """Mantle layers from the Moho to ``bottom`` km, boundaries at Moho + (bottom − Moho)·f.

    ``fractions`` f (n + 1,) rise from 0 to 1. Returns the thicknesses (..., n) and
    (vp, vs, rho) of shape (..., n + 1): the continuous model at each layer's mid-depth,
    then at ``bottom``.
    """
    dtype = params.dtype
    st, _, _, ct, _, _, mantle_c = _split(params)
    batch = params.shape[:-1]
    f = jnp.asarray(fractions, dtype=dtype)
    n = f.shape[0] - 1
    moho = st + ct
    depth_span = (bottom - moho)[..., None]
    thickness = depth_span * jnp.broadcast_to(f[1:] - f[:-1], batch + (n,))
    points = jnp.concatenate([0.5 * (f[1:] + f[:-1]), jnp.ones((1,), dtype)])
    # the B-spline's argument: the fraction of the Moho–410 km span
    argument = jnp.broadcast_to(points, batch + (n + 1,))
    if bottom != REFERENCE_TOP:
        argument = argument * (depth_span / (REFERENCE_TOP - moho)[..., None])
    return thickness, _mantle(argument, mantle_c)


def layered_model(params, layering: Layering = DEFAULT_LAYERING):
    """Fixed-shape layered model of parameter vectors.

    Parameters
    ----------
    params : array (..., 23)
        Parameters (order of ``PARAM_NAMES``).
    layering : Layering (static)
        The discretisation; ``layering.n_layers`` layers (default 130).

    Returns
    -------
    thickness, vp, vs, rho : arrays (..., L)
        km, km/s, km/s, g/cm³, top to bottom, the last row the half-space (thickness 0),
        in the dtype of ``params``. Sediment sublayers have zero thickness when
        ``sediment_thickness`` is 0 (they then change nothing).
    """
    params = jnp.asarray(params)
    dtype = params.dtype
    batch = params.shape[:-1]
    (sediment_thickness, crust_thickness), (sediment, crust) = _upper_layers(params, layering)
    mantle_thickness, mantle = _mantle_layers(params, REFERENCE_TOP, layering.mantle_fractions())
    mantle = tuple(v[..., :-1] for v in mantle)  # ak135 starts at 410 km

    n_ref = layering.n_reference
    reference_step = (REFERENCE_BOTTOM - REFERENCE_TOP) / n_ref
    reference_mid = jnp.asarray(
        REFERENCE_TOP + reference_step * (np.arange(n_ref) + 0.5), dtype=dtype
    )
    reference = tuple(
        jnp.broadcast_to(v, batch + (n_ref,)) for v in ak135_lower(reference_mid)
    )
    half_space = tuple(jnp.full(batch + (1,), v, dtype=dtype) for v in AK135_HALF_SPACE)

    thickness = jnp.concatenate(
        [
            sediment_thickness,
            crust_thickness,
            mantle_thickness,
            jnp.full(batch + (n_ref,), reference_step, dtype=dtype),
            jnp.zeros(batch + (1,), dtype=dtype),
        ],
        axis=-1,
    )
    vp, vs, rho = (
        jnp.concatenate([s, c, m, r, h], axis=-1).astype(dtype)
        for s, c, m, r, h in zip(sediment, crust, mantle, reference, half_space)
    )
    return thickness.astype(dtype), vp, vs, rho


def receiver_model(params, layering: Layering = RECEIVER_LAYERING):
    """Layered model for receiver functions, its half-space at ``receiver_depth`` (static shape).

    The sediment and crust of :func:`layered_model` with ``layering``, then
    ``layering.n_receiver_mantle`` mantle layers from the Moho to
    ``layering.receiver_depth`` (graded by ``mantle_grading``, each with the
    continuous model's values at its mid-depth), then a half-space with the continuous
    model's values at ``receiver_depth``. Structure below only sends P-to-S conversions later than
    ~0.1 s/km × ``receiver_depth`` (≈ 14 s at 140 km, beyond the 12-s window plus the
    Gaussian's half-width); dropping it keeps the stack's vertical travel time, hence
    the synthesis's frequency count, small.

    Parameters
    ----------
    params : array (..., 23)
    layering : Layering (static)

    Returns
    -------
    thickness, vp, vs, rho : arrays (..., layering.n_receiver_layers)
    """
    params = jnp.asarray(params)
    dtype = params.dtype
    batch = params.shape[:-1]
    (sediment_thickness, crust_thickness), (sediment, crust) = _upper_layers(params, layering)
    # the last value, at receiver_depth, is the half-space's
    mantle_thickness, mantle = _mantle_layers(
        params, layering.receiver_depth, layering.receiver_mantle_fractions()
    )
    thickness = jnp.concatenate(
        [sediment_thickness, crust_thickness, mantle_thickness, jnp.zeros(batch + (1,), dtype)],
        axis=-1,
    )
    vp, vs, rho = (
        jnp.concatenate([s, c, m], axis=-1).astype(dtype)
        for s, c, m in zip(sediment, crust, mantle)
    )
    return thickness.astype(dtype), vp, vs, rho


def vs_profile(params, depths):
    """Vs (km/s) of the continuous model at given depths.

    Parameters
    ----------
    params : array (..., 23)
    depths : array (D,)
        Depths (km) ≥ 0. At an interface the value below it is returned.

    Returns
    -------
    array (..., D)
    """
    params = jnp.asarray(params)
    depths = jnp.asarray(depths, dtype=params.dtype)
    st, vs_top, vs_bottom, ct, crust_c, vp_vs, mantle_c = _split(params)
    shape = params.shape[:-1] + depths.shape
    z = jnp.broadcast_to(depths, shape)
    st_ = jnp.broadcast_to(st[..., None], shape)
    moho = jnp.broadcast_to((st + ct)[..., None], shape)

    def fraction(top, bottom):
        span = bottom - top
        safe = jnp.where(span > 0, span, 1.0)  # zero-thickness sediment: never selected
        return jnp.clip((z - top) / safe, 0.0, 1.0)

    vs_sediment = _sediment(fraction(0.0, st_), vs_top, vs_bottom)[1]
    vs_crust = _crust(fraction(st_, moho), crust_c, vp_vs)[1]
    vs_mantle = _mantle(fraction(moho, REFERENCE_TOP), mantle_c)[1]
    vs_reference = ak135_lower(jnp.clip(z, REFERENCE_TOP, REFERENCE_BOTTOM))[1]
    vs_deep = jnp.full_like(z, AK135_HALF_SPACE[1])
    return jnp.select(
        [z < st_, z < moho, z < REFERENCE_TOP, z < REFERENCE_BOTTOM],
        [vs_sediment, vs_crust, vs_mantle, vs_reference],
        vs_deep,
    )


def target_depths(dtype=jnp.float64):
    """The 161 target depth nodes (km), 0 to 375 km, denser near the surface.

    ``z_j = 375 (exp(4 u_j) − 1)/(exp(4) − 1)`` with ``u_j = j/160``: spacing 0.17 km
    at the surface, 1 km near 30 km, 9.5 km at 375 km.
    """
    u = np.arange(N_TARGET_DEPTHS) / (N_TARGET_DEPTHS - 1)
    z = TARGET_MAX_DEPTH * np.expm1(_TARGET_STRETCH * u) / math.expm1(_TARGET_STRETCH)
    return jnp.asarray(z, dtype=dtype)


def targets(params):
    """Inversion targets of parameter vectors.

    Parameters
    ----------
    params : array (..., 23)

    Returns
    -------
    dict
        ``"depth"``: (161,) km, the nodes of :func:`target_depths`;
        ``"vs"``: (..., 161) km/s, Vs of the continuous model at the nodes;
        ``"crust_vp_vs"``: (...) crustal Vp/Vs κ;
        ``"sediment_thickness"``: (...) ST (km);
        ``"crust_thickness"``: (...) CT (km), the crystalline crust from the sediment
        base to the Moho (the Moho depth is ST + CT, also returned as ``"moho_depth"``).
    """
    params = jnp.asarray(params)
    depth = target_depths(params.dtype)
    return {
        "depth": depth,
        "vs": vs_profile(params, depth),
        "crust_vp_vs": params[..., P.CRUST_VP_VS],
        "sediment_thickness": params[..., 0],
        "crust_thickness": params[..., P.CRUST_THICKNESS],
        "moho_depth": params[..., 0] + params[..., P.CRUST_THICKNESS],
    }
