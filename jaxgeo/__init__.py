"""jaxgeo: differentiable geophysics in JAX.

Subpackages
-----------
gravity
    Gravitational fields of right-rectangular prisms (harmonica's conventions).
dispersion
    Rayleigh and Love phase and group velocities of layered models (disba's units).
receiver
    P receiver functions of layered models, and deconvolution of observed waveforms.
earth
    The 23-parameter continental prior, its fixed-shape layered models and targets, and
    the on-device simulator of joint dispersion + receiver-function samples.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
