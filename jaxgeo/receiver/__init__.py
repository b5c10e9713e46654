"""P receiver functions of 1-D layered models: full-response synthesis and deconvolution.

Public API
----------
receiver_function
    Radial P receiver function (1/s, unit-area Gaussian) of a layered model for a plane
    P wave of given slowness: every conversion and multiple (Kennett reflectivity).
frequency_count
    Static number of frequencies the synthesis needs (for ``jit``/``vmap`` batches).
deconvolve
    Receiver function from observed radial and vertical waveforms (water level or
    Ligorría & Ammon iterative time-domain deconvolution), on the same convention.
validate_receiver_inputs
    The checks :func:`receiver_function` runs before computing.
"""

from ._deconvolution import deconvolve
from ._synthesis import frequency_count, receiver_function, validate_receiver_inputs

__all__ = ["receiver_function", "frequency_count", "deconvolve", "validate_receiver_inputs"]
