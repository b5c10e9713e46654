"""The joint dispersion + receiver-function simulator: peers, noise, determinism, compilation.

One batch of 100 float32 samples (the default configuration) is simulated once per
session and shared by the tests.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.dispersion import earth_flattening
from jaxgeo.earth import SimulatorConfig, layered_model, simulate

N = 100
CONFIG = SimulatorConfig()
# float32 against disba (float64), on the layered prior models with the spherical correction:
# phase within 1.9e-5 on 98 draws with the 130-layer layering (8.0e-5 with the 100 layers
# before 2026-12-04; the dispersion operator's float32 contract is 1e-4), group within
# 8.6e-4 but on one draw (0.27, below)
# (disba differentiates in period with a relative step of 1e-3, itself good to ~1e-3). Until
# 2026-12-02 the float32 earth-flattening lost the thickness of thin layers (ln of a ratio
# of two radii near 6370 km) and these errors were 2.2e-3 (phase) and 6.6e-3 (group) with 6
# sediment sublayers, 4.1e-3 and 1.5e-2 with 32. A draw (of 95) once differed by 25 % in
# group velocity at T = 2.01 s with the phase matching to 2e-5 (a near-osculation, where
# disba's finite difference and the implicit derivative disagree): at most
# MAX_GROUP_OUTLIERS such draws.
PHASE_TOL, GROUP_TOL = 1e-4, 2e-3
MAX_GROUP_OUTLIERS = 1
# The fundamental-mode search returned a higher mode on 3 of 100 of these draws before its
# tracking points were made uniform in log c (2026-12-02), then on 1 of 98 (a 0.14-km sediment
# at 2.01 s: a slope taken over two close periods put the prediction 0.75 % off, and the
# fundamental and the first overtone, 3 % apart, fell in one focused cell); with the slope
# taken over at least half the coming gap, on none.
MAX_MISLABELLED_DRAWS = 1
MODE_JUMP = 1e-2  # relative difference beyond any rounding: another mode


@pytest.fixture(scope="module")
def batches():
    key = jax.random.key(2026)
    first = jax.block_until_ready(simulate(key, N, CONFIG))
    size = simulate._cache_size()
    again = jax.block_until_ready(simulate(key, N, CONFIG))
    other = jax.block_until_ready(simulate(jax.random.key(7), N, CONFIG))
    return first, again, other, size, simulate._cache_size()


def test_shapes_dtypes_and_validity(batches):
    batch = batches[0]
    assert batch["params"].shape == (N, 23)
    for name in (
        "phase",
        "phase_clean",
        "phase_sigma",
        "group",
        "group_clean",
        "group_sigma",
        "phase_periods",
    ):
        assert batch[name].shape == (N, 60) and batch[name].dtype == jnp.float32, name
    for name in ("rf", "rf_clean", "rf_sigma"):
        assert batch[name].shape == (N, 121), name
    assert batch["targets"]["vs"].shape == (N, 161)
    times = np.asarray(batch["rf_times"])
    np.testing.assert_allclose(times, np.arange(121) / 10.0, atol=1e-6)
    # failed candidates are replaced by spares; a row is valid exactly when all its values are finite
    finite = (
        np.all(np.isfinite(np.asarray(batch["phase_clean"])), 1)
        & np.all(np.isfinite(np.asarray(batch["group_clean"])), 1)
        & np.all(np.isfinite(np.asarray(batch["rf_clean"])), 1)
    )
    np.testing.assert_array_equal(np.asarray(batch["valid"]), finite)
    spare = CONFIG.spare(N)
    assert int(finite.sum()) == min(N, N + spare - int(batch["n_failed"]))
    periods = np.asarray(batch["phase_periods"])
    assert periods.min() >= 2.0 * (1 - 1e-6) and periods.max() <= 160.0 * (1 + 1e-6)
    assert np.all(np.diff(periods, axis=1) >= 0)
    p, a = np.asarray(batch["slowness"]), np.asarray(batch["gauss"])
    assert p.min() >= 0.04 and p.max() <= 0.08 and a.min() >= 1.5 and a.max() <= 3.0


def test_forward_failure_rate(batches):
    # issue 5: below 0.1 % (benchmarks/simulate.py measures it on 10,000+ draws); here at most
    # one failed candidate among the 2 x 102 computed.
    failed = int(batches[0]["n_failed"]) + int(batches[2]["n_failed"])
    assert failed <= 1, (
        f"{failed} forward failures among {2 * (N + CONFIG.spare(N))} candidates"
    )


def test_same_key_same_batch_and_compiled_once(batches):
    first, again, other, size_after_first, size_after_all = batches
    for name in ("params", "phase", "group", "rf", "phase_periods", "slowness"):
        np.testing.assert_array_equal(first[name], again[name])
        assert not np.array_equal(first[name], other[name])
    assert size_after_first == size_after_all == 1


def _z_scores(batch, name):
    return (
        np.asarray(batch[name], float) - np.asarray(batch[name + "_clean"], float)
    ) / np.asarray(batch[name + "_sigma"], float)


@pytest.mark.parametrize(
    "name, level", [("phase", 0.02), ("group", 0.04), ("rf", 0.02)]
)
def test_noise_statistics(batches, name, level):
    batch = batches[1]
    z = np.concatenate(
        [_z_scores(b, name)[np.asarray(b["valid"])].ravel() for b in batches[:3:2]]
    )
    n = z.size
    assert abs(z.mean()) < 4.0 / np.sqrt(n)
    assert abs(z.std() - 1.0) < 4.0 / np.sqrt(2.0 * n)
    assert abs(np.mean(np.abs(z) > 1.96) - 0.05) < 4.0 * np.sqrt(0.05 * 0.95 / n)
    sigma, clean = (
        np.asarray(batch[name + "_sigma"], float),
        np.asarray(batch[name + "_clean"], float),
    )
    expected = level * clean if name != "rf" else np.full_like(clean, level)
    np.testing.assert_allclose(sigma, expected, rtol=1e-6)


def _disba_curves(batch):
    disba = pytest.importorskip("disba")
    params = np.asarray(batch["params"], dtype=np.float64)
    models = [
        np.asarray(a) for a in layered_model(jnp.asarray(params), CONFIG.layering)
    ]
    phase, group = np.full((2, N, 60), np.nan)
    for i in range(N):
        flat = [np.asarray(a) for a in earth_flattening(*(m[i] for m in models))]
        periods = np.asarray(batch["phase_periods"][i], dtype=np.float64)
        for out, cls, options in (
            (phase, disba.PhaseDispersion, {}),
            (group, disba.GroupDispersion, {"dt": 1e-3}),
        ):
            try:
                result = cls(*flat, algorithm="dunkin", **options)(
                    periods, 0, "rayleigh"
                )
            except (
                disba.DispersionError
            ):  # disba's own root search gives up: draw not compared
                continue
            out[i, np.isin(periods, result.period)] = result.velocity
    return phase, group


@pytest.mark.slow
def test_clean_dispersion_matches_disba_on_100_prior_draws(batches):
    batch = batches[0]
    phase_ref, group_ref = _disba_curves(batch)
    compared = np.all(np.isfinite(phase_ref), axis=1) & np.asarray(batch["valid"])
    assert compared.sum() >= 95, f"disba failed on {N - compared.sum()} draws"
    phase_ref, group_ref = phase_ref[compared], group_ref[compared]
    phase = np.asarray(batch["phase_clean"], dtype=np.float64)[compared]
    group = np.asarray(batch["group_clean"], dtype=np.float64)[compared]
    phase_error = np.abs(phase / phase_ref - 1.0)
    jump = phase_error > MODE_JUMP
    mislabelled = np.any(jump, axis=1)
    # the mislabelled values are higher modes: faster than the fundamental
    assert np.all(phase[jump] > phase_ref[jump])
    print(
        "per-draw max phase error (sorted):",
        np.array2string(np.sort(phase_error.max(1))[::-1][:12], precision=6),
    )
    print(
        f"disba compared on {compared.sum()} draws; {mislabelled.sum()} off the fundamental mode"
    )
    assert mislabelled.sum() <= MAX_MISLABELLED_DRAWS, (
        f"{mislabelled.sum()} draws off disba's fundamental mode"
    )
    good = ~mislabelled
    assert phase_error[good].max() < PHASE_TOL
    group_error = np.abs(group / group_ref - 1.0)[good]
    finite = np.isfinite(group_error)
    assert finite.mean() > 0.99
    per_draw = np.nanmax(group_error, axis=1)
    print(
        f"phase max {phase_error[good].max():.2e}; group per-draw max, largest: {np.sort(per_draw)[::-1][:4]}"
    )
    assert np.sum(per_draw >= GROUP_TOL) <= MAX_GROUP_OUTLIERS, (
        f"group: {np.sort(per_draw)[::-1][:4]}"
    )


@pytest.mark.slow
def test_spherical_correction_matches_surf96(batches):
    """jaxgeo's spherical correction, as the simulator runs it (float32), against CPS
    surf96's own, on 5 prior draws at their random periods. surf96 takes at most 100
    layers: the draws are layered with 100 (the simulator uses 130)."""
    pysurf96 = pytest.importorskip("pysurf96")
    from jaxgeo.dispersion import phase_velocity
    from jaxgeo.earth import Layering

    layering = Layering(n_sediment=32, n_mantle=30)
    assert layering.n_layers == 100
    batch = batches[0]
    params = np.asarray(batch["params"][:5], dtype=np.float64)
    models = [np.asarray(a) for a in layered_model(jnp.asarray(params), layering)]
    periods = np.asarray(batch["phase_periods"][:5], dtype=np.float64)
    ours = jax.vmap(
        lambda t, *m: phase_velocity(t, *m, spherical=True, n_grid=CONFIG.n_grid, validate=False)
    )(jnp.asarray(periods, jnp.float32), *(jnp.asarray(m, jnp.float32) for m in models))
    for i in range(5):
        ref = pysurf96.surf96(
            *(m[i] for m in models),
            periods[i],
            wave="rayleigh",
            mode=1,
            velocity="phase",
            flat_earth=False,
        )
        ok = ref > 0
        error = np.abs(np.asarray(ours[i], dtype=np.float64)[ok] / ref[ok] - 1.0)
        # surf96 runs in float32 with its own spherical correction; as disba, one draw may be
        # off the fundamental mode (see MAX_MISLABELLED_DRAWS)
        assert np.median(error) < 1e-4


def test_clean_receiver_functions_match_the_operator(batches):
    """The simulator maps receiver functions in chunks (``rf_batch_size``): same values as
    the operator called on each sample's receiver model."""
    from jaxgeo.earth import receiver_model, rf_frequency_count, rf_times
    from jaxgeo.receiver import receiver_function

    batch = batches[0]
    assert jax.default_backend() != "cpu" or N > 32  # more than one chunk on the CPU
    for i in (0, 33, 99):
        model = receiver_model(batch["params"][i], CONFIG.rf_layering)
        rf = receiver_function(
            rf_times(CONFIG), *model, slowness=batch["slowness"][i], gauss=batch["gauss"][i],
            n_freq=rf_frequency_count(CONFIG), validate=False,
        )
        clean = np.asarray(batch["rf_clean"][i])
        np.testing.assert_allclose(clean, np.asarray(rf), rtol=0, atol=1e-5 * np.abs(clean).max())


