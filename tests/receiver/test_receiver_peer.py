"""Comparison with an independent full-response code: seispy's Thomson–Haskell synthetics.

seispy (python-seispy, test dependency) computes free-surface radial and vertical
spectra with the Haskell propagator matrix (Aki & Richards Box 9.1) in
``seispy.seisfwd.haskell``: a different method from jaxgeo's Kennett recursion. The test
forms the receiver function itself from seispy's spectra, on jaxgeo's definition
``(1/2π)∫ U_R/U_Z · exp(−ω²/4a²) · exp(iωt) dω``:

* seispy's spectra use the ``exp(−iωt)`` convention and a downward vertical (its
  ``run_fwd`` time-reverses and negates them), so ``U_R/U_Z = −conj(ur/uz)``;
* the integral is a trapezoidal sum on real frequencies with a long period (800 s), long
  enough for every model's reverberations to decay without damping.
"""

import numpy as np
import pytest
from receiver_models import crustal_model

from jaxgeo.receiver import receiver_function
from jaxgeo.receiver._propagator import transfer_function

seisfwd = pytest.importorskip("seispy.seisfwd")

MODELS = ["sediment_crust", "basin", "lvz_crust"]


def seispy_ratio(omega, thickness, vp, vs, rho, p):
    values = [seisfwd.haskell(float(w), p, len(thickness), 1, vp, vs, rho, thickness) for w in omega]
    return np.array([-np.conj(radial / vertical) for radial, vertical in values])


def seispy_receiver_function(times, thickness, vp, vs, rho, p, gauss, period=800.0):
    step = 2 * np.pi / period
    omega = step * np.arange(int(2 * gauss * np.sqrt(np.log(1e10)) / step) + 2)
    omega[0] = 1e-6 * step  # seispy's formulas divide by ω; the DC limit is continuous
    spectrum = seispy_ratio(omega, thickness, vp, vs, rho, p) * np.exp(-(omega**2) / (4 * gauss**2))
    weights = np.ones_like(omega)
    weights[0] = 0.5
    return (step / np.pi) * np.real(np.exp(1j * np.outer(times, omega)) @ (weights * spectrum))


def nrms(actual, reference):
    return np.linalg.norm(actual - reference) / np.linalg.norm(reference)


@pytest.mark.parametrize("name", MODELS)
def test_transfer_function_matches_haskell(name):
    thickness, vp, vs, rho = crustal_model(name)
    omega = np.linspace(0.05, 40.0, 57)
    for p in (0.04, 0.075):
        ours = np.asarray(transfer_function(omega + 0j, thickness, vp, vs, rho, p))
        np.testing.assert_allclose(ours, seispy_ratio(omega, thickness, vp, vs, rho, p), rtol=1e-8)


@pytest.mark.parametrize("name", MODELS)
def test_receiver_function_matches_seispy(name):
    thickness, vp, vs, rho = crustal_model(name)
    times = np.arange(-5.0, 40.0, 0.1)
    for p, gauss in ((0.045, 1.0), (0.07, 2.5)):
        reference = seispy_receiver_function(times, thickness, vp, vs, rho, p, gauss)
        ours = np.asarray(receiver_function(times, thickness, vp, vs, rho, slowness=p, gauss=gauss))
        # the issue asks for ≤ 1 %; both codes agree to ~1e-6, so guard much tighter
        assert nrms(ours, reference) < 1e-4, (name, p, gauss, nrms(ours, reference))


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("p", [0.04, 0.055, 0.07, 0.085])
@pytest.mark.parametrize("gauss", [1.0, 2.5, 5.0])
def test_receiver_function_matches_seispy_grid(name, p, gauss):
    thickness, vp, vs, rho = crustal_model(name)
    times = np.arange(-5.0, 40.0, 0.1)
    reference = seispy_receiver_function(times, thickness, vp, vs, rho, p, gauss)
    ours = np.asarray(receiver_function(times, thickness, vp, vs, rho, slowness=p, gauss=gauss))
    assert nrms(ours, reference) < 1e-4
