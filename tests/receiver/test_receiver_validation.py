"""Bad inputs raise ValueError naming the argument, before any computation."""

import numpy as np
import pytest
from receiver_models import crustal_model

from jaxgeo.receiver import deconvolve, receiver_function

TIMES = np.arange(0.0, 10.0, 0.1)
MODEL = crustal_model("sediment_crust")


def call(times=TIMES, thickness=MODEL[0], vp=MODEL[1], vs=MODEL[2], rho=MODEL[3], **kwargs):
    options = dict(slowness=0.06, gauss=2.5) | kwargs
    return receiver_function(times, thickness, vp, vs, rho, **options)


def replaced(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(vs=replaced(MODEL[2], 1, 4.5)), "'vs'.*vp/sqrt"),
        (dict(vp=replaced(MODEL[1], 2, -6.0)), "'vp'.*positive.*\\[2\\]"),
        (dict(rho=replaced(MODEL[3], 0, 0.0)), "'rho'"),
        (dict(thickness=replaced(MODEL[0], 1, -1.0)), "'thickness'"),
        (dict(thickness=replaced(MODEL[0], 1, np.nan)), "'thickness'.*non-finite"),
        (dict(vs=MODEL[2][:-1]), "same shape"),
        (dict(slowness=0.13), "'slowness'.*half-space"),
        (dict(slowness=-0.125), "'slowness'"),
        (dict(slowness=np.array([0.05, 0.06])), "'slowness'.*scalar"),
        (dict(gauss=0.0), "'gauss'.*positive"),
        (dict(gauss=-1.0), "'gauss'"),
        (dict(times=np.array([0.0, 0.1, 0.3, 0.4])), "'times'.*uniform"),
        (dict(times=TIMES[::-1]), "'times'.*increasing"),
        (dict(times=replaced(TIMES, 3, np.inf)), "'times'.*non-finite"),
        (dict(times=TIMES.reshape(10, 10)), "'times'.*1-D"),
        (dict(normalize="max"), "'normalize'"),
        (dict(n_freq=1), "'n_freq'"),
        (dict(thickness=MODEL[0][None], vp=MODEL[1][None], vs=MODEL[2][None], rho=MODEL[3][None]), "'thickness'.*1-D"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        call(**kwargs)


def test_validation_can_be_skipped():
    # a non-uniform grid is evaluated point by point when the user insists
    rf = call(times=np.array([0.0, 0.1, 0.3]), validate=False)
    assert np.all(np.isfinite(rf))


def test_negative_slowness_is_the_same_as_positive():
    np.testing.assert_allclose(call(slowness=-0.06), call(slowness=0.06), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(radial=np.ones(8), vertical=np.ones(9)), "'radial' and 'vertical'"),
        (dict(vertical=np.zeros(16)), "'vertical'.*zero"),
        (dict(radial=replaced(np.ones(16), 2, np.nan)), "'radial'.*non-finite"),
        (dict(dt=0.0), "'dt'"),
        (dict(gauss=-2.0), "'gauss'"),
        (dict(method="fft"), "'method'"),
        (dict(water_level=0.0), "'water_level'"),
        (dict(shift=-1.0), "'shift'"),
        (dict(n_iterations=0), "'n_iterations'"),
    ],
)
def test_deconvolve_bad_input(kwargs, match):
    options = dict(radial=np.ones(16), vertical=np.arange(16.0), dt=0.1, gauss=2.5) | kwargs
    with pytest.raises(ValueError, match=match):
        deconvolve(options.pop("radial"), options.pop("vertical"), options.pop("dt"), **options)
