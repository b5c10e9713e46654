"""Gravitational fields of right-rectangular prisms (harmonica's conventions).

Units: coordinates and prism bounds in m, density in kg/m³; the potential in J/kg,
``g_e``, ``g_n``, ``g_z`` in mGal (``g_z`` downward), tensor components in Eötvös.
"""

from ._forward import FIELD_NAMES, prism_gravity, prism_gravity_jacobian
from ._mesh import PrismMesh

__all__ = ["FIELD_NAMES", "PrismMesh", "prism_gravity", "prism_gravity_jacobian"]
