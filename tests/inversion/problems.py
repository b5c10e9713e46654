"""Small inversion problems shared by the tests."""

import numpy as np

from jaxgeo.gravity import PrismMesh, prism_gravity
from jaxgeo.inversion import GravityProblem


def block_problem(noise=0.02, seed=0, height=50.0):
    """A 400 kg/m³ block of 2×2×2 cells in a 10×10×6 mesh of 100 m cells; 11×11 stations
    ``height`` m above it; Gaussian noise of ``noise`` × the data's standard deviation."""
    mesh = PrismMesh(np.linspace(0, 1000, 11), np.linspace(0, 1000, 11), np.linspace(-600, 0, 7))
    truth = np.zeros(mesh.shape)
    truth[4:6, 4:6, 2:4] = 400.0  # upward −400 … −200 m
    e, n = np.meshgrid(np.linspace(0, 1000, 11), np.linspace(0, 1000, 11), indexing="ij")
    coords = (e.ravel(), n.ravel(), np.full(e.size, height))
    clean = np.asarray(prism_gravity(coords, mesh, truth))
    sigma = noise * clean.std()
    data = clean + sigma * np.random.default_rng(seed).standard_normal(clean.shape)
    return GravityProblem(mesh, coords, data, np.full(data.shape, sigma)), truth


def centre_of_mass(mesh, density):
    centres = [np.asarray(c) for c in mesh.centers()]
    weight = np.clip(density, 0, None)
    return np.array([(c * weight).sum() / weight.sum() for c in centres])
