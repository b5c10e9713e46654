"""Analytic checks of the receiver-function operator (half-space, layer over half-space)."""

import numpy as np
import pytest
from receiver_models import crustal_model

from jaxgeo.receiver import receiver_function
from jaxgeo.receiver._propagator import _inverse_eigenvectors, eigenvectors


def halfspace_ratio(p, beta):
    eta = np.sqrt(1.0 / beta**2 - p**2)
    return 2.0 * p * beta**2 * eta / (1.0 - 2.0 * p**2 * beta**2)


@pytest.mark.parametrize("p", [0.0, 0.07, 0.12])
@pytest.mark.parametrize("gauss", [1.0, 5.0])
def test_halfspace_is_one_gaussian(p, gauss):
    times = np.arange(-4.0, 20.0, 0.05)
    alpha, beta = 6.0, 3.4
    rf = np.asarray(receiver_function(times, [0.0], [alpha], [beta], [2.7], slowness=p, gauss=gauss))
    expected = halfspace_ratio(p, beta) * gauss / np.sqrt(np.pi) * np.exp(-(gauss * times) ** 2)
    peak = halfspace_ratio(0.04, beta) * gauss / np.sqrt(np.pi)
    np.testing.assert_allclose(rf, expected, rtol=0, atol=1e-7 * peak)
    if p > 0:
        assert rf[np.argmin(np.abs(times))] > 0  # direct P positive on the radial
    # peak value exactly (U_R/U_Z)·a/√π
    at_zero = receiver_function(np.array([0.0]), [0.0], [alpha], [beta], [2.7], slowness=p, gauss=gauss)
    np.testing.assert_allclose(at_zero[0], halfspace_ratio(p, beta) * gauss / np.sqrt(np.pi), rtol=1e-8, atol=1e-12)


def test_peak_normalisation_gives_the_spectral_ratio():
    times = np.array([0.0, 0.1])
    rf = receiver_function(times, [0.0], [6.0], [3.4], [2.7], slowness=0.06, gauss=3.0, normalize="peak")
    np.testing.assert_allclose(rf[0], halfspace_ratio(0.06, 3.4), rtol=1e-8)


def test_inverse_eigenvectors_is_the_inverse():
    vp, vs, rho = np.array([2.0, 6.0, 9.5]), np.array([0.9, 3.5, 5.0]), np.array([2.0, 2.7, 3.4])
    matrix, eta_p, eta_s = eigenvectors(vp, vs, rho, 0.12)  # third layer is evanescent
    inverse = _inverse_eigenvectors(matrix, eta_p, eta_s, vp, vs, rho)
    for layer in range(3):
        np.testing.assert_allclose(inverse[layer] @ matrix[layer], np.eye(4), atol=1e-12)


def local_extremum(times, rf, t0, half_width=0.3):
    sel = np.abs(times - t0) < half_width
    index = np.argmax(np.abs(rf[sel]))
    return times[sel][index], rf[sel][index]


@pytest.mark.parametrize("p", [0.04, 0.065, 0.08])
def test_layer_over_halfspace_phase_times_and_polarities(p):
    thickness, vp, vs, rho = crustal_model("layer_over_halfspace")
    h, alpha, beta = thickness[0], vp[0], vs[0]
    eta_a = np.sqrt(1 / alpha**2 - p**2)
    eta_b = np.sqrt(1 / beta**2 - p**2)
    dt = 0.005
    times = np.arange(-2.0, 30.0, dt)
    gauss = 6.0
    rf = np.asarray(receiver_function(times, thickness, vp, vs, rho, slowness=p, gauss=gauss))
    expected = {
        "P": (0.0, +1),
        "Ps": (h * (eta_b - eta_a), +1),  # velocity increases downward: positive conversion
        "PpPs": (h * (eta_b + eta_a), +1),
        "PpSs+PsPs": (2 * h * eta_b, -1),
    }
    for name, (t_expected, sign) in expected.items():
        t_found, value = local_extremum(times, rf, t_expected)
        assert abs(t_found - t_expected) <= 2 * dt, (name, t_found, t_expected)
        assert np.sign(value) == sign, (name, value)
    # nothing arrives between the direct P and Ps beyond the Gaussian tails
    gap = (times > 4.0 / gauss) & (times < h * (eta_b - eta_a) - 4.0 / gauss)
    assert np.max(np.abs(rf[gap])) < 1e-5 * rf.max()


