"""Convergence diagnostics and posterior summaries.

* **R̂**: the rank-normalised split R̂ of Vehtari, Gelman, Simpson, Carpenter & Bürkner
  (2021, https://doi.org/10.1214/20-BA1221), the larger of the bulk (rank-normalised
  split chains) and tail (folded) values: ``blackjax.diagnostics.rhat``, which
  implements exactly that (§4 of the paper; ArviZ's ``az.rhat(method="rank")``).
  ``blackjax.diagnostics.potential_scale_reduction`` is the original Gelman–Rubin
  statistic on unsplit chains and is *not* used.
* **Bulk ESS**: ``blackjax.diagnostics.ess_bulk`` — rank-normalised split chains fed to
  ``blackjax.diagnostics.effective_sample_size`` (Geyer's initial monotone sequence on
  FFT autocovariances, as Stan), the paper's bulk-ESS.
* Acceptance rate and NUTS divergences come from the transitions (:mod:`._kernels`).

:func:`convergence_warnings` calls ``warnings.warn`` for every group (station) with a
parameter whose R̂ > 1.05 or bulk ESS < 100, naming the parameters.

Summaries are over all chains' draws pooled: mean, standard deviation, and the 5 %,
50 % and 95 % percentiles (``numpy.percentile``, linear interpolation).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

__all__ = [
    "ESS_LIMIT",
    "RHAT_LIMIT",
    "convergence_warnings",
    "ess_bulk",
    "rhat",
    "summarise",
]

RHAT_LIMIT = 1.05
ESS_LIMIT = 100.0
STATISTICS = ("mean", "std", "p05", "p50", "p95")


def rhat(draws) -> np.ndarray:
    """Rank-normalised split R̂ (Vehtari et al. 2021) of draws (..., chains, draws, k).

    Returns an array (..., k) (NaN where undefined, e.g. a constant parameter).
    """
    return _apply("rhat", draws)


def ess_bulk(draws) -> np.ndarray:
    """Bulk effective sample size (Vehtari et al. 2021) of draws (..., chains, draws, k).

    Returns an array (..., k).
    """
    return _apply("ess_bulk", draws)


@functools.cache
def _compiled(name):
    import blackjax.diagnostics
    import jax

    function = getattr(blackjax.diagnostics, name)
    return jax.jit(jax.vmap(lambda x: function(x, chain_axis=0, sample_axis=1)))


def _apply(name, draws):
    import jax

    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim < 3:
        raise ValueError(f"draws: expected shape (..., chains, draws, k), got {draws.shape}")
    if draws.shape[-3] < 2 or draws.shape[-2] < 4:
        raise ValueError(f"draws: need at least 2 chains of 4 draws, got shape {draws.shape}")
    lead = draws.shape[:-3]
    flat = draws.reshape((-1,) + draws.shape[-3:])
    if not jax.config.read("jax_enable_x64"):
        flat = flat.astype(np.float32)
    # blackjax broadcasts (chains, draws, k) against (k,): allow it whatever the caller's setting
    with jax.numpy_rank_promotion("allow"):
        out = np.asarray(_compiled(name)(flat), dtype=np.float64)
    return out.reshape(lead + (draws.shape[-1],))


def convergence_warnings(rhat_values, ess_values, names, *, groups=None) -> list[str]:
    """Warn (``warnings.warn``) where R̂ > 1.05 or bulk ESS < 100; return the messages.

    Parameters
    ----------
    rhat_values, ess_values : arrays (G, k) or (k,)
    names : sequence of k str
        Parameter names.
    groups : sequence of G str, optional
        Names of the groups (stations) used in the messages.
    """
    r = np.atleast_2d(np.asarray(rhat_values, dtype=float))
    e = np.atleast_2d(np.asarray(ess_values, dtype=float))
    groups = list(groups) if groups is not None else [f"station {i}" for i in range(r.shape[0])]
    messages = []
    for g in range(r.shape[0]):
        bad_r = [f"{names[j]} ({r[g, j]:.3f})" for j in range(r.shape[1]) if not r[g, j] <= RHAT_LIMIT and np.isfinite(r[g, j])]
        bad_e = [f"{names[j]} ({e[g, j]:.0f})" for j in range(e.shape[1]) if not e[g, j] >= ESS_LIMIT]
        parts = []
        if bad_r:
            parts.append(f"R-hat > {RHAT_LIMIT} for " + ", ".join(bad_r))
        if bad_e:
            parts.append(f"bulk ESS < {ESS_LIMIT:.0f} for " + ", ".join(bad_e))
        if parts:
            message = f"{groups[g]}: chains not converged: " + "; ".join(parts) + " — run more steps or chains"
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            messages.append(message)
    return messages


def summarise(values, axis) -> dict:
    """Mean, std and 5/50/95 percentiles of ``values`` over ``axis`` (tuple of axes)."""
    values = np.asarray(values, dtype=np.float64)
    p05, p50, p95 = np.percentile(values, [5.0, 50.0, 95.0], axis=axis)
    return {
        "mean": np.mean(values, axis=axis),
        "std": np.std(values, axis=axis, ddof=1),
        "p05": p05,
        "p50": p50,
        "p95": p95,
    }
