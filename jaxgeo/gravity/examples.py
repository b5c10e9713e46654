"""Embedded synthetic models (no download needed)."""

from __future__ import annotations

import numpy as np

from ._mesh import PrismMesh


def dipping_block(shape=(40, 40, 15), survey_shape=(41, 41), height=50.0):
    """A dense tabular block dipping 30° to the east, on a regular prism mesh.

    The block (density contrast +300 kg/m³ in a 0 kg/m³ background) spans northing
    −800…800 m and easting −1200…1200 m; its top is at 200 m depth at its western end
    and deepens eastwards at 30°; it is 300 m thick (measured vertically). The mesh
    covers easting and northing −2000…2000 m and depths 0…1500 m (upward −1500…0 m).
    The survey is a regular grid over −2500…2500 m at ``height`` m above the surface.

    Parameters
    ----------
    shape : (int, int, int)
        Cells along easting, northing, upward.
    survey_shape : (int, int)
        Points along easting and northing.
    height : float
        Survey height (m, upward).

    Returns
    -------
    dict with ``mesh`` (PrismMesh), ``density`` (kg/m³, shape ``shape``) and
    ``coordinates`` (easting, northing, upward) arrays of shape ``survey_shape[::-1]``.
    """
    mesh = PrismMesh(
        np.linspace(-2000.0, 2000.0, shape[0] + 1),
        np.linspace(-2000.0, 2000.0, shape[1] + 1),
        np.linspace(-1500.0, 0.0, shape[2] + 1),
    )
    e, n, u = (np.asarray(c) for c in mesh.centers())
    top = -200.0 - np.tan(np.radians(30.0)) * (e + 1200.0)
    inside = (np.abs(e) <= 1200.0) & (np.abs(n) <= 800.0) & (u <= top) & (u >= top - 300.0)
    density = np.where(inside, 300.0, 0.0)
    easting, northing = np.meshgrid(np.linspace(-2500.0, 2500.0, survey_shape[0]), np.linspace(-2500.0, 2500.0, survey_shape[1]))
    coordinates = (easting, northing, np.full_like(easting, height))
    return {"mesh": mesh, "density": density, "coordinates": coordinates}


def prism_layer(shape=(30, 30), spacing=200.0, reference=-2000.0, seed=0):
    """A layer of prisms between a reference depth and an undulating surface.

    Mimics harmonica's ``prism_layer``: columns on a regular grid of ``spacing`` m from
    ``reference`` (m, upward) to a smooth synthetic topography of the basement, with a
    density contrast of −400 kg/m³ (sediments over basement). Returns a dict with
    ``prisms`` (n, 6), ``density`` (n,) and ``coordinates`` of a survey 100 m above the
    layer, on a grid twice as fine as the columns.
    """
    rng = np.random.default_rng(seed)
    ne, nn = shape
    e = (np.arange(ne) - (ne - 1) / 2) * spacing
    n = (np.arange(nn) - (nn - 1) / 2) * spacing
    E, N = np.meshgrid(e, n, indexing="ij")
    phases = rng.uniform(0, 2 * np.pi, size=3)
    surface = reference + 800.0 + 300.0 * np.sin(E / 1500.0 + phases[0]) * np.cos(N / 2100.0 + phases[1]) + 150.0 * np.sin((E + N) / 900.0 + phases[2])
    half = spacing / 2
    prisms = np.stack([E - half, E + half, N - half, N + half, np.full_like(E, reference), surface], axis=-1).reshape(-1, 6)
    density = np.full(prisms.shape[0], -400.0)
    ge, gn = np.meshgrid(np.linspace(e[0], e[-1], 2 * ne - 1), np.linspace(n[0], n[-1], 2 * nn - 1))
    coordinates = (ge, gn, np.full_like(ge, reference + 800.0 + 600.0))
    return {"prisms": prisms, "density": density, "coordinates": coordinates}


EXAMPLES = {"dipping-block": dipping_block}
