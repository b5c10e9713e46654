"""Receiver-function throughput and latency: jaxgeo vs seispy, side by side in one process.

Workload (issue 4): 1,024 random crustal models of 20 and of 60 layers, radial P RFs on
0–12 s at 10 Hz (121 samples), Gaussian a = 2.5 1/s, slowness 0.06 s/km.

* jaxgeo: the batch in float32 and float64 (RFs per second, best of ``--repeats`` runs
  after compilation; compile time apart), mapped in chunks of ``--chunk`` models
  (``jit(lax.map(receiver_function, batch_size=chunk))``, each chunk vmapped: the
  propagator's working set then stays in cache) and, for comparison, one
  ``jit(vmap(receiver_function))`` over the whole batch; and the single-model latency
  of a jitted call.
* seispy (python-seispy): ``seisfwd.fwd_seis`` (Thomson–Haskell synthetics, numba) for
  the radial and vertical seismograms (512 samples at 10 Hz), then its water-level
  (``deconwater``) or iterative (``deconit``, 400 iterations) deconvolution; a subset of
  the models, per-RF time extrapolated. Numba compilation is excluded (warm-up call).

Run: ``.venv/bin/python benchmarks/receiver_function.py [--models 1024] [--peer-models 64]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from jaxgeo.receiver import frequency_count, receiver_function  # noqa: E402

TIMES = np.round(np.arange(0.0, 12.0 + 1e-9, 0.1), 10)
GAUSS = 2.5
SLOWNESS = 0.06


def random_models(n_models, n_layers, seed=0, total_thickness=45.0):
    """Crustal models: a sediment layer, velocities increasing on average, mantle half-space."""
    rng = np.random.default_rng(seed)
    thickness = rng.uniform(0.5, 1.5, (n_models, n_layers)) * total_thickness / (n_layers - 1)
    thickness[:, -1] = 0.0
    vs = np.sort(rng.uniform(1.0, 4.2, (n_models, n_layers)), axis=1)
    vs[:, 0] = rng.uniform(0.6, 1.5, n_models)
    vs[:, -1] = 4.5
    vp = vs * rng.uniform(1.7, 1.9, (n_models, n_layers))
    vp[:, 0] = np.maximum(vp[:, 0], 1.6)
    vp = np.maximum(vp, vs * 1.5)
    rho = 1.74 * vp**0.25
    return thickness, vp, vs, rho


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def bench_jaxgeo(models, dtype, repeats, chunk):
    n_freq = frequency_count(TIMES, *models, slowness=SLOWNESS, gauss=GAUSS)
    rf = partial(receiver_function, slowness=SLOWNESS, gauss=GAUSS, n_freq=n_freq)
    times = jnp.asarray(TIMES, dtype=dtype)
    batch = tuple(jnp.asarray(a, dtype=dtype) for a in models)
    one_model = lambda th, vp, vs, rho: rf(times, th, vp, vs, rho)  # noqa: E731
    variants = {
        "chunked": jax.jit(lambda *m: jax.lax.map(lambda a: one_model(*a), m, batch_size=chunk)),
        "vmap": jax.jit(jax.vmap(one_model)),
    }
    result = dict(n_freq=n_freq)
    for name, batched in variants.items():
        start = time.perf_counter()
        out = jax.block_until_ready(batched(*batch))
        result[f"compile_{name}"] = time.perf_counter() - start
        run = best_of(lambda: batched(*batch), repeats)
        result[f"rfs_per_s_{name}"] = models[0].shape[0] / run
        result[f"batch_time_{name}"] = run
        result[f"finite_{name}"] = bool(np.all(np.isfinite(np.asarray(out))))
        result[f"out_{name}"] = np.asarray(out, dtype=float)
    result["chunked_vs_vmap"] = float(np.max(np.abs(result["out_chunked"] - result["out_vmap"])))
    result["out"] = result["out_chunked"]
    result["rfs_per_s"] = result["rfs_per_s_chunked"]

    single = jax.jit(one_model)
    one = tuple(a[0] for a in batch)
    start = time.perf_counter()
    jax.block_until_ready(single(*one))
    result["compile_single"] = time.perf_counter() - start
    result["latency"] = best_of(lambda: single(*one), max(20, repeats))
    return result


def bench_seispy(models, n_peer, method):
    from scipy.fftpack import ifft
    from seispy.decon import deconit, deconwater
    from seispy.seisfwd import fwd_seis

    dt, npts, shift = 0.1, 512, 5.0

    def one(i):
        th, vp, vs, rho = (np.ascontiguousarray(a[i]) for a in models)
        ur_f, uz_f = fwd_seis(SLOWNESS, dt, npts, 1, vp, vs, rho, th)
        ur = ifft(ur_f).real[::-1] / npts
        uz = -ifft(uz_f).real[::-1] / npts
        if method == "water-level":
            rf, _ = deconwater(ur, uz, dt, tshift=shift, wlevel=0.01, f0=GAUSS)
        else:
            rf, _, _ = deconit(ur, uz, dt, tshift=shift, f0=GAUSS, itmax=400)
        return rf

    one(0)  # numba compilation
    start = time.perf_counter()
    for i in range(n_peer):
        one(i)
    elapsed = time.perf_counter() - start
    return dict(rfs_per_s=n_peer / elapsed, latency=elapsed / n_peer)


def versions():
    import importlib.metadata as md

    names = ["jax", "jaxlib", "numpy", "python-seispy", "numba"]
    out = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "absent"
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=1024)
    parser.add_argument("--peer-models", type=int, default=64)
    parser.add_argument("--layers", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=32, help="models per lax.map chunk (default 32)")
    args = parser.parse_args()

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; versions: {versions()}")
    print(
        f"workload: {args.models} models, times 0-12 s at 10 Hz, a = {GAUSS}, p = {SLOWNESS} s/km;"
        f" batched = lax.map in chunks of {args.chunk} models (vmap of the whole batch for comparison)"
    )
    for n_layers in args.layers:
        models = random_models(args.models, n_layers, seed=n_layers)
        results = {
            dtype.__name__: bench_jaxgeo(models, dtype, args.repeats, args.chunk) for dtype in (np.float32, np.float64)
        }
        f32, f64 = results["float32"], results["float64"]
        error = np.max(np.abs(f32["out"] - f64["out"]), axis=1) / np.max(np.abs(f64["out"]), axis=1)
        peers = {m: bench_seispy(models, min(args.peer_models, args.models), m) for m in ("water-level", "iterative")}
        print(f"\n== {n_layers} layers (n_freq = {f64['n_freq']}) ==")
        for name, r in results.items():
            print(
                f"jaxgeo {name}: batched {r['rfs_per_s_chunked']:9.0f} RFs/s ({r['batch_time_chunked']:.3f} s / {args.models},"
                f" compile {r['compile_chunked']:.1f} s); one vmap {r['rfs_per_s_vmap']:9.0f} RFs/s"
                f" (compile {r['compile_vmap']:.1f} s); single-call latency {r['latency'] * 1e3:7.2f} ms"
                f" (compile {r['compile_single']:.1f} s); all finite: {r['finite_chunked'] and r['finite_vmap']};"
                f" chunked vs vmap max |diff| {r['chunked_vs_vmap']:.1e}"
            )
        for name, r in peers.items():
            print(f"seispy fwd_seis + {name}: {r['rfs_per_s']:9.1f} RFs/s, latency {r['latency'] * 1e3:7.2f} ms")
        for name, r in peers.items():
            print(
                f"ratio jaxgeo float32 batched / seispy ({name}): {f32['rfs_per_s'] / r['rfs_per_s']:.1f}x;"
                f" float64: {f64['rfs_per_s'] / r['rfs_per_s']:.1f}x"
            )
        print(f"float32 vs float64: max |diff| / peak = {error.max():.2e} (median {np.median(error):.2e})")


if __name__ == "__main__":
    main()