def test_layer_over_halfspace_ps_amplitude_first_order():
    """The Ps pulse is positive and its area scales linearly with a weak contrast.

    For a weak velocity jump (vp/vs fixed, same density) the converted amplitude is first
    order in the contrast (Born limit of the P→S transmission coefficient), so doubling a
    1 % contrast doubles the Ps area to within the second-order term.
    """
    times = np.arange(-2.0, 12.0, 0.01)
    base = np.array([30.0, 0.0])
    p = 0.06
    areas = []
    for contrast in (0.01, 0.02):
        vs = np.array([3.6, 3.6 * (1 + contrast)])
        vp = vs * 1.75
        rho = np.array([2.8, 2.8])
        rf = np.asarray(receiver_function(times, base, vp, vs, rho, slowness=p, gauss=3.0))
        eta_a, eta_b = np.sqrt(1 / vp[0] ** 2 - p**2), np.sqrt(1 / vs[0] ** 2 - p**2)
        t_ps = 30.0 * (eta_b - eta_a)
        window = np.abs(times - t_ps) < 1.5
        areas.append(np.sum(rf[window]) * 0.01)
    assert areas[0] > 0
    np.testing.assert_allclose(areas[1] / areas[0], 2.0, rtol=0.03)


def test_zero_thickness_layers_change_nothing():
    thickness, vp, vs, rho = crustal_model("sediment_crust")
    times = np.arange(-2.0, 25.0, 0.1)
    reference = np.asarray(receiver_function(times, thickness, vp, vs, rho, slowness=0.06, gauss=2.5))
    # padding with arbitrary valid properties, above the half-space and inside the stack
    pad = lambda a, v: np.concatenate([a[:1], [v[0]], a[1:-1], [v[1], v[2]], a[-1:]])
    padded = (
        pad(thickness, [0.0, 0.0, 0.0]),
        pad(vp, [5.0, 7.0, 9.0]),
        pad(vs, [2.0, 4.0, 5.2]),
        pad(rho, [2.4, 3.0, 3.5]),
    )
    rf = np.asarray(receiver_function(times, *padded, slowness=0.06, gauss=2.5))
    np.testing.assert_allclose(rf, reference, rtol=0, atol=1e-10 * np.abs(reference).max())


def thick_stack(n=41):
    rng = np.random.default_rng(4)
    thickness = np.full(n, 200.0 / (n - 1))
    thickness[-1] = 0.0
    vs = np.linspace(1.5, 4.6, n) + rng.normal(0, 0.05, n)
    vp = 1.8 * vs
    rho = 1.74 * vp**0.25
    return thickness, vp, vs, rho


def test_200_km_stack_at_10_hz_is_stable():
    """A 200 km stack sampled at 10 Hz (a = 10): finite in both precisions, float32
    within 1e-3 of the peak of float64."""
    model = thick_stack()
    times = np.arange(0.0, 120.0, 0.1)
    rf64 = np.asarray(receiver_function(times, *model, slowness=0.115, gauss=10.0))
    rf32 = np.asarray(
        receiver_function(times.astype(np.float32), *(a.astype(np.float32) for a in model), slowness=0.115, gauss=10.0)
    )
    assert rf32.dtype == np.float32
    assert np.all(np.isfinite(rf64)) and np.all(np.isfinite(rf32))
    assert np.abs(rf32 - rf64).max() < 1e-3 * np.abs(rf64).max()


@pytest.mark.slow
def test_200_km_stack_matches_undamped_real_frequency_sum():
    """Same stack against an undamped, real-frequency evaluation with a 2000 s period
    (an independent route through the transfer function)."""
    from jaxgeo.receiver._propagator import transfer_function

    model = thick_stack()
    times = np.arange(0.0, 120.0, 0.1)
    gauss = 10.0
    rf = np.asarray(receiver_function(times, *model, slowness=0.115, gauss=gauss))
    step = 2 * np.pi / 2000.0
    omega = step * np.arange(int(8.6 * gauss / step) + 2)
    spectrum = np.asarray(transfer_function(omega + 0j, *model, 0.115)) * np.exp(-(omega**2) / (4 * gauss**2))
    weights = np.ones_like(omega)
    weights[0] = 0.5
    reference = (step / np.pi) * (
        np.cos(np.outer(times, omega)) @ (weights * spectrum.real) - np.sin(np.outer(times, omega)) @ (weights * spectrum.imag)
    )
    assert np.abs(rf - reference).max() < 1e-6 * np.abs(reference).max()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_evanescent_thick_layer_does_not_overflow(dtype):
    """P evanescent over 50 km (vp = 9 km/s > 1/p) at up to 20 Hz: the Haskell product
    would reach exp(ω|η|h) ~ 1e60; the reflectivity recursion stays finite."""
    from jaxgeo.receiver._propagator import free_surface_response, transfer_function

    model = tuple(
        np.array(v, dtype=dtype)
        for v in ([10.0, 50.0, 20.0, 0.0], [5.0, 9.0, 6.5, 8.2], [2.9, 5.0, 3.7, 4.6], [2.6, 3.4, 2.9, 3.3])
    )
    omega = (2 * np.pi * np.linspace(0.0, 20.0, 64)).astype(dtype) - 0.05j
    ratio = np.asarray(transfer_function(omega, *model, 0.12))
    radial, vertical = free_surface_response(omega, *model, 0.12)
    assert np.all(np.isfinite(ratio)) and np.all(np.isfinite(radial)) and np.all(np.isfinite(vertical))
