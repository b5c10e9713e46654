"""Figures: maps of fields on observation points (matplotlib, Agg-safe)."""

from __future__ import annotations

import numpy as np


def _grid_axes(easting, northing):
    """Return 1-D axes if (easting, northing) form a regular grid, else None."""
    e, n = np.asarray(easting), np.asarray(northing)
    if e.ndim == 2 and e.shape == n.shape and np.allclose(e, e[:1, :]) and np.allclose(n, n[:, :1]):
        return e[0, :], n[:, 0]
    return None


def plot_map(easting, northing, values, *, title="", units="", ax=None, cmap="viridis", symmetric=False):
    """Map of values at observation points (grid → image, scattered → filled contours).

    Parameters
    ----------
    easting, northing : arrays (m)
    values : array of the same shape
    title, units : str
        Axis title and colour-bar label.
    symmetric : bool
        Centre the colour scale on zero (for signed fields).

    Returns
    -------
    the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    vmax = np.abs(finite).max() if (symmetric and finite.size) else None
    kwargs = {"cmap": cmap, "vmin": -vmax if vmax else None, "vmax": vmax}
    axes = _grid_axes(easting, northing)
    if axes is not None:
        image = ax.pcolormesh(axes[0] / 1e3, axes[1] / 1e3, values, shading="nearest", **kwargs)
    else:
        e, n = np.ravel(easting) / 1e3, np.ravel(northing) / 1e3
        image = ax.tricontourf(e, n, values.ravel(), levels=30, **kwargs)
        ax.plot(e, n, ".", color="k", markersize=1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("easting (km)")
    ax.set_ylabel("northing (km)")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=units)
    return ax
