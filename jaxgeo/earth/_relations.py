"""Empirical relations between seismic velocities and density, and the ak135 reference.

Crust and sediments (Brocher, 2005)
-----------------------------------
* **Vp from Vs** in sediments, Brocher's "regression fit" (his eq. 9, valid for
  0 < Vs < 4.5 km/s): ``Vp = 0.9409 + 2.0947 Vs − 0.8206 Vs² + 0.2683 Vs³ − 0.0251 Vs⁴``.
  It gives the high Vp/Vs of soft sediments (3.6 at Vs = 0.5 km/s, 2.0 at 2 km/s),
  which a single crustal κ cannot.
* **Density from Vp**, Brocher's polynomial fit to the Nafe–Drake curve (his eq. 1,
  valid for 1.5 < Vp < 8.5 km/s):
  ``ρ = 1.6612 Vp − 0.4721 Vp² + 0.0671 Vp³ − 0.0043 Vp⁴ + 0.000106 Vp⁵`` (g/cm³).
  Used for sediments and crystalline crust.

Mantle
------
* Vp = ``MANTLE_VP_VS`` × Vs with ``MANTLE_VP_VS = 1.79`` (the ak135 Vp/Vs between
  the Moho and 410 km varies within 1.79–1.86; Rayleigh waves are weakly sensitive
  to it).
* Density from a linear Birch-law relation ``ρ = 0.77 + 0.32 Vp`` (g/cm³, the
  coefficients of Berteussen 1977 used in CPS): 3.34 g/cm³ at Vp = 8.04 km/s and
  3.63 at 8.95 km/s, within 2% of ak135 between 35 and 410 km at ak135's velocities.

Below 410 km: ak135
-------------------
The model below 410 km is fixed: ak135 (Kennett, Engdahl & Buland, 1995) between 410
and 660 km (Vp, Vs and ρ linear in depth between its 50-km table points, which is what
the table itself is), and ak135 just below the 660-km discontinuity as the half-space.

References
----------
Brocher, T. M. (2005). Empirical relations between elastic wavespeeds and density in
the Earth's crust. BSSA 95(6), 2081–2092. https://doi.org/10.1785/0120050077

Birch, F. (1961). The velocity of compressional waves in rocks to 10 kilobars, part 2.
J. Geophys. Res. 66(7), 2199–2224. https://doi.org/10.1029/JZ066i007p02199

Berteussen, K.-A. (1977). Moho depth determinations based on spectral-ratio analysis
of NORSAR long-period P waves. Phys. Earth Planet. Inter. 15, 13–27.

Kennett, B. L. N., Engdahl, E. R. & Buland, R. (1995). Constraints on seismic velocities
in the Earth from traveltimes. Geophys. J. Int. 122, 108–124.
https://doi.org/10.1111/j.1365-246X.1995.tb03540.x
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = [
    "AK135_HALF_SPACE",
    "MANTLE_VP_VS",
    "ak135_lower",
    "birch_density",
    "brocher_vp_from_vs",
    "nafe_drake_density",
]

MANTLE_VP_VS = 1.79


def _polynomial(x, coefficients):
    # Horner's scheme, lowest-order coefficient first; plain arithmetic, so it works on
    # Python floats and NumPy arrays (static set-up) as well as on JAX arrays.
    result = coefficients[-1]
    for c in coefficients[-2::-1]:
        result = result * x + c
    return result


def brocher_vp_from_vs(vs):
    """Vp (km/s) from Vs (km/s), Brocher (2005) eq. 9; for sediments (Vs < 4.5 km/s)."""
    return _polynomial(vs, (0.9409, 2.0947, -0.8206, 0.2683, -0.0251))


def nafe_drake_density(vp):
    """Density (g/cm³) from Vp (km/s): Brocher's (2005) Nafe–Drake fit, eq. 1."""
    return _polynomial(vp, (0.0, 1.6612, -0.4721, 0.0671, -0.0043, 0.000106))


def birch_density(vp):
    """Mantle density (g/cm³) from Vp (km/s): ``0.77 + 0.32 Vp`` (Birch-law form)."""
    return 0.77 + 0.32 * vp


# ak135 between 410 and 660 km: depth (km), Vp, Vs (km/s), ρ (g/cm³), below the 410 and
# above the 660 discontinuity (Kennett et al. 1995, table at 50-km spacing).
_AK135_410_660 = (
    (410.0, 9.3601, 5.0806, 3.7557),
    (460.0, 9.5280, 5.1864, 3.8175),
    (510.0, 9.6962, 5.2922, 3.8793),
    (560.0, 9.8640, 5.3989, 3.9410),
    (610.0, 10.0320, 5.5047, 4.0028),
    (660.0, 10.2000, 5.6104, 4.0646),
)

#: ak135 just below the 660-km discontinuity: (Vp, Vs, ρ), used as the half-space.
AK135_HALF_SPACE = (10.7909, 5.9607, 4.3714)

#: Depth (km) of the top of the fixed reference part of the model.
REFERENCE_TOP = 410.0
#: Depth (km) of the top of the half-space.
REFERENCE_BOTTOM = 660.0


def ak135_lower(depth):
    """ak135 (Vp, Vs, ρ) at depths (km) between 410 and 660 km (linear between table rows)."""
    table = jnp.asarray(_AK135_410_660)
    return tuple(
        jnp.interp(depth, table[:, 0], table[:, k]).astype(depth.dtype)
        for k in (1, 2, 3)
    )
