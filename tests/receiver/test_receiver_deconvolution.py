"""Deconvolution of synthetic radial/vertical waveforms built from the operator."""

import jax
import numpy as np
import pytest
from receiver_models import crustal_model

from jaxgeo.receiver import deconvolve, receiver_function
from jaxgeo.receiver._propagator import free_surface_response

DT = 0.05
SHIFT = 5.0


def synthetic_waveforms(model, p, n=2048, keep=1600, source_gauss=10.0, onset=10.0, noise=0.0, seed=0):
    """Radial and vertical seismograms: free-surface spectra × a Gaussian source pulse.

    Built with complex-frequency damping (σ = ln 1e3 / T, undone by exp(σt)) so that the
    finite record is not wrapped; truncated to ``keep`` samples.
    """
    period = n * DT
    damping = np.log(1e3) / period
    omega = 2 * np.pi * np.fft.rfftfreq(n, DT) - 1j * damping
    radial, vertical = free_surface_response(omega, *model, p)
    source = np.exp(-(omega**2) / (4 * source_gauss**2) - 1j * omega * onset)
    time = np.arange(n) * DT
    traces = [np.exp(damping * time) * np.fft.irfft(np.asarray(u) * source, n)[:] for u in (radial, vertical)]
    traces = [trace[:keep] for trace in traces]
    if noise:
        rng = np.random.default_rng(seed)
        scale = noise * np.abs(traces[1]).max()
        traces = [trace + scale * rng.normal(size=keep) for trace in traces]
    return traces


def reference(model, p, gauss, n):
    times = np.arange(n) * DT - SHIFT
    return times, np.asarray(receiver_function(times, *model, slowness=p, gauss=gauss))


def nrms(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("name", ["sediment_crust", "lvz_crust"])
def test_water_level_recovers_the_operator(name):
    model = crustal_model(name)
    radial, vertical = synthetic_waveforms(model, 0.06)
    rf = np.asarray(deconvolve(radial, vertical, DT, gauss=2.5, water_level=1e-8, shift=SHIFT))
    times, expected = reference(model, 0.06, 2.5, radial.size)
    window = times < 40.0  # the records end 70 s after P; later reverberations are cut
    assert nrms(rf[window], expected[window]) < 1e-4


def test_iterative_recovers_the_operator():
    model = crustal_model("sediment_crust")
    radial, vertical = synthetic_waveforms(model, 0.06)
    times, expected = reference(model, 0.06, 2.5, radial.size)
    window = times < 40.0
    errors = []
    for n_iterations in (20, 400):
        rf = np.asarray(
            deconvolve(radial, vertical, DT, gauss=2.5, method="iterative", n_iterations=n_iterations, shift=SHIFT)
        )
        errors.append(nrms(rf[window], expected[window]))
    peak = np.argmin(np.abs(times))
    assert abs(rf[peak] - expected[peak]) < 0.05 * np.abs(expected).max()
    assert errors[1] < 0.1 and errors[1] < 0.5 * errors[0]


def test_water_level_with_noise_and_peak_normalisation():
    model = crustal_model("sediment_crust")
    radial, vertical = synthetic_waveforms(model, 0.06, noise=0.01)
    rf = np.asarray(deconvolve(radial, vertical, DT, gauss=2.5, water_level=0.01, shift=SHIFT, normalize="peak"))
    times = np.arange(radial.size) * DT - SHIFT
    expected = np.asarray(receiver_function(times, *model, slowness=0.06, gauss=2.5, normalize="peak"))
    window = times < 30.0
    assert nrms(rf[window], expected[window]) < 0.15
    zero = np.argmin(np.abs(times))
    assert abs(rf[zero] - expected[zero]) < 0.1 * np.abs(expected).max()


@pytest.mark.parametrize("method", ["water-level", "iterative"])
def test_deconvolve_jit_and_dtype(method):
    radial, vertical = synthetic_waveforms(crustal_model("sediment_crust"), 0.06, n=1024, keep=800)
    eager = deconvolve(radial, vertical, DT, gauss=2.5, method=method, shift=SHIFT, n_iterations=50)
    jitted = jax.jit(
        lambda r, z, dt: deconvolve(r, z, dt, gauss=2.5, method=method, shift=SHIFT, n_iterations=50)
    )(radial, vertical, DT)
    np.testing.assert_allclose(jitted, eager, rtol=0, atol=1e-10 * np.abs(eager).max())
    single = deconvolve(radial.astype(np.float32), vertical.astype(np.float32), DT, gauss=2.5, method=method, shift=SHIFT, n_iterations=50)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, eager, rtol=0, atol=1e-3 * np.abs(eager).max())
