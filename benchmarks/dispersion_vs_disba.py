"""Surface-wave dispersion: disba (Dunkin, one process) vs jaxgeo batched, same machine.

Curves per second for fundamental-mode Rayleigh phase and group velocity (and both
from one root search, ``phase_and_group_velocity``, against disba's phase plus group
time), 60 periods
log-spaced over 2–160 s, random 20- and 60-layer crust/mantle models; jaxgeo maps a
batch of models with ``jax.vmap`` under ``jax.jit`` in float32 and float64. Compile
time (first call) is reported apart from run time (best of ``--repeat`` calls).
Also reported: values + all sensitivity kernels (∂c/∂vs, vp, rho, thickness, by
autodiff) vs disba's finite-difference kernels (one re-solve per layer and parameter).

Run: ``.venv/bin/python benchmarks/dispersion_vs_disba.py [--batch 1024] [--disba-models 32]``.
disba's rate is measured on ``--disba-models`` models (it is a per-model loop), best of
``--repeat`` passes as jaxgeo's, and compared per curve.

Devices: by default the CPU is split into one JAX host device per core
(``jaxgeo.parallel.use_cpu_cores``, before JAX starts) and the batch of
models is sharded over them with ``jax.sharding`` (``--devices 1``: one device, XLA's
own threading). The search runs many small steps in sequence (60 periods); on one
device each is split over the cores and waits for both, on one device per core each
half of the batch runs its steps alone (measured 1.3-1.6x faster on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time


import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

from _devices import start_devices  # noqa: E402  (benchmarks/_devices.py)

_N_DEVICES = start_devices()

import disba  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

from jaxgeo.parallel import compiler_options  # noqa: E402
from jaxgeo.dispersion import (  # noqa: E402
    group_velocity,
    phase_and_group_velocity,
    phase_velocity,
    sensitivity_kernels,
)

PERIODS = np.logspace(np.log10(2.0), np.log10(160.0), 60)


def random_models(n_models, n_layers, rng):
    """Crust/mantle models: Vs rising from ~2 to ~4.6 km/s over 80 km, with jitter."""
    depth = np.sort(rng.uniform(0.0, 80.0, size=(n_models, n_layers - 1)), axis=1)
    thickness = np.diff(depth, axis=1, prepend=0.0)
    thickness = np.concatenate([thickness, np.zeros((n_models, 1))], axis=1) + 0.05
    thickness[:, -1] = 0.0
    vs = np.linspace(2.0, 4.6, n_layers)[None, :] + rng.uniform(-0.1, 0.1, size=(n_models, n_layers))
    vp = 1.75 * vs
    rho = 0.32 * vp + 0.77
    return thickness, vp, vs, rho


def shard(arrays):
    """Place the model axis of every array across the JAX devices (one per core by default)."""
    devices = jax.devices()
    if len(devices) == 1:
        return arrays
    sharding = NamedSharding(Mesh(np.array(devices), ("models",)), PartitionSpec("models"))
    return [jax.device_put(a, sharding) for a in arrays]


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def disba_rate(models, kind, n_models, repeat=1):
    cls = disba.PhaseDispersion if kind == "phase" else disba.GroupDispersion
    # Warm-up: disba compiles its numba kernels on the first call.
    cls(*(a[-1] for a in models), algorithm="dunkin")(PERIODS, 0, "rayleigh")

    def run():
        for i in range(n_models):
            cls(*(a[i] for a in models), algorithm="dunkin")(PERIODS, 0, "rayleigh")

    return n_models / best_of(run, repeat)  # best of `repeat` passes, as jaxgeo's rate


# jax.jit compiles with the options of the outermost function only: the batched
# call passes on the options jaxgeo's own entry points use (--default-codegen: none).
_OPTIONS = compiler_options()


def jaxgeo_rate(models, kind, dtype, repeat):
    fn = {"phase": phase_velocity, "group": group_velocity, "both": phase_and_group_velocity}[kind]
    periods = jnp.asarray(PERIODS, dtype=dtype)
    batched = jax.jit(jax.vmap(lambda *m: fn(periods, *m, validate=False)), compiler_options=_OPTIONS)
    arrays = shard([jnp.asarray(a, dtype=dtype) for a in models])
    start = time.perf_counter()
    jax.block_until_ready(batched(*arrays))
    first = time.perf_counter() - start
    run = best_of(lambda: batched(*arrays), repeat)
    return len(models[0]) / run, max(first - run, 0.0)


def kernel_rates(models, n_models, repeat):
    # disba: 4 parameters × n_layers finite-difference re-solves per period.
    disba.PhaseSensitivity(*(a[-1] for a in models), algorithm="dunkin")(PERIODS[0], 0, "rayleigh", "density")
    sensitivity_start = time.perf_counter()
    for i in range(n_models):
        ps = disba.PhaseSensitivity(*(a[i] for a in models), algorithm="dunkin")
        for period in PERIODS:
            for parameter in ("velocity_s", "velocity_p", "density", "thickness"):
                ps(period, 0, "rayleigh", parameter)
    disba_rate_ = n_models / (time.perf_counter() - sensitivity_start)
    batched = jax.jit(jax.vmap(lambda *m: sensitivity_kernels(PERIODS, *m, validate=False)), compiler_options=_OPTIONS)
    arrays = [jnp.asarray(a[:n_models]) for a in models]
    if n_models % jax.device_count() == 0:
        arrays = shard(arrays)
    start = time.perf_counter()
    jax.block_until_ready(batched(*arrays))
    first = time.perf_counter() - start
    run = best_of(lambda: batched(*arrays), repeat)
    return disba_rate_, n_models / run, max(first - run, 0.0)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024, help="models per jaxgeo batch")
    parser.add_argument("--disba-models", type=int, default=32, help="models timed for disba")
    parser.add_argument("--kernel-models", type=int, default=4, help="models timed for kernels")
    parser.add_argument("--layers", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--devices",
        type=int,
        default=_N_DEVICES,
        help="JAX host devices the batch is sharded over (default: one per core)",
    )
    parser.add_argument(
        "--default-codegen",
        action="store_true",
        help="compile without jaxgeo.parallel.compiler_options() (XLA's default vector width)",
    )
    args = parser.parse_args()
    if args.default_codegen:
        _OPTIONS.clear()
    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores, {jax.device_count()} JAX device(s) (batch sharded over them), "
        f"jax {jax.__version__}, disba {disba.__version__}, compiler options {_OPTIONS or 'XLA defaults'}"
    )
    if args.batch % jax.device_count():
        parser.error(f"--batch ({args.batch}) must be a multiple of the device count ({jax.device_count()})")
    rng = np.random.default_rng(0)
    for n_layers in args.layers:
        models = random_models(args.batch, n_layers, rng)
        rates = {}
        for kind in ("phase", "group", "both"):
            if kind == "both":
                # disba has no combined call: one phase plus one group computation.
                reference = 1.0 / (1.0 / rates["phase"] + 1.0 / rates["group"])
            else:
                reference = rates[kind] = disba_rate(models, kind, args.disba_models, args.repeat)
            print(f"{n_layers} layers, {kind}: disba {reference:8.1f} curves/s")
            for dtype in (jnp.float32, jnp.float64):
                rate, compile_time = jaxgeo_rate(models, kind, dtype, args.repeat)
                print(
                    f"{n_layers} layers, {kind}: jaxgeo {jnp.dtype(dtype).name} {rate:8.1f} curves/s "
                    f"({rate / reference:5.2f}x disba), compile {compile_time:5.1f} s"
                )
        if args.kernel_models > 0:
            disba_k, ours_k, compile_k = kernel_rates(models, args.kernel_models, args.repeat)
            print(
                f"{n_layers} layers, values + all kernels (phase, float64): disba {disba_k:.3f} "
                f"models/s, jaxgeo {ours_k:.3f} models/s ({ours_k / disba_k:.1f}x), compile {compile_k:.1f} s"
            )


if __name__ == "__main__":
    main()
