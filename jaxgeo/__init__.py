"""jaxgeo: differentiable geophysics in JAX.

Subpackages
-----------
gravity
    Gravitational fields of right-rectangular prisms (harmonica's conventions).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