@pytest.mark.parametrize("size", [-1, 2.5, True])
def test_bad_rf_batch_size_is_rejected(size):
    with pytest.raises(ValueError, match="rf_batch_size"):
        SimulatorConfig(rf_batch_size=size)


@pytest.mark.slow  # ~55 s
def test_rf_chunking_does_not_change_the_data():
    """``rf_batch_size`` 0 (one vmap, the GPU default), 4 (chunks, the last one partial)
    and the CPU default give the same receiver functions and dispersion, and equal
    ``jax.vmap(forward)``."""
    from jaxgeo.earth import batched_forward, forward, sample_prior

    n = 6
    params = sample_prior(jax.random.key(3), n, jnp.float32)
    periods = jnp.broadcast_to(jnp.geomspace(2.0, 160.0, 12, dtype=jnp.float32), (n, 12))
    slowness = jnp.linspace(0.04, 0.08, n, dtype=jnp.float32)
    gauss = jnp.linspace(1.5, 3.0, n, dtype=jnp.float32)
    small = SimulatorConfig(n_periods=12)
    reference = jax.jit(jax.vmap(lambda *a: forward(*a, small)))(params, periods, slowness, gauss)
    for size in (0, 4, None):
        config = SimulatorConfig(n_periods=12, rf_batch_size=size)
        out = jax.jit(lambda *a: batched_forward(*a, config))(params, periods, slowness, gauss)
        for got, want in zip(out, reference):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
