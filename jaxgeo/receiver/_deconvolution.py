"""Receiver functions from observed waveforms: water-level and iterative deconvolution.

Both methods return the RF on the operator's convention (CONVENTIONS.md): the radial
trace deconvolved by the vertical one and filtered by the unit-area Gaussian
``exp(−ω²/(4a²))``, in 1/s, sampled at ``t_j = j·dt − shift``.

References
----------
Clayton, R. W. & Wiggins, R. A. (1976). Source shape estimation and deconvolution of
teleseismic bodywaves. Geophys. J. R. astr. Soc. 47, 151–177.
https://doi.org/10.1111/j.1365-246X.1976.tb01267.x

Ligorría, J. P. & Ammon, C. J. (1999). Iterative deconvolution and receiver-function
estimation. Bull. Seismol. Soc. Am. 89(5), 1395–1400.
https://doi.org/10.1785/BSSA0890051395
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_choice, check_finite, check_positive, is_traced

__all__ = ["deconvolve"]

_METHODS = ("water-level", "iterative")


def _gaussian(omega, gauss):
    return jnp.exp(-(omega**2) / (4.0 * gauss**2))


def _water_level(radial_spectrum, vertical_spectrum, water_level):
    """``R Z* / max(|Z|², c·max|Z|²)``: spectral division with a floor on the denominator."""
    power = jnp.abs(vertical_spectrum) ** 2
    floor = water_level * jnp.max(power)
    return radial_spectrum * jnp.conj(vertical_spectrum) / jnp.maximum(power, floor)


def _iterative(radial_filtered, vertical_filtered, n_iterations, lag_ok):
    """Ligorría & Ammon (1999) iterative time-domain spike fitting (fixed iteration count).

    Each step cross-correlates the residual with the filtered vertical trace (circularly,
    on the zero-padded length), puts a spike of amplitude ``c(τ)/Σz²`` at the admissible
    lag of largest ``|c|`` and subtracts the vertical trace shifted by that lag.
    Returns the spike train (padded length; index = lag modulo the length).
    """
    n_pad = radial_filtered.shape[0]
    vertical_spectrum = jnp.fft.rfft(vertical_filtered)
    energy = jnp.sum(vertical_filtered**2)

    def step(_, state):
        residual, spikes = state
        correlation = jnp.fft.irfft(jnp.fft.rfft(residual) * jnp.conj(vertical_spectrum), n=n_pad)
        lag = jnp.argmax(jnp.where(lag_ok, jnp.abs(correlation), -1.0))
        amplitude = correlation[lag] / energy
        spikes = spikes.at[lag].add(amplitude)
        residual = residual - amplitude * jnp.roll(vertical_filtered, lag)
        return residual, spikes

    _, spikes = jax.lax.fori_loop(
        0, n_iterations, step, (radial_filtered, jnp.zeros_like(radial_filtered))
    )
    return spikes


def deconvolve(
    radial,
    vertical,
    dt,
    *,
    gauss,
    method="water-level",
    water_level=0.01,
    n_iterations=200,
    shift=0.0,
    normalize=None,
    validate=True,
):
    r"""Receiver function of observed radial and vertical waveforms.

    Estimates :math:`RF(t) = (1/2π) ∫ R(ω)/Z(ω) · e^{−ω²/(4a²)} e^{iωt} dω`, the same
    convention as :func:`jaxgeo.receiver.receiver_function` (1/s, unit-area Gaussian),
    from sampled traces. Traces are zero-padded to a power of two ≥ 2n before any FFT.

    * ``"water-level"`` (Clayton & Wiggins 1976): ``R Z* / max(|Z|², c·max|Z|²)``,
      ``c`` = ``water_level``, times the Gaussian.
    * ``"iterative"`` (Ligorría & Ammon 1999): both traces are Gaussian-filtered, then
      ``n_iterations`` spikes are fitted one by one at the lag (between ``−shift`` and
      the end of the output window) of largest cross-correlation with the residual; the
      spike train is finally filtered by the Gaussian. The count is fixed (no early
      stop), so the function is ``jit``-compatible; amplitudes are differentiable, lags
      are not.

    Parameters
    ----------
    radial, vertical : arrays (n,)
        Radial (positive away from the source) and vertical (positive up) waveforms,
        same sampling, any common units.
    dt : scalar
        Sampling interval (s).
    gauss : scalar
        Gaussian parameter a (1/s).
    method : {"water-level", "iterative"} (static)
    water_level : float
        Floor of the spectral denominator relative to ``max|Z|²`` (water level only).
    n_iterations : int (static)
        Number of spikes (iterative only).
    shift : scalar
        Time (s) of the output's first sample before zero lag: output sample ``j`` is at
        ``t = j·dt − shift`` (lag 0 = the times of equal phase in R and Z; for traces
        aligned on P it is the direct P).
    normalize : {None, "peak"} (static)
        ``"peak"`` multiplies by ``√π/a`` (Gaussian peak 1, dimensionless).
    validate : bool (static)
        Check the inputs (skipped for traced inputs).

    Returns
    -------
    array (n,)
        RF samples at ``j·dt − shift`` in 1/s, dtype of the inputs.
    """
    check_choice(method, "method", _METHODS)
    check_choice(normalize, "normalize", (None, "peak"))
    if validate and not is_traced(radial, vertical, dt, gauss, water_level, shift):
        radial_host = check_finite(radial, "radial")
        vertical_host = check_finite(vertical, "vertical")
        if radial_host.ndim != 1 or radial_host.shape != vertical_host.shape:
            raise ValueError(
                f"arguments 'radial' and 'vertical' must be 1-D of the same length, got shapes "
                f"{radial_host.shape} and {vertical_host.shape}"
            )
        if not np.any(vertical_host):
            raise ValueError("argument 'vertical' is identically zero")
        check_positive(dt, "dt")
        check_positive(gauss, "gauss")
        check_positive(water_level, "water_level")
        if not float(shift) >= 0.0 or not float(shift) < float(dt) * radial_host.size:
            raise ValueError(f"argument 'shift' must lie in [0, n·dt), got {shift!r}")
        if not isinstance(n_iterations, (int, np.integer)) or n_iterations < 1:
            raise ValueError(f"argument 'n_iterations' must be a positive integer, got {n_iterations!r}")

    radial = jnp.asarray(radial)
    dtype = jnp.result_type(radial, jnp.asarray(vertical))
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    radial = radial.astype(dtype)
    vertical = jnp.asarray(vertical, dtype=dtype)
    dt = jnp.asarray(dt, dtype=dtype)
    gauss = jnp.asarray(gauss, dtype=dtype)
    n = radial.shape[0]
    n_pad = 1 << int(np.ceil(np.log2(max(2 * n, 2))))
    omega = 2.0 * jnp.pi * jnp.fft.rfftfreq(n_pad, 1.0).astype(dtype) / dt
    gaussian = _gaussian(omega, gauss)
    delay = jnp.exp(-1j * omega * jnp.asarray(shift, dtype=dtype))  # output starts at −shift

    radial_spectrum = jnp.fft.rfft(radial, n=n_pad)
    vertical_spectrum = jnp.fft.rfft(vertical, n=n_pad)
    if method == "water-level":
        spectrum = _water_level(radial_spectrum, vertical_spectrum, water_level) * gaussian
    else:
        radial_filtered = jnp.fft.irfft(radial_spectrum * gaussian, n=n_pad)
        vertical_filtered = jnp.fft.irfft(vertical_spectrum * gaussian, n=n_pad)
        lags = jnp.arange(n_pad)
        shift_samples = jnp.round(shift / dt).astype(lags.dtype)
        # admissible lags: −shift … (n − 1)·dt − shift, stored modulo n_pad
        lag_ok = (lags <= n - 1 - shift_samples) | (lags >= n_pad - shift_samples)
        spikes = _iterative(radial_filtered, vertical_filtered, n_iterations, lag_ok)
        spectrum = jnp.fft.rfft(spikes) * gaussian
    rf = jnp.fft.irfft(spectrum * delay, n=n_pad)[:n] / dt
    if normalize == "peak":
        rf = rf * (jnp.sqrt(jnp.pi) / gauss)
    return rf.astype(dtype)
