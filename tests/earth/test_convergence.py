"""Convergence of the discretisation: default layerings against twice as many layers.

Issue 5 asks that doubling the number of layers change Rayleigh phase and group
velocities at 2-160 s by < 1e-3 (relative) and receiver functions by < 1 % normalised
RMS. **Not met** by the default layerings (42 dispersion layers, 35 RF layers): the
measured changes (16 prior draws, float64, n_grid 256, committed dispersion operator)
are, for dispersion, per-draw maxima over 2-160 s with median 1.8e-3 / 90th percentile
3.7e-3 (phase) and 5.6e-3 / 1.9e-2 (group), the largest at 2-10 s in draws with thick
slow sediments (with the dispersion operator under modification on 2026-11-22 some
draws also switched mode: 90th percentile 0.29); for RFs at a = 3 1/s, NRMS median
4.9 %, max 12.9 %. The tests below guard the achieved levels; ``test_issue_targets``
records the issue's thresholds as an expected failure. All are slow (two compilations
per layering).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.earth import (
    DEFAULT_LAYERING,
    RECEIVER_LAYERING,
    SimulatorConfig,
    layered_model,
    receiver_model,
    sample_prior,
)
from jaxgeo.earth._simulator import _phase_and_group, rf_frequency_count, rf_times
from jaxgeo.receiver import receiver_function

N = 16
PERIODS = np.logspace(np.log10(2.0), np.log10(160.0), 30)


def _dispersion(params, layering):
    config = SimulatorConfig(dtype="float64", layering=layering, n_grid=256)
    fn = jax.jit(
        jax.vmap(
            lambda p: _phase_and_group(
                jnp.asarray(PERIODS), *layered_model(p, layering), config
            )
        )
    )
    return [np.asarray(a) for a in fn(params)]


def _rf(params, layering, gauss=3.0):
    config = SimulatorConfig(dtype="float64", rf_layering=layering)
    n_freq = rf_frequency_count(config)
    fn = jax.jit(
        jax.vmap(
            lambda p: receiver_function(
                rf_times(config),
                *receiver_model(p, layering),
                slowness=0.06,
                gauss=gauss,
                n_freq=n_freq,
                validate=False,
            )
        )
    )
    return np.asarray(fn(params))


@functools.cache
def _changes():
    params = sample_prior(jax.random.key(7), N, jnp.float64)
    coarse, fine = (
        _dispersion(params, DEFAULT_LAYERING),
        _dispersion(params, DEFAULT_LAYERING.doubled()),
    )
    phase, group = (
        np.nanmax(np.abs(c / f - 1.0), axis=1) for c, f in zip(coarse, fine)
    )
    a, b = _rf(params, RECEIVER_LAYERING), _rf(params, RECEIVER_LAYERING.doubled())
    nrms = np.sqrt(np.mean((a - b) ** 2, axis=1) / np.mean(b**2, axis=1))
    return phase, group, nrms


@pytest.mark.slow
def test_achieved_convergence():
    phase, group, nrms = _changes()
    print(
        f"phase: median {np.median(phase):.1e}, p90 {np.percentile(phase, 90):.1e}; group: median"
        f" {np.median(group):.1e}, p90 {np.percentile(group, 90):.1e}; RF NRMS: median {np.median(nrms):.3f},"
        f" max {nrms.max():.3f}"
    )
    # medians only for dispersion: the tails include draws where the root search returns a
    # higher mode in one of the two layerings (a limitation of the dispersion operator)
    assert np.median(phase) < 5e-3
    assert np.median(group) < 1e-2
    assert np.median(nrms) < 0.07 and nrms.max() < 0.2


@pytest.mark.slow
@pytest.mark.xfail(
    reason="issue 5 convergence targets not met by the default layerings (see module docstring)"
)
def test_issue_targets():
    phase, group, nrms = _changes()
    assert phase.max() < 1e-3 and group.max() < 1e-3 and nrms.max() < 0.01


@pytest.mark.slow
def test_receiver_truncation_does_not_change_the_window():
    """Structure below ``receiver_depth`` (140 km) converts after the 12-s window."""
    import dataclasses

    params = sample_prior(jax.random.key(3), 8, jnp.float64)
    deep = dataclasses.replace(RECEIVER_LAYERING, receiver_depth=250.0)
    a, b = _rf(params, RECEIVER_LAYERING), _rf(params, deep)
    nrms = np.sqrt(np.mean((a - b) ** 2, axis=1) / np.mean(b**2, axis=1))
    assert nrms.max() < 1e-5  # measured 1.5e-7 at a = 3 1/s
