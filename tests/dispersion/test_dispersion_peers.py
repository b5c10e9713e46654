"""Phase and group velocities against disba (Dunkin) and CPS surf96 (pysurf96).

Compared per (model, period): every period where a peer has a value must match within
the tolerance, and the periods where the mode does not exist (NaN here) must be those
where the peer finds no root.
"""

import numpy as np
import pytest
from dispersion_models import MODELS, PERIODS, frozen_draws, padded

from jaxgeo.dispersion import group_velocity, phase_velocity

disba = pytest.importorskip("disba")

# float64 per the issue; float32 within 1e-4 (measured ~2e-6, dominated by disba's own
# root tolerance of ~1e-6).
PHASE_TOL = {np.float64: 5e-6, np.float32: 1e-4}


def _on_periods(result, periods):
    """Peer result (which drops missing periods) spread onto ``periods`` with NaN."""
    values = np.full(periods.shape, np.nan)
    values[np.isin(periods, result.period)] = result.velocity
    return values


def _relative_error(ours, ref):
    ours = np.asarray(ours, dtype=np.float64)
    both = np.isfinite(ref)
    assert np.all(np.isfinite(ours[both])), "a mode found by the peer is missing here"
    assert np.all(np.isnan(ours[~both])), "a value where the peer finds no mode"
    return np.abs(ours[both] / ref[both] - 1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("wave", ["rayleigh", "love"])
def test_phase_velocity_matches_disba(wave, mode, dtype):
    # All models padded to 5 layers with zero-thickness layers (one compilation; the
    # peer gets the unpadded model, so this also checks that padding changes nothing).
    for name in sorted(MODELS):
        thickness, vp, vs, rho = MODELS[name]
        reference = _on_periods(
            disba.PhaseDispersion(thickness, vp, vs, rho, algorithm="dunkin")(PERIODS, mode, wave), PERIODS
        )
        args = (a.astype(dtype) for a in (PERIODS, *padded(MODELS[name])))
        ours = phase_velocity(*args, wave=wave, mode=mode)
        assert ours.dtype == dtype
        error = _relative_error(ours, reference)
        assert error.max() < PHASE_TOL[dtype], f"{name}: max relative error {error.max():.2e}"


@pytest.mark.parametrize("mode", [0, 1])
@pytest.mark.parametrize("wave", ["rayleigh", "love"])
def test_group_velocity_matches_disba(wave, mode):
    for name in sorted(MODELS):
        thickness, vp, vs, rho = MODELS[name]
        # disba differentiates in period with a relative step dt; its default (2.5%)
        # is off by up to 3% near an Airy phase, so a small step is used here.
        reference = _on_periods(
            disba.GroupDispersion(thickness, vp, vs, rho, algorithm="dunkin", dt=0.001)(PERIODS, mode, wave),
            PERIODS,
        )
        ours = np.asarray(group_velocity(PERIODS, *padded(MODELS[name]), wave=wave, mode=mode))
        both = np.isfinite(reference) & np.isfinite(ours)
        # A period right at a cut-off can differ between the peer's finite difference
        # (which needs the mode at T(1±dt)) and ours; elsewhere the NaN patterns agree.
        assert both.sum() >= np.isfinite(reference).sum() - 1
        error = np.abs(ours[both] / reference[both] - 1.0)
        assert error.max() < 1e-3, f"{name}: max relative error {error.max():.2e}"


@pytest.mark.parametrize("flat_earth", [True, False])
@pytest.mark.parametrize("wave", ["rayleigh", "love"])
def test_phase_velocity_matches_surf96(wave, flat_earth):
    pysurf96 = pytest.importorskip("pysurf96")
    thickness, vp, vs, rho = MODELS["crust_sediments"]
    reference = pysurf96.surf96(
        thickness, vp, vs, rho, PERIODS, wave=wave, mode=1, velocity="phase", flat_earth=flat_earth
    )
    ours = np.asarray(phase_velocity(PERIODS, thickness, vp, vs, rho, wave=wave, spherical=not flat_earth))
    error = np.abs(ours / reference - 1.0)
    # surf96 runs on a float32 model with a 1e-6 root tolerance; 5e-6 for the flat
    # earth (as disba) and 1e-5 for the spherical correction (issue 3).
    assert error.max() < (5e-6 if flat_earth else 1e-5), f"max relative error {error.max():.2e}"


@pytest.mark.slow  # ~26 s; the spherical values are checked against surf96 by default
def test_spherical_correction_size():
    """At 160 s flattening raises the Rayleigh phase velocity of a continental model by ~2%."""
    from dispersion_models import continental

    model = continental(40)
    flat = phase_velocity(np.array([20.0, 160.0]), *model)
    sphere = phase_velocity(np.array([20.0, 160.0]), *model, spherical=True)
    change = np.asarray(sphere / flat - 1.0)
    assert 0.0 < change[0] < 0.005
    assert 0.01 < change[1] < 0.03


@pytest.mark.slow  # ~30 s
def test_step_like_roots_of_prior_draws_converge_to_disba():
    """Three prior draws (100 layers) whose secular function is nearly a step at short
    periods (it changes by ±0.8 within 3e-5 of the root): regula falsi only halves the
    bracket there. With the rescue steps on an eighth of the periods, 10, 5 and 4
    periods stayed 2.3-2.9e-5 off disba (more than the 8 rescued); on a quarter, none is
    off by more than 5e-6. ``jaxgeo`` is the one that moved: splitting every layer in
    two (the same earth) changed its values by up to 3.8e-5 and disba's by 0.
    """
    import jax
    import jax.numpy as jnp

    periods = np.logspace(np.log10(2.0), np.log10(160.0), 60)
    models, _ = frozen_draws("step_like")  # draws 61, 90, 148 of sample_prior(key(11), 200)
    ours = np.asarray(
        jax.vmap(lambda *m: phase_velocity(jnp.asarray(periods), *m, validate=False))(*models)
    )
    for i in range(3):
        model = [a[i] for a in models]
        keep = (model[0] > 0) | (np.arange(model[0].size) == model[0].size - 1)
        reference = disba.PhaseDispersion(*(a[keep] for a in model), algorithm="dunkin")(periods, 0, "rayleigh")
        assert reference.velocity.size == periods.size
        error = _relative_error(ours[i], reference.velocity)
        assert error.max() < PHASE_TOL[np.float64], (i, error.max())  # measured <= 8.4e-7


def test_second_rescue_round_converges_step_like_roots_in_float64():
    """Four prior draws (130 layers, spherical, 60 random periods: draws 725 and 745 of
    seed 1, 54 and 758 of seed 2, sampled as in the osculating-modes test below) with thin
    slow sediments, whose secular function is nearly a step at some short periods (±1
    within 2e-5 of the root). The first rescue round ranks the periods by their last
    correction and missed 6 of them, which stayed 5e-6 to 1.2e-5 off disba (at 3.06 s on
    the first draw: 2.742366 km/s where the secular function is +1 and disba's root
    2.742399); a second round of 8 periods brings all within 1.0e-6 (2026-12-04)."""
    import jax
    import jax.numpy as jnp

    from jaxgeo.dispersion import earth_flattening

    models, periods = frozen_draws("second_rescue")
    models = tuple(jnp.asarray(a) for a in models)
    ours = np.asarray(
        jax.vmap(lambda t, *m: phase_velocity(t, *m, spherical=True, validate=False))(jnp.asarray(periods), *models)
    )
    flat_models = [np.asarray(a) for a in jax.vmap(earth_flattening)(*models)]
    for i in range(4):
        flat = [a[i] for a in flat_models]
        keep = (flat[0] > 0) | (np.arange(flat[0].size) == flat[0].size - 1)
        reference = disba.PhaseDispersion(*(a[keep] for a in flat), algorithm="dunkin")(periods[i], 0, "rayleigh")
        error = _relative_error(ours[i], _on_periods(reference, periods[i]))
        assert error.max() < PHASE_TOL[np.float64], (i, error.max())  # measured <= 1.0e-6


# float32: 34 s in the default run; the float64 case and other float32 prior-draw cases stay
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
def test_osculating_modes_of_prior_draws_keep_the_fundamental(dtype):
    """Three prior draws (100 layers, spherical, 60 random periods, as the simulator runs
    them) on which the fundamental and the first overtone come within 0.3-2 % of each
    other at a period that follows a large gap: the prediction was off by more than
    that, both roots fell in one grid cell and cancelled, and the search returned the
    second overtone (2.5-90 % off disba) until the dip of the secular function below the
    bracket was probed (2026-12-03; 8 such draws of 2,000 before, 2 after).
    """
    import jax
    import jax.numpy as jnp

    from jaxgeo.dispersion import earth_flattening

    draws = [(21, 351), (22, 311), (24, 136)]  # (seed, draw) of the frozen models
    models, periods = frozen_draws("osculating")
    models = tuple(jnp.asarray(a) for a in models)
    ours = jax.vmap(lambda t, *m: phase_velocity(t, *m, spherical=True, validate=False))(
        jnp.asarray(np.array(periods), dtype), *(a.astype(dtype) for a in models)
    )
    flat_models = [np.asarray(a) for a in jax.vmap(earth_flattening)(*models)]
    for i, (seed, draw) in enumerate(draws):
        flat = [a[i] for a in flat_models]
        keep = (flat[0] > 0) | (np.arange(flat[0].size) == flat[0].size - 1)
        reference = disba.PhaseDispersion(*(a[keep] for a in flat), algorithm="dunkin")(periods[i], 0, "rayleigh")
        error = _relative_error(ours[i], _on_periods(reference, periods[i]))
        assert error.max() < PHASE_TOL[dtype], (seed, draw, error.max())
