"""jaxgeo.parallel: splitting batches over devices gives the one-device values.

The multi-device checks run in a subprocess whose CPU is split into two JAX devices
(JAX fixes its device count when it starts, and this process has one device).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.parallel import compiler_options, local_devices, split_batch, use_cpu_cores


def test_one_device_returns_the_function_itself():
    def f(x):
        return 2.0 * x

    assert split_batch(f, devices=1) is f


def test_bad_device_counts_are_named():
    with pytest.raises(ValueError, match="'devices'"):
        local_devices(len(jax.local_devices()) + 1)
    with pytest.raises(ValueError, match="'devices'"):
        local_devices([])
    with pytest.raises(ValueError, match="'n'"):
        use_cpu_cores(0)


def test_use_cpu_cores_after_start_explains_itself():
    jnp.zeros(1).block_until_ready()  # the backend is running
    have = len(jax.devices("cpu"))
    assert use_cpu_cores(have) == have  # already true: fine
    with pytest.raises(RuntimeError, match="before the first JAX computation"):
        use_cpu_cores(have + 1)


def test_compiler_options_are_a_fresh_dict_that_jit_accepts():
    options = compiler_options()
    assert options == {"xla_cpu_prefer_vector_width": 512}
    options["xla_cpu_prefer_vector_width"] = 128
    assert compiler_options()["xla_cpu_prefer_vector_width"] == 512
    f = jax.jit(lambda x: jnp.exp(-x) * x, compiler_options=compiler_options())
    x = jnp.linspace(0.0, 3.0, 37)
    np.testing.assert_allclose(f(x), np.exp(-np.asarray(x)) * np.asarray(x), rtol=1e-15)


def test_dispersion_entry_points_compile_alone_and_inside_a_callers_jit():
    # Compiler options are accepted on the outermost jit only (JAX raises otherwise): the
    # dispersion entry points use them when called directly and leave them to the
    # caller inside a transform; the values agree either way.
    from jaxgeo.dispersion import phase_velocity

    periods = jnp.asarray([2.0, 30.0], np.float32)
    model = [
        jnp.asarray(a, np.float32)
        for a in ([1.5, 20.0, 0.0], [3.0, 6.0, 8.0], [1.6, 3.5, 4.6], [2.2, 2.8, 3.3])
    ]

    def call(p):
        return phase_velocity(p, *model, validate=False)

    alone = call(periods)
    inside = jax.jit(call, compiler_options=compiler_options())(periods)
    assert alone.dtype == np.float32 and np.all(np.isfinite(alone))
    np.testing.assert_allclose(inside, alone, rtol=1e-6)


_SCRIPT = textwrap.dedent(
    """
    import os, sys
    FULL = sys.argv[1] == "full"  # and gravity for every field kind and dtype; else split_batch only
    from jaxgeo.parallel import split_batch, use_cpu_cores
    assert use_cpu_cores(2) == 2
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    assert len(jax.devices()) == 2

    # a vmapped function of a batch of 5 (not a multiple of 2: padded and trimmed)
    def f(x, y):
        return jax.vmap(lambda a, b: (jnp.sin(a) * b.sum(), jnp.cumsum(b)))(x, y)
    x = jnp.linspace(0.0, 1.0, 5)
    y = jnp.arange(15.0).reshape(5, 3)
    split = split_batch(f)
    for got, want in zip(split(x, y), f(x, y)):
        np.testing.assert_allclose(got, want, rtol=0, atol=0)
    got = jax.jit(split)(x, y)[0]
    np.testing.assert_allclose(got, f(x, y)[0], rtol=0, atol=0)
    g = jax.grad(lambda x: split(x, y)[0].sum())(x)
    np.testing.assert_allclose(g, jax.grad(lambda x: f(x, y)[0].sum())(x), rtol=1e-15)
    # under an outer vmap (a batch of batches), as a user's vmapped loss would call it
    xs, ys = jnp.stack([x, 2.0 * x]), jnp.stack([y, y + 1.0])
    for got, want in zip(jax.vmap(split)(xs, ys), jax.vmap(f)(xs, ys)):
        np.testing.assert_allclose(got, want, rtol=0, atol=0)
    try:
        split(x, y[:4])
    except ValueError as error:
        assert "leading batch axis" in str(error)
    else:
        raise AssertionError("mismatched batch axes were accepted")

    if not FULL:
        print("OK")
        sys.exit(0)

    # gravity: points spread over both devices, the same values as on one
    from jaxgeo.gravity import PrismMesh, prism_gravity, prism_gravity_jacobian
    mesh = PrismMesh.regular((-500.0, 500.0, -400.0, 400.0), (4, 3, 2), -300.0, 0.0)
    rho = np.linspace(-200.0, 300.0, mesh.size)
    e, n = np.meshgrid(np.linspace(-900, 900, 7), np.linspace(-800, 800, 5))
    coords = (e, n, np.full_like(e, 20.0))
    for dtype in (np.float64, np.float32):
        c = tuple(a.astype(dtype) for a in coords)
        for prisms in (mesh.prisms().astype(dtype), jax.tree_util.tree_map(lambda a: a.astype(dtype), mesh)):
            for field in ("g_z", "g_en") if dtype == np.float64 else ("g_z",):
                one = prism_gravity(c, prisms, rho.astype(dtype), field, devices=1)
                two = prism_gravity(c, prisms, rho.astype(dtype), field)
                np.testing.assert_allclose(two, one, rtol=1e-12 if dtype == np.float64 else 1e-5)
            if dtype == np.float64:
                jac1 = prism_gravity_jacobian(c, prisms, devices=1)
                np.testing.assert_allclose(prism_gravity_jacobian(c, prisms), jac1, rtol=1e-12)
    grad = lambda d, k: jax.grad(lambda r: prism_gravity(coords, mesh, r, devices=k).sum())(d)
    np.testing.assert_allclose(grad(rho, None), grad(rho, 1), rtol=1e-12)
    print("OK")
    """
)


def _run_on_two_devices(script, timeout, *args):
    """Run ``script`` in a fresh Python whose JAX has two CPU devices; it prints OK."""
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["JAX_PLATFORMS"] = "cpu"
    command = [sys.executable, "-c", script, *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0 and "OK" in result.stdout, result.stdout[-3000:] + result.stderr[-6000:]


def test_split_batch_on_two_devices_gives_the_one_device_values():
    _run_on_two_devices(_SCRIPT, 900, "short")


@pytest.mark.slow  # ~25-45 s of compilation: kept out of the default run (15-minute budget)
def test_gravity_on_two_devices_gives_the_one_device_values():
    _run_on_two_devices(_SCRIPT, 900, "full")


_SIMULATE = textwrap.dedent(
    """
    from jaxgeo.parallel import use_cpu_cores
    use_cpu_cores(2)
    import dataclasses, jax, numpy as np
    from jaxgeo.earth import SimulatorConfig, simulate
    config = SimulatorConfig()
    key = jax.random.key(3)
    one = simulate(key, 7, dataclasses.replace(config, devices=1))
    two = simulate(key, 7, config)
    # the same draws; float32 values agree to the dispersion operator's tolerances
    # (XLA vectorises a 4-model shard differently from 7 models, so not bitwise)
    np.testing.assert_array_equal(two["params"], one["params"])
    for name, rtol in (("phase", 1e-4), ("phase_clean", 1e-4), ("group", 1e-3), ("group_clean", 1e-3)):
        np.testing.assert_allclose(two[name], one[name], rtol=rtol, err_msg=name)
    for name in ("rf", "rf_clean"):
        np.testing.assert_allclose(two[name], one[name], atol=1e-5, err_msg=name)
    assert int(one["n_failed"]) == int(two["n_failed"])
    print("OK")
    """
)


@pytest.mark.slow
def test_simulate_split_over_two_devices_gives_the_one_device_batch():
    _run_on_two_devices(_SIMULATE, 1800)
