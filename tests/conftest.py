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
