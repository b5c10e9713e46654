"""check_mode: the validity mask of phase velocities by the exact mode count."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from dispersion_models import MODELS

from jaxgeo.dispersion import check_mode, phase_velocity

# A strong mid-crustal low-velocity zone; mode 1 has its cut-off between 10 and 20 s.
LVZ = MODELS["low_velocity_zone"]
PERIODS = np.array([1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0])


# Love (~30 s here: two more searches to compile) runs with -m slow
@pytest.mark.parametrize("wave", ["rayleigh", pytest.param("love", marks=pytest.mark.slow)])
def test_search_results_are_confirmed_and_other_modes_are_not(wave):
    """The search's values of modes 0 and 1 (finite, and NaN below mode 1's cut-off) are
    confirmed as their own mode; labelled as the other mode, 0.1 % off, or NaN where
    the mode exists, they are not."""
    c = {m: np.asarray(phase_velocity(PERIODS, *LVZ, wave=wave, mode=m)) for m in range(2)}
    assert np.any(np.isnan(c[1])) and np.all(np.isfinite(c[0]))  # mode 1's cut-off is within the periods
    for m in range(2):
        assert np.all(np.asarray(check_mode(PERIODS, c[m], *LVZ, wave=wave, mode=m)))
    both = np.isfinite(c[1])
    assert not np.any(np.asarray(check_mode(PERIODS, c[1], *LVZ, wave=wave, mode=0))[both])
    assert not np.any(np.asarray(check_mode(PERIODS, c[0], *LVZ, wave=wave, mode=1))[both])
    assert not np.any(np.asarray(check_mode(PERIODS, 1.001 * c[0], *LVZ, wave=wave, mode=0)))
    assert not np.any(np.asarray(check_mode(PERIODS, np.full_like(c[0], np.nan), *LVZ, wave=wave, mode=0)))


@pytest.mark.slow  # ~30 s (three searches and two checks to compile)
def test_spherical_float32_and_batches():
    """spherical values are checked on the flattened model; float32 values within rtol;
    under jit(vmap) as eagerly."""
    cs = np.asarray(phase_velocity(PERIODS, *LVZ, spherical=True))
    assert np.all(np.asarray(check_mode(PERIODS, cs, *LVZ, spherical=True)))
    # the flat-earth values differ by 0.6 % at 160 s: not the spherical mode there
    flat = np.asarray(phase_velocity(PERIODS, *LVZ))
    assert not np.asarray(check_mode(PERIODS, flat, *LVZ, spherical=True))[-1]
    model32 = tuple(jnp.asarray(a, jnp.float32) for a in LVZ)
    c32 = phase_velocity(jnp.asarray(PERIODS, jnp.float32), *model32)
    assert np.all(np.asarray(check_mode(jnp.asarray(PERIODS, jnp.float32), c32, *model32)))
    batch = jax.jit(jax.vmap(lambda t, c: check_mode(t, c, *LVZ, validate=False)))
    periods = np.stack([PERIODS, PERIODS])
    values = np.stack([flat, 1.01 * flat])
    out = np.asarray(batch(periods, values))
    assert out[0].all() and not out[1].any()


def test_bad_input_names_the_argument():
    c = np.asarray(phase_velocity(PERIODS, *LVZ))
    with pytest.raises(ValueError, match="'c'"):
        check_mode(PERIODS, np.where(np.arange(8) == 3, -1.0, c), *LVZ)
    with pytest.raises(ValueError, match="'c' must have the shape"):
        check_mode(PERIODS, c[:4], *LVZ)
    with pytest.raises(ValueError, match="periods"):
        check_mode(-PERIODS, c, *LVZ)
    with pytest.raises(ValueError, match="mode"):
        check_mode(PERIODS, c, *LVZ, mode=-1)
    with pytest.raises(ValueError, match="rtol"):
        check_mode(PERIODS, c, *LVZ, rtol=0.0)
    with pytest.raises(ValueError, match="vs"):
        check_mode(PERIODS, c, LVZ[0], LVZ[1], np.where(np.arange(5) == 2, -1.0, LVZ[2]), LVZ[3])
