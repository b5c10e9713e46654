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


def _section_indices(mesh, reference):
    """Cell indices (i, j, k) through which to cut: the |reference|-weighted centre of
    the model (the cells nearest to its centroid along each axis)."""
    weight = np.nan_to_num(np.abs(np.asarray(reference, dtype=float)))
    if weight.sum() == 0:
        return tuple(n // 2 for n in weight.shape)
    indices = []
    for axis, n in enumerate(weight.shape):
        profile = weight.sum(axis=tuple(a for a in range(3) if a != axis))
        indices.append(int(np.clip(np.rint((profile * np.arange(n)).sum() / profile.sum()), 0, n - 1)))
    return tuple(indices)


def plot_sections(mesh, models, *, truth=None, stations=None, indices=None, cmap="RdBu_r"):
    """Plan view and vertical sections of density models on a prism mesh.

    Parameters
    ----------
    mesh : PrismMesh
    models : dict name → density array of the mesh's shape (kg/m³)
    truth : array of the mesh's shape, optional
        Drawn in the first row, and used to choose the sections.
    stations : (easting, northing, upward), optional
        Station positions, marked on the plan views.
    indices : (i, j, k), optional
        Cell indices of the easting (N–S section), northing (E–W section) and upward
        (plan view) cuts; default through the |truth|-weighted (or first model's) centre.

    Returns
    -------
    the matplotlib Figure: one row per model, columns plan / E–W / N–S.
    """
    import matplotlib.pyplot as plt

    rows = ([("truth", np.asarray(truth))] if truth is not None else []) + [(k, np.asarray(v)) for k, v in models.items()]
    reference = rows[0][1]
    i, j, k = indices if indices is not None else _section_indices(mesh, reference)
    e, n, u = (np.asarray(a) / 1e3 for a in (mesh.easting, mesh.northing, mesh.upward))
    scale = max(float(np.nanmax(np.abs(r))) for _, r in rows) or 1.0
    vmax = float(np.nanmax(np.abs(truth))) if truth is not None else scale
    fig, axes = plt.subplots(len(rows), 3, figsize=(13, 3.4 * len(rows)), layout="constrained", squeeze=False)
    for row, (name, model) in enumerate(rows):
        kw = {"cmap": cmap, "vmin": -vmax, "vmax": vmax, "shading": "flat"}
        ax = axes[row, 0]
        image = ax.pcolormesh(e, n, model[:, :, k].T, **kw)
        if stations is not None:
            ax.plot(np.ravel(stations[0]) / 1e3, np.ravel(stations[1]) / 1e3, ".", color="k", markersize=1.5)
        ax.set_title(f"{name}: plan at upward {1e3 * 0.5 * (u[k] + u[k + 1]):.0f} m")
        ax.set_xlabel("easting (km)")
        ax.set_ylabel("northing (km)")
        ax.set_aspect("equal")
        ax = axes[row, 1]
        ax.pcolormesh(e, u, model[:, j, :].T, **kw)
        ax.set_title(f"{name}: E–W section at northing {1e3 * 0.5 * (n[j] + n[j + 1]):.0f} m")
        ax.set_xlabel("easting (km)")
        ax.set_ylabel("upward (km)")
        ax = axes[row, 2]
        ax.pcolormesh(n, u, model[i, :, :].T, **kw)
        ax.set_title(f"{name}: N–S section at easting {1e3 * 0.5 * (e[i] + e[i + 1]):.0f} m")
        ax.set_xlabel("northing (km)")
        ax.set_ylabel("upward (km)")
        fig.colorbar(image, ax=axes[row, :], label="density contrast (kg/m³)", shrink=0.9)
    return fig


def plot_data_fit(coordinates, observed, predictions, *, sigma=None, units="mGal"):
    """Observed, predicted and residual maps, one row per method.

    Parameters
    ----------
    coordinates : (easting, northing, ...) station positions (m)
    observed : array of data
    predictions : dict name → predicted data
    sigma : array, optional
        Data standard deviations; the residual panel's title gives χ² per datum.

    Returns
    -------
    the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    e, n = np.ravel(coordinates[0]), np.ravel(coordinates[1])
    observed = np.ravel(observed)
    fig, axes = plt.subplots(len(predictions), 3, figsize=(15, 4.3 * len(predictions)), layout="constrained", squeeze=False)
    limits = (float(np.min(observed)), float(np.max(observed)))
    for row, (name, predicted) in enumerate(predictions.items()):
        predicted = np.ravel(predicted)
        residual = observed - predicted
        rms = float(np.sqrt(np.mean(residual**2)))
        note = f"RMS {rms:.3g} {units}"
        if sigma is not None:
            note += f", χ² {float(np.mean((residual / np.ravel(sigma)) ** 2)):.3f}"
        for col, (values, title, symmetric) in enumerate(
            ((observed, "observed", False), (predicted, f"predicted ({name})", False), (residual, f"residual: {note}", True))
        ):
            ax = axes[row, col]
            if symmetric:
                plot_map(e, n, values, title=title, units=units, ax=ax, cmap="RdBu_r", symmetric=True)
            else:
                plot_map(e, n, np.clip(values, *limits), title=title, units=units, ax=ax)
    return fig
