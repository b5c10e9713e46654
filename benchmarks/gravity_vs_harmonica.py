"""Prism gravity: harmonica vs jaxgeo (generic and mesh paths, float64 and float32).

Runs both codes in one process on the same machine and prints prism–point pairs per
second and ratios to harmonica. Compile time (first call) is reported apart from run
time (best of --repeat calls after it). Accuracy of each run against harmonica is
printed too (near field: harmonica is an excellent reference there).

    .venv/bin/python benchmarks/gravity_vs_harmonica.py [--large] [--repeat 3]

Cases: a 40 × 40 × 20 mesh under a 50 × 50 survey (the reference case) and, with
--large, one 10× larger (80 × 80 × 20 mesh under an 80 × 80 survey; run once).
harmonica runs with numba's threads (all cores, ``parallel=True``) and with one thread.
jaxgeo runs on one JAX CPU device per core by default (``jaxgeo.parallel.use_cpu_cores``
before JAX starts; ``prism_gravity`` spreads the points over them), the same cores as
harmonica's threads; ``--devices 1`` keeps one device.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

from _devices import start_devices  # noqa: E402  (benchmarks/_devices.py)

DEVICES = start_devices()

import harmonica  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402

from jaxgeo.gravity import PrismMesh, prism_gravity  # noqa: E402


def case(mesh_shape, survey_shape):
    mesh = PrismMesh.regular((-2000.0, 2000.0, -2000.0, 2000.0), mesh_shape, -2000.0, 0.0)
    density = np.random.default_rng(0).normal(300.0, 100.0, size=mesh.shape)
    e, n = np.meshgrid(np.linspace(-2500, 2500, survey_shape[0]), np.linspace(-2500, 2500, survey_shape[1]))
    return mesh, density, (e, n, np.full_like(e, 10.0))


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        if hasattr(out, "block_until_ready"):
            out.block_until_ready()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run the larger case")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--field", default="g_z")
    parser.add_argument("--devices", type=int, default=DEVICES, help="JAX CPU devices (default: one per core)")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"jax {jax.__version__}, harmonica {harmonica.__version__}, numba {numba.__version__} "
          f"(threads {numba.get_num_threads()}); JAX devices {len(jax.devices())}")
    cases = [((40, 40, 20), (50, 50))]
    if args.large:
        cases.append(((80, 80, 20), (80, 80)))
    for index, (mesh_shape, survey_shape) in enumerate(cases):
        repeat = args.repeat if index == 0 else 1
        mesh, density, coords = case(mesh_shape, survey_shape)
        prisms = np.asarray(mesh.prisms())
        pairs = coords[0].size * prisms.shape[0]
        print(f"\ncase: {mesh_shape} mesh ({prisms.shape[0]} prisms) under a {survey_shape} survey = {pairs:.3g} pairs, field {args.field}")
        harmonica.prism_gravity(tuple(c[:1, :1] for c in coords), prisms[:8], density.ravel()[:8], field=args.field)
        t_h, ref = best_of(lambda: harmonica.prism_gravity(coords, prisms, density.ravel(), field=args.field), repeat)
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        t_h1, _ = best_of(lambda: harmonica.prism_gravity(coords, prisms, density.ravel(), field=args.field), 1)
        numba.set_num_threads(threads)
        print(f"  {'harmonica (numba, %d threads)' % threads:38s} run {t_h:8.3f} s  {pairs / t_h:10.3e} pairs/s")
        print(f"  {'harmonica (numba, 1 thread)':38s} run {t_h1:8.3f} s  {pairs / t_h1:10.3e} pairs/s")
        for dtype in (jnp.float64, jnp.float32):
            c = tuple(jnp.asarray(a, dtype) for a in coords)
            m = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), mesh)
            runs = {
                "generic": lambda: prism_gravity(c, jnp.asarray(prisms, dtype), jnp.asarray(density.ravel(), dtype), field=args.field),
                "mesh": lambda: prism_gravity(c, m, jnp.asarray(density, dtype), field=args.field),
            }
            for name, fn in runs.items():
                start = time.perf_counter()
                fn().block_until_ready()
                first = time.perf_counter() - start
                t, out = best_of(fn, repeat)
                error = np.abs(np.asarray(out, np.float64) - ref).max() / np.abs(ref).max()
                label = f"jaxgeo {name} {np.dtype(dtype).name}"
                print(f"  {label:38s} run {t:8.3f} s  {pairs / t:10.3e} pairs/s  "
                      f"x{t_h / t:5.2f} harmonica ({t_h1 / t:5.2f} vs 1 thread)  first call {first:6.2f} s "
                      f"(compile ≈ {max(first - t, 0.0):5.2f} s)  max rel. diff {error:.1e}")


if __name__ == "__main__":
    main()
