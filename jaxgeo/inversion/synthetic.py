"""Synthetic inversion set-ups, including the one of Mishra et al. (2026).

The paper's set-up (arXiv:2510.17876, and the authors' public scripts): a
1,000 × 1,000 × 500 m volume discretised in 50 m cells *centred* on the nodes of a
50 m grid (21 × 21 × 11 = 4,851 cells, so the outer cells reach 25 m beyond the
volume and the top layer spans 25 m above to 25 m below the surface); 441 stations on
the 21 × 21 node grid, 1 m above the surface — inside the top layer of cells, where
the prism formula must use the right branch of its arctangents; Gaussian noise of 1%
of the noise-free data's standard deviation.

Models: a +400 kg/m³ block descending in steps through 7 cell layers (each layer 6
cells east–west by 5 north–south, shifted one cell north per layer going up), and a
smooth Gaussian random field.
"""

from __future__ import annotations

import numpy as np

from ..gravity import PrismMesh, prism_gravity
from ._problem import GravityProblem

CELL = 50.0


def paper_mesh(cell: float = CELL, extent=(1000.0, 1000.0, 500.0)) -> PrismMesh:
    """Cells of size ``cell`` centred on the nodes of a ``cell`` grid over ``extent`` (m).

    Easting/northing nodes 0 … extent, depth nodes 0 … extent[2] (upward 0 … −extent).
    """
    ne, nn, nz = (int(round(e / cell)) + 1 for e in extent)
    east = (np.arange(ne + 1) - 0.5) * cell
    north = (np.arange(nn + 1) - 0.5) * cell
    up = np.sort(-(np.arange(nz + 1) - 0.5) * cell)
    return PrismMesh(east, north, up)


def paper_stations(cell: float = CELL, extent=(1000.0, 1000.0), height: float = 1.0):
    """The node grid (0 … extent every ``cell`` m) at ``height`` m above the surface."""
    e = np.arange(0.0, extent[0] + cell / 2, cell)
    n = np.arange(0.0, extent[1] + cell / 2, cell)
    E, N = np.meshgrid(e, n, indexing="ij")
    return (E.ravel(), N.ravel(), np.full(E.size, height))


def dipping_block(mesh: PrismMesh, contrast: float = 400.0) -> np.ndarray:
    """The stepped dipping block of the paper on ``paper_mesh()`` (kg/m³, mesh shape).

    Layer i = 0 … 6 lies at depth index 1 + i (50 … 350 m) and spans easting cells
    7 … 12 and northing cells 11 − i … 15 − i.
    """
    density = np.zeros(mesh.shape)
    n_up = mesh.shape[2]
    for i in range(7):
        k = n_up - 1 - (1 + i)  # depth index 1 + i counted from the top
        density[7:13, 11 - i : 16 - i, k] = contrast
    return density


def random_field(mesh: PrismMesh, *, seed: int = 0, correlation_length: float = 250.0, nu: float = 1.5,
                 std: float = 100.0) -> np.ndarray:
    """A smooth Gaussian random field (kg/m³, mesh shape), zero mean and ``std``.

    Spectrum (k² + 1/ℓ²)^(−ν−3/2) (Matérn-like, ℓ = ``correlation_length`` m), drawn
    by FFT on the mesh's cell grid with a seeded NumPy generator.
    """
    rng = np.random.default_rng(seed)
    spacing = [float(np.diff(np.asarray(a))[0]) for a in (mesh.easting, mesh.northing, mesh.upward)]
    k = np.meshgrid(*(2 * np.pi * np.fft.fftfreq(n, d) for n, d in zip(mesh.shape, spacing)), indexing="ij")
    power = (k[0] ** 2 + k[1] ** 2 + k[2] ** 2 + correlation_length**-2) ** (-nu - 1.5)
    power[0, 0, 0] = 0.0
    noise = rng.standard_normal(mesh.shape) + 1j * rng.standard_normal(mesh.shape)
    field = np.real(np.fft.ifftn(noise * np.sqrt(power)))
    return std * (field - field.mean()) / field.std()


MODELS = {"dipping-block": dipping_block, "random-field": random_field}

# Prior density bounds (kg/m³) used for each synthetic model by the examples and the
# benchmark: the block is a positive contrast; the random field has both signs.
PRIOR_BOUNDS = {"dipping-block": (0.0, 600.0), "random-field": (-600.0, 600.0)}
# Depth weighting of the INR output (INRConfig.depth_gain) used with those bounds.
PRIOR_DEPTH_GAIN = {"dipping-block": 0.75, "random-field": 0.0}


def paper_setup(model: str = "dipping-block", *, noise: float = 0.01, seed: int = 0, cell: float = CELL,
                extent=(1000.0, 1000.0, 500.0)) -> dict:
    """The paper's synthetic experiment: mesh, stations, truth and noisy data.

    Parameters
    ----------
    model : ``"dipping-block"`` or ``"random-field"``
    noise : float
        Noise standard deviation as a fraction of the noise-free data's standard
        deviation (0.01 in the paper).
    seed : int
        Seeds the noise (and the random field).

    Returns
    -------
    dict with ``problem`` (GravityProblem, g_z in mGal), ``truth`` (kg/m³, mesh
    shape), ``clean`` (noise-free data, mGal) and ``description``.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {tuple(MODELS)}; got {model!r}")
    mesh = paper_mesh(cell, extent)
    truth = dipping_block(mesh) if model == "dipping-block" else random_field(mesh, seed=seed)
    coords = paper_stations(cell, extent[:2])
    clean = np.asarray(prism_gravity(coords, mesh, truth, "g_z"), dtype=np.float64)
    sigma = noise * clean.std()
    rng = np.random.default_rng(seed + 1)
    data = clean + sigma * rng.standard_normal(clean.shape)
    problem = GravityProblem(mesh, coords, data, np.full(clean.shape, sigma))
    description = (
        f"{model} on {mesh.shape[0]}×{mesh.shape[1]}×{mesh.shape[2]} cells of {cell:g} m, "
        f"{clean.size} stations 1 m above the surface, noise {noise:.0%} of the data's std ({sigma:.4g} mGal)"
    )
    return {"problem": problem, "truth": truth, "clean": clean, "description": description}
