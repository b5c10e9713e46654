"""Prediction with a trained G-Query checkpoint: observed data → profiles with σ.

:class:`Predictor` loads a checkpoint once; :func:`predict` is the one-call form.
Input: :class:`jaxgeo.earth.Observations` (any subset of phase, group and RF data, any
number of points, optional reference values; read from text or npz files by
:func:`jaxgeo.earth.read_observations`). Output, in physical units: Vs (km/s) at the
161 target depths, crustal Vp/Vs, sediment thickness ST and crystalline-crust thickness
CT (km), each with its σ.

The data fit is drawn by running jaxgeo's forward operators on the predicted model
(:func:`profile_model`): the predicted Vs profile cut into layers at the mid-points
between target nodes and at the predicted sediment base and Moho, Vp and density from
the simulator's relations (Brocher 2005 in the sediment, κ·Vs and Nafe–Drake in the
crust, Vp/Vs 1.79 and Birch's law in the mantle, ak135 below 410 km).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import earth
from ..earth._relations import (
    AK135_HALF_SPACE,
    MANTLE_VP_VS,
    ak135_lower,
    birch_density,
    brocher_vp_from_vs,
    nafe_drake_density,
)
from ._tokens import N_DEPTHS, N_TARGETS, N_VALUES, UNKNOWN, data_tokens, n_params, query_tokens
from ._train import predict_jit, restore_state, to_physical

__all__ = ["Predictor", "observation_tokens", "plot_prediction", "predict", "predicted_data", "profile_model"]


def observation_tokens(observations, n_fourier: int) -> dict:
    """Tokens of a list of :class:`~jaxgeo.earth.Observations`, padded to one length."""
    rows = []
    depth = np.asarray(earth.target_depths(jnp.float32), dtype=np.float64)
    for obs in observations:
        slowness = obs.slowness if obs.n_rf else 0.0
        gauss = obs.gauss if obs.n_rf else 0.0
        types, values, params = data_tokens(
            *(jnp.asarray(a, jnp.float32) for a in (
                obs.phase_periods, obs.phase, obs.phase_sigma, obs.group_periods, obs.group, obs.group_sigma,
                obs.rf_times, obs.rf, obs.rf_sigma)),
            jnp.float32(slowness), jnp.float32(gauss), n_fourier=n_fourier,
        )
        ref = np.full(N_TARGETS, UNKNOWN)
        ref_sigma = np.full(N_TARGETS, UNKNOWN)
        vs, vs_sigma = obs.reference_at(depth)
        known = np.isfinite(vs)
        ref[:N_DEPTHS][known], ref_sigma[:N_DEPTHS][known] = vs[known], vs_sigma[known]
        for i, key in enumerate(("crust_vp_vs", "sediment_thickness", "crust_thickness")):
            if key in obs.references:
                ref[N_DEPTHS + i], ref_sigma[N_DEPTHS + i] = obs.references[key]
        q = query_tokens(jnp.asarray(ref, jnp.float32), jnp.asarray(ref_sigma, jnp.float32), n_fourier=n_fourier)
        rows.append((np.asarray(types), np.asarray(values), np.asarray(params), q))
    length = max(r[0].shape[0] for r in rows)
    p = n_params(n_fourier)
    b = len(rows)
    out = {
        "data_type": np.zeros((b, length), np.int32), "data_values": np.zeros((b, length, N_VALUES), np.float32),
        "data_params": np.zeros((b, length, p), np.float32), "data_mask": np.zeros((b, length), bool),
    }
    for i, (types, values, params, _) in enumerate(rows):
        n = types.shape[0]
        out["data_type"][i, :n], out["data_values"][i, :n], out["data_params"][i, :n] = types, values, params
        out["data_mask"][i, :n] = True
    out["query_type"] = np.stack([np.asarray(r[3][0]) for r in rows])
    out["query_values"] = np.stack([np.asarray(r[3][1]) for r in rows])
    out["query_params"] = np.stack([np.asarray(r[3][2]) for r in rows])
    out["query_mask"] = np.ones((b, N_TARGETS), bool)
    return {k: jnp.asarray(v) for k, v in out.items()}


class Predictor:
    """A trained G-Query network loaded from ``workdir`` (latest or given checkpoint step)."""

    def __init__(self, workdir, step: int | None = None):
        self.workdir = Path(workdir)
        self.config, state = restore_state(self.workdir, step=step)
        self.params = state.params
        self.step = int(state.step)
        self._apply = predict_jit

    def __call__(self, observations) -> dict:
        """Predictions for one :class:`~jaxgeo.earth.Observations` or a list of them.

        Returns a dict of NumPy arrays with a leading axis over the stations: ``depth``
        (161,) km, ``vs`` and ``vs_sigma`` (n, 161) km/s, ``crust_vp_vs``,
        ``sediment_thickness``, ``crust_thickness`` (n,) and their ``*_sigma``.
        """
        if isinstance(observations, earth.Observations):
            observations = [observations]
        observations = list(observations)
        if not observations:
            raise ValueError("observations: give at least one station")
        tokens = observation_tokens(observations, self.config.model.n_fourier)
        mean, sigma = self._apply(self.params, self.config.model, tokens, 64)
        y, s = to_physical(mean, sigma)
        out = {"depth": np.asarray(earth.target_depths(jnp.float32), dtype=np.float64),
               "vs": y[:, :N_DEPTHS], "vs_sigma": s[:, :N_DEPTHS]}
        for i, key in enumerate(("crust_vp_vs", "sediment_thickness", "crust_thickness")):
            out[key] = y[:, N_DEPTHS + i]
            out[key + "_sigma"] = s[:, N_DEPTHS + i]
        return out


def predict(workdir, observations, *, step: int | None = None) -> dict:
    """One-call prediction: ``Predictor(workdir, step)(observations)``."""
    return Predictor(workdir, step)(observations)


def profile_model(depth, vs, vp_vs, sediment_thickness, crust_thickness):
    """Layered model (thickness, vp, vs, rho; NumPy) of a Vs profile at target depths.

    Layer boundaries: the mid-points between the depth nodes, the sediment base and
    the Moho; each layer takes the profile's Vs at its centre (linear between nodes);
    below the last node the mantle continues to 410 km, then ak135 to 660 km and its
    half-space.
    """
    depth, vs = np.asarray(depth, float), np.asarray(vs, float)
    st = max(float(sediment_thickness), 0.0)
    moho = st + max(float(crust_thickness), 0.0)
    edges = np.concatenate([[0.0], 0.5 * (depth[1:] + depth[:-1]), [depth[-1], 410.0]])
    extra = [z for z in (st, moho) if 0.0 < z < 410.0]
    edges = np.unique(np.concatenate([edges, extra]))
    edges = edges[np.concatenate([[True], np.diff(edges) > 1e-6])]
    top, bottom = edges[:-1], edges[1:]
    centre = 0.5 * (top + bottom)
    layer_vs = np.interp(centre, depth, vs)
    sediment = centre < st
    crust = (centre >= st) & (centre < moho)
    vp = np.where(sediment, brocher_vp_from_vs(layer_vs), np.where(crust, vp_vs * layer_vs, MANTLE_VP_VS * layer_vs))
    rho = np.where(centre < moho, nafe_drake_density(vp), birch_density(vp))
    ref_mid = np.array([451.67, 535.0, 618.33])
    ref = [np.asarray(a, float) for a in ak135_lower(jnp.asarray(ref_mid))]
    thickness = np.concatenate([bottom - top, np.full(3, 250.0 / 3.0), [0.0]])
    vp = np.concatenate([vp, ref[0], [AK135_HALF_SPACE[0]]])
    vs_all = np.concatenate([layer_vs, ref[1], [AK135_HALF_SPACE[1]]])
    rho = np.concatenate([rho, ref[2], [AK135_HALF_SPACE[2]]])
    return thickness, vp, vs_all, rho


def _padded_model(model, n_nodes: int):
    """``model`` with zero-thickness copies of its last mantle layer up to a fixed layer count.

    :func:`profile_model` gives ``n_nodes + 1`` to ``n_nodes + 3`` layers above the
    reference earth (the sediment base and the Moho may add a boundary); a fixed count
    lets every station reuse one compiled forward model. Zero-thickness layers change
    neither the dispersion nor the receiver function.
    """
    thickness, vp, vs, rho = model
    n_upper = len(thickness) - 4  # above the 3 reference layers and the half-space
    pad = n_nodes + 3 - n_upper
    if pad <= 0:
        return model
    at = n_upper - 1
    return tuple(
        np.concatenate([a[: at + 1], np.full(pad, 0.0 if i == 0 else a[at]), a[at + 1:]])
        for i, a in enumerate((thickness, vp, vs, rho))
    )


def _padded_periods(periods):
    """Periods padded (repeating the last) to a power of two ≥ 16: one compilation per size class."""
    n = max(16, 1 << (int(periods.size) - 1).bit_length())
    return np.concatenate([periods, np.repeat(periods[-1:], n - periods.size)])


def predicted_data(prediction: dict, index: int, observations) -> dict:
    """Forward-modelled data of station ``index``'s predicted model at its observation points."""
    from ..dispersion import phase_and_group_velocity
    from ..receiver import frequency_count, receiver_function

    model = profile_model(
        prediction["depth"], prediction["vs"][index], prediction["crust_vp_vs"][index],
        prediction["sediment_thickness"][index], prediction["crust_thickness"][index],
    )
    model = _padded_model(model, len(prediction["depth"]))
    out = {}
    periods = np.concatenate([observations.phase_periods, observations.group_periods])
    if periods.size:
        c, u = phase_and_group_velocity(jnp.asarray(_padded_periods(periods)), *map(jnp.asarray, model),
                                        spherical=True)
        c, u = np.asarray(c)[: periods.size], np.asarray(u)[: periods.size]
        if observations.n_phase:
            out["phase"] = c[: observations.n_phase]
        if observations.n_group:
            out["group"] = u[observations.n_phase:]
    if observations.n_rf:
        n_freq = frequency_count(observations.rf_times, *model, slowness=observations.slowness,
                                 gauss=observations.gauss)
        out["rf"] = np.asarray(receiver_function(
            jnp.asarray(observations.rf_times), *map(jnp.asarray, model), slowness=observations.slowness,
            gauss=observations.gauss, n_freq=n_freq,
        ))
    return out


