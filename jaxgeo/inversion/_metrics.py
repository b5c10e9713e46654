"""Figures of merit of a recovered model and of its data fit."""

from __future__ import annotations

import numpy as np


def rms_density_error(recovered, truth) -> float:
    """sqrt(mean((ρ_rec − ρ_true)²)) over all cells, kg/m³."""
    return float(np.sqrt(np.mean((np.asarray(recovered, float) - np.asarray(truth, float)) ** 2)))


def correlation(recovered, truth) -> float:
    """Pearson correlation between the recovered and true cell values."""
    return float(np.corrcoef(np.ravel(recovered), np.ravel(truth))[0, 1])


def data_rms_misfit(predicted, observed) -> float:
    """sqrt(mean((d_pred − d_obs)²)), in the data's unit (mGal)."""
    return float(np.sqrt(np.mean((np.asarray(predicted, float) - np.asarray(observed, float)) ** 2)))


def chi2(predicted, observed, sigma) -> float:
    """χ² per datum, mean(((d_pred − d_obs)/σ)²)."""
    r = (np.asarray(predicted, float) - np.asarray(observed, float)) / np.asarray(sigma, float)
    return float(np.mean(r**2))


def model_metrics(recovered, problem, predicted, truth=None) -> dict:
    """The metrics.json entries of one method (truth-dependent ones only when known)."""
    out = {
        "data_rms_misfit": data_rms_misfit(predicted, problem.data),
        "chi2": chi2(predicted, problem.data, problem.sigma),
    }
    if truth is not None:
        out["rms_density_error"] = rms_density_error(recovered, truth)
        out["correlation"] = correlation(recovered, truth)
    return out
