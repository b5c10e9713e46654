"""The 23-parameter continental prior: names, bounds, sampling and log-density.

The parameter vector (the interchange format between the simulator, MCMC and learned
inversion) is a flat float array of shape (..., 23), in the order of ``PARAM_NAMES``:

====  =======================  ============  ==================================================
 idx  name                     range         meaning
====  =======================  ============  ==================================================
   0  sediment_thickness       0 – 5 km      ST; 0 allowed (the sediment sublayers then vanish)
   1  sediment_vs_top          0.5 – 2.5     Vs at the surface (km/s)
   2  sediment_vs_bottom       1.0 – 3.0     Vs at the sediment base (km/s); linear in between
   3  crust_thickness          15 – 65 km    CT: crystalline crust, sediment base to Moho
 4–8  crust_vs_1 … crust_vs_5  2.6 – 4.3     cubic B-spline coefficients of crustal Vs (km/s)
   9  crust_vp_vs              1.65 – 1.90   crustal Vp/Vs κ
10–22 mantle_vs_1 … _13        3.9 – 5.0     cubic B-spline coefficients of mantle Vs (km/s),
                                             Moho to 410 km
====  =======================  ============  ==================================================

Why these ranges. Sediments: unconsolidated to lithified (Vs 0.5–3 km/s), up to 5 km
thick, absent allowed. Crystalline crust 15–65 km covers stretched to thickened
continental crust (Moho depth = ST + CT, 15–70 km); crustal Vs 2.6–4.3 km/s spans
weathered granite to mafic lower crust, κ 1.65–1.90 felsic to mafic. Mantle Vs
3.9–5.0 km/s spans hot asthenosphere (and partial melt) to cratonic lid; the 13
coefficients are independent, so low-velocity zones of any depth are in the prior.
Vp, density and the structure below 410 km are not free: see
:mod:`jaxgeo.earth._relations` (Rayleigh waves and P receiver functions constrain them
weakly, and each extra free parameter would widen the posterior without information).

The prior is uniform within the bounds (independent parameters): ``log_prior`` is
``−Σ log(upper − lower)`` inside the box and ``−inf`` outside (bounds inclusive).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "LOWER",
    "N_CRUST_COEFFICIENTS",
    "N_MANTLE_COEFFICIENTS",
    "N_PARAMS",
    "PARAM_NAMES",
    "UPPER",
    "log_prior",
    "param_index",
    "sample_prior",
]

N_CRUST_COEFFICIENTS = 5
N_MANTLE_COEFFICIENTS = 13

_SPEC = (
    [
        ("sediment_thickness", 0.0, 5.0),
        ("sediment_vs_top", 0.5, 2.5),
        ("sediment_vs_bottom", 1.0, 3.0),
        ("crust_thickness", 15.0, 65.0),
    ]
    + [(f"crust_vs_{k + 1}", 2.6, 4.3) for k in range(N_CRUST_COEFFICIENTS)]
    + [("crust_vp_vs", 1.65, 1.90)]
    + [(f"mantle_vs_{k + 1}", 3.9, 5.0) for k in range(N_MANTLE_COEFFICIENTS)]
)

#: Parameter names, in the order of the last axis of a parameter array.
PARAM_NAMES = tuple(name for name, _, _ in _SPEC)
N_PARAMS = len(PARAM_NAMES)
#: Lower and upper bounds (NumPy float64 arrays, shape (23,)), units as in the table.
LOWER = np.array([lo for _, lo, _ in _SPEC])
UPPER = np.array([hi for _, _, hi in _SPEC])
_LOG_VOLUME = float(np.sum(np.log(UPPER - LOWER)))

# Slices of the parameter vector (static).
SEDIMENT = slice(0, 3)
CRUST_THICKNESS = 3
CRUST_VS = slice(4, 4 + N_CRUST_COEFFICIENTS)
CRUST_VP_VS = 4 + N_CRUST_COEFFICIENTS
MANTLE_VS = slice(CRUST_VP_VS + 1, CRUST_VP_VS + 1 + N_MANTLE_COEFFICIENTS)


def param_index(name: str) -> int:
    """Index of a parameter in the flat vector; ``ValueError`` naming it if unknown."""
    try:
        return PARAM_NAMES.index(name)
    except ValueError:
        raise ValueError(
            f"unknown parameter name {name!r}; expected one of {PARAM_NAMES}"
        ) from None


def sample_prior(key, n: int, dtype=jnp.float32):
    """Draw ``n`` parameter vectors from the uniform prior.

    Parameters
    ----------
    key : jax.random key
    n : int (static)
        Number of draws.
    dtype : floating dtype
        Output dtype.

    Returns
    -------
    array (n, 23)
        Parameters in the order of ``PARAM_NAMES`` (km, km/s, dimensionless κ).
    """
    lower = jnp.asarray(LOWER, dtype=dtype)[None, :]
    upper = jnp.asarray(UPPER, dtype=dtype)[None, :]
    u = jax.random.uniform(key, (n, N_PARAMS), dtype=dtype)
    # The product can round above `upper` by an ulp; clip so draws are always in bounds.
    return jnp.clip(lower + u * (upper - lower), lower, upper)


def log_prior(params):
    """Log-density of the uniform prior.

    Parameters
    ----------
    params : array (..., 23)

    Returns
    -------
    array (...)
        ``−Σ log(upper − lower) = −{:.6f}`` where every parameter is within its
        bounds (inclusive), ``−inf`` elsewhere (NaN parameters count as outside).
    """
    params = jnp.asarray(params)
    lower = jnp.broadcast_to(jnp.asarray(LOWER, dtype=params.dtype), params.shape)
    upper = jnp.broadcast_to(jnp.asarray(UPPER, dtype=params.dtype), params.shape)
    inside = jnp.all((params >= lower) & (params <= upper), axis=-1)
    return jnp.where(inside, -_LOG_VOLUME, -math.inf).astype(params.dtype)


log_prior.__doc__ = log_prior.__doc__.format(_LOG_VOLUME)