def plot_prediction(prediction: dict, index: int, observations, path, *, fitted: dict | None = None,
                    truth: dict | None = None, max_depth: float = 150.0, title: str = ""):
    """PNG: Vs ± σ with depth (ST and Moho marked), and each data type with the predicted fit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fitted = predicted_data(prediction, index, observations) if fitted is None else fitted
    kinds = observations.kinds
    fig = plt.figure(figsize=(4.0 + 4.2 * len(kinds), 5.6), layout="constrained")
    grid = fig.add_gridspec(1, 1 + len(kinds), width_ratios=[1.0] + [1.3] * len(kinds))
    ax = fig.add_subplot(grid[0])
    z = prediction["depth"]
    keep = z <= max_depth
    vs, s = prediction["vs"][index], prediction["vs_sigma"][index]
    ax.fill_betweenx(z[keep], (vs - 2 * s)[keep], (vs + 2 * s)[keep], color="C0", alpha=0.15, label="±2σ")
    ax.fill_betweenx(z[keep], (vs - s)[keep], (vs + s)[keep], color="C0", alpha=0.3, label="±σ")
    ax.plot(vs[keep], z[keep], "C0", label="G-Query")
    if truth is not None:
        ax.plot(np.asarray(truth["vs"])[keep], z[keep], "k--", lw=1, label="truth")
    if observations.ref_vs.size:
        ax.errorbar(observations.ref_vs, observations.ref_vs_depth, xerr=observations.ref_vs_sigma, fmt=".",
                    color="C2", label="reference")
    st = prediction["sediment_thickness"][index]
    moho = st + prediction["crust_thickness"][index]
    for value, name in ((st, "ST"), (moho, "Moho")):
        ax.axhline(value, color="0.4", lw=0.8, ls=":")
        ax.text(0.02, value, f" {name} {value:.1f} km", transform=ax.get_yaxis_transform(),
                va="bottom", fontsize=8, color="0.3")
    ax.set(xlabel="Vs (km/s)", ylabel="depth (km)", ylim=(max_depth, 0),
           title=title or f"κ = {prediction['crust_vp_vs'][index]:.3f} ± {prediction['crust_vp_vs_sigma'][index]:.3f}")
    ax.legend(fontsize=8, loc="lower left")
    for j, kind in enumerate(kinds, start=1):
        ax = fig.add_subplot(grid[j])
        if kind == "rf":
            t = observations.rf_times
            ax.fill_between(t, observations.rf - observations.rf_sigma, observations.rf + observations.rf_sigma,
                            color="0.8", label="observed ±σ")
            ax.plot(t, observations.rf, "k", lw=0.8)
            ax.plot(t, fitted["rf"], "C3", label="predicted model")
            ax.set(xlabel="time after P (s)", ylabel="RF (1/s)",
                   title=f"P receiver function (p = {observations.slowness:.3f} s/km, a = {observations.gauss:.2f})")
        else:
            periods = getattr(observations, f"{kind}_periods")
            ax.errorbar(periods, getattr(observations, kind), yerr=getattr(observations, f"{kind}_sigma"), fmt="k.",
                        ms=3, lw=0.6, label="observed ±σ")
            order = np.argsort(periods)
            ax.plot(periods[order], fitted[kind][order], "C3", label="predicted model")
            ax.set(xscale="log", xlabel="period (s)", ylabel="km/s", title=f"Rayleigh {kind} velocity")
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
