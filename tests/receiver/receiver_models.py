"""Models shared by the receiver-function tests (imported by name; not a conftest so the
name cannot collide with another test folder's helpers)."""

import numpy as np


def crustal_model(name):
    """(thickness, vp, vs, rho) of named test models (km, km/s, km/s, g/cm³)."""
    models = {
        # sediments over a two-layer crust over mantle
        "sediment_crust": (
            [1.5, 18.0, 16.0, 0.0],
            [2.8, 6.0, 6.8, 8.0],
            [1.1, 3.5, 3.9, 4.5],
            [2.1, 2.7, 2.9, 3.3],
        ),
        # soft, strongly ringing basin over crust
        "basin": (
            [0.8, 2.5, 30.0, 0.0],
            [2.0, 4.2, 6.3, 8.1],
            [0.6, 2.3, 3.6, 4.6],
            [1.9, 2.4, 2.8, 3.35],
        ),
        # sediments, upper/lower crust with a low-velocity zone, thick Moho transition
        "lvz_crust": (
            [0.5, 2.0, 12.0, 5.0, 14.0, 4.0, 0.0],
            [2.5, 4.5, 6.1, 5.7, 6.7, 7.4, 8.05],
            [1.0, 2.5, 3.55, 3.2, 3.85, 4.1, 4.5],
            [2.0, 2.45, 2.75, 2.7, 2.95, 3.1, 3.35],
        ),
        "layer_over_halfspace": ([35.0, 0.0], [6.3, 8.0], [3.6, 4.5], [2.8, 3.3]),
    }
    return tuple(np.asarray(a, dtype=float) for a in models[name])


def random_model(rng, n_layers, total_thickness=60.0):
    """A random, physically valid layered model with velocities increasing on average."""
    thickness = rng.uniform(0.5, 1.5, n_layers) * total_thickness / n_layers
    thickness[-1] = 0.0
    vs = np.sort(rng.uniform(1.0, 4.3, n_layers)) + rng.normal(0.0, 0.15, n_layers)
    vs = np.clip(vs, 0.8, 4.4)
    vs[-1] = 4.5
    vp = vs * rng.uniform(1.65, 1.9, n_layers)
    rho = 1.74 * vp**0.25
    return thickness, vp, vs, rho
