"""Strict JAX settings for the test suite.

float64 is switched on for the whole session so that comparisons against peers are
made at full precision; float32 behaviour is tested explicitly by passing float32
arrays (outputs follow the input dtype). Implicit rank promotion raises.
"""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# JAX's persistent compilation cache, shared by the xdist workers and the subprocesses and
# notebook kernels the tests start (the simulator and the operators are compiled with the
# same shapes by many tests); it starts empty on a clean checkout.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".pytest_cache", "jax-compilation-cache"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, fresh for every test."""
    return np.random.default_rng(20261121)


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data beside the checkout; skips the test when absent."""
    path = os.path.abspath(os.path.join(SHARED, "data"))
    if not os.path.isdir(path):
        pytest.skip("../shared/data is not present beside this checkout")
    return path


# A worker that dies (a segfault inside XLA's CPU compiler, seen about once per full run
# on the 2-core CI machine, in a different receiver-function test each time and never when
# the test is run again) would fail the whole run. A crashed test is run once more on a
# fresh worker and must pass there; it is reported as "rerun", with the crash output
# above it. Assertion failures are never rerun: this hook sees only crashed workers.
_CRASH_RERUNS: dict[str, int] = {}
_MAX_CRASH_RERUNS = 3  # per session


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem, report, sched):
    if crashitem in _CRASH_RERUNS or sum(_CRASH_RERUNS.values()) >= _MAX_CRASH_RERUNS:
        return
    _CRASH_RERUNS[crashitem] = 1
    sched.mark_test_pending(crashitem)
    report.outcome = "rerun"


def pytest_report_teststatus(report, config):
    if report.outcome == "rerun":
        return "rerun", "R", ("RERUN", {"yellow": True})
    return None
