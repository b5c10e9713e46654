"""Joint dispersion + receiver-function simulator: jaxgeo on-device vs a peer pipeline.

Workload (issue 5): prior draws of the 23-parameter continental model; per sample,
fundamental Rayleigh phase and group velocities at 60 random periods (2-160 s, spherical
correction) and a P receiver function on 0-12 s at 10 Hz for a random slowness
(0.04-0.08 s/km) and Gaussian a (1.5-3.0 1/s).

* jaxgeo: ``jaxgeo.earth.simulate`` (one jit-compiled function: prior, layering,
  dispersion, RF, noise), float32, batches of 64 and 1,024; compile time (first call
  minus a run) apart from run time (best of ``--repeats``). Also: the time split between
  dispersion and RF (each jitted alone on the same batch, batched as ``simulate`` does:
  dispersion vmapped, RFs in chunks of ``rf_batch_size``), the forward-failure
  rate over all candidates computed, and the SNRs of the noisy data.
* peer, in this process: disba (Dunkin, numba) ``PhaseDispersion`` + ``GroupDispersion``
  on the same flattened layered models at the same periods, then python-seispy's
  ``fwd_seis`` (Thomson-Haskell) radial and vertical synthetics and its water-level
  deconvolution (the RF pipeline of benchmarks/receiver_function.py), on ``--peer`` samples
  after a warm-up call (numba compilation excluded), best of ``--repeats`` passes.

Devices: by default the CPU is split into one JAX device per core
(``jaxgeo.parallel.use_cpu_cores``, before JAX starts) and ``simulate`` spreads each batch
over them (``SimulatorConfig.devices``); ``--devices 1`` keeps one device (XLA's own
threading). The peer runs in this one process, as its users run it.

Run: ``.venv/bin/python benchmarks/simulate.py [--repeats 2] [--peer 32] [--failure-batches 8] [--devices N]``
(``--failure-batches K``: K more untimed batches of 1,024 with other keys, to count forward
failures on enough candidates to bound a rate below 0.1 %).

Latest figures, machine and versions: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

from _devices import start_devices  # noqa: E402  (benchmarks/_devices.py)

from jaxgeo.parallel import compiler_options, split_batch  # noqa: E402

DEVICES = start_devices()

import jax.numpy as jnp
import numpy as np

from jaxgeo.earth import (
    SimulatorConfig,
    layered_model,
    receiver_model,
    rf_frequency_count,
    simulate,
)
from jaxgeo.earth._simulator import _dispersion_data, _rf_batch_size, _receiver_data

CONFIG = SimulatorConfig()


def timed(fn, repeats):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        runs.append(time.perf_counter() - start)
    return out, first, min(runs)


def snr_db(batch, name):
    clean = np.asarray(batch[name + "_clean"], float)
    noise = np.asarray(batch[name], float) - clean
    valid = np.asarray(batch["valid"])
    return 10.0 * np.log10(np.sum(clean**2, axis=1) / np.sum(noise**2, axis=1))[valid]


def bench_jaxgeo(n, repeats, seed):
    key = jax.random.key(seed)
    batch, first, run = timed(lambda: simulate(key, n, CONFIG), repeats)
    return batch, {
        "samples_per_s": n / run,
        "run": run,
        "compile": max(first - run, 0.0),
    }


def time_split(batch, repeats):
    """Dispersion alone and RF alone on the batch's draws, batched as simulate does
    (the two halves of ``jaxgeo.earth.batched_forward``)."""
    params = batch["params"]
    periods = batch["phase_periods"]
    # simulate compiles with jaxgeo.parallel.compiler_options(); so do its two halves here.
    options = compiler_options()
    disp = jax.jit(split_batch(jax.vmap(lambda p, t: _dispersion_data(p, t, CONFIG))), compiler_options=options)
    rf_one = lambda p, s, a: _receiver_data(p, s, a, CONFIG)  # noqa: E731
    chunk = _rf_batch_size(CONFIG)
    if chunk > 0:
        rf = jax.jit(
            split_batch(lambda *a: jax.lax.map(lambda x: rf_one(*x), a, batch_size=chunk)), compiler_options=options
        )
    else:
        rf = jax.jit(split_batch(jax.vmap(rf_one)), compiler_options=options)
    _, _, t_disp = timed(lambda: disp(params, periods), repeats)
    _, _, t_rf = timed(lambda: rf(params, batch["slowness"], batch["gauss"]), repeats)
    return t_disp, t_rf


def flatten(thickness, vp, vs, rho, radius=6370.0):
    """CPS surf96 earth flattening (Rayleigh), NumPy, for the peer's input."""
    used = thickness.copy()
    used[-1] = 1.0
    r_bottom = radius - np.cumsum(used)
    r_top = r_bottom + used
    factor = 2.0 * radius / (r_top + r_bottom)
    flat = radius * np.log(r_top / r_bottom)
    flat[-1] = 0.0
    return flat, vp * factor, vs * factor, rho * factor**-2.275


def bench_peer(batch, n_peer, repeats=1):
    import disba
    from scipy.fftpack import ifft
    from seispy.decon import deconwater
    from seispy.seisfwd import fwd_seis

    params = jnp.asarray(np.asarray(batch["params"][:n_peer], dtype=np.float64))
    models = [np.asarray(a) for a in layered_model(params, CONFIG.layering)]
    rf_models = [np.asarray(a) for a in receiver_model(params, CONFIG.rf_layering)]
    periods = np.asarray(batch["phase_periods"][:n_peer], dtype=np.float64)
    slowness = np.asarray(batch["slowness"][:n_peer], dtype=np.float64)
    gauss = np.asarray(batch["gauss"][:n_peer], dtype=np.float64)
    dt, npts, shift = 0.1, 512, 5.0

    def dispersion(i):
        flat = flatten(*(m[i] for m in models))
        try:
            disba.PhaseDispersion(*flat, algorithm="dunkin")(periods[i], 0, "rayleigh")
            disba.GroupDispersion(*flat, algorithm="dunkin")(periods[i], 0, "rayleigh")
        except disba.DispersionError:
            return False
        return True

    def rf(i):
        th, vp, vs, rho = (np.ascontiguousarray(m[i]) for m in rf_models)
        ur_f, uz_f = fwd_seis(slowness[i], dt, npts, 1, vp, vs, rho, th)
        ur = ifft(ur_f).real[::-1] / npts
        uz = -ifft(uz_f).real[::-1] / npts
        out, _ = deconwater(ur, uz, dt, tshift=shift, wlevel=0.01, f0=gauss[i])
        return out

    dispersion(0), rf(0)  # numba compilation
    # Best of `repeats` passes over the same samples, as jaxgeo's run time.
    t_disp = t_rf = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        ok = sum(dispersion(i) for i in range(n_peer))
        t_disp = min(t_disp, time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(n_peer):
            rf(i)
        t_rf = min(t_rf, time.perf_counter() - start)
    return {
        "samples_per_s": n_peer / (t_disp + t_rf),
        "t_disp": t_disp,
        "t_rf": t_rf,
        "disba_ok": ok,
    }


def versions():
    import importlib.metadata as md

    out = {}
    for name in ("jax", "jaxlib", "numpy", "disba", "python-seispy", "numba"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "absent"
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--peer", type=int, default=32)
    parser.add_argument("--failure-batches", type=int, default=0)
    parser.add_argument("--devices", type=int, default=DEVICES, help="JAX CPU devices (default: one per core)")
    args = parser.parse_args()
    with open("/proc/cpuinfo") as handle:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in handle
                if line.startswith("model name")
            ),
            "?",
        )
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, load {os.getloadavg()}; versions: {versions()}"
    )
    print(
        f"layers: dispersion {CONFIG.layering.n_layers}, RF {CONFIG.rf_layering.n_receiver_layers}"
        f" (n_freq {rf_frequency_count(CONFIG)}); n_grid {CONFIG.n_grid}; dtype {CONFIG.dtype};"
        f" JAX devices {len(jax.devices())}"
    )
    results, failed, candidates, largest = {}, 0, 0, None
    for i, n in enumerate(args.batches):
        batch, r = bench_jaxgeo(n, args.repeats, seed=i)
        results[n] = r
        failed += int(batch["n_failed"])
        candidates += n + CONFIG.spare(n)
        largest = batch
        print(
            f"jaxgeo simulate n={n}: {r['samples_per_s']:.1f} samples/s ({r['run']:.2f} s per batch),"
            f" compile {r['compile']:.1f} s, n_failed {int(batch['n_failed'])}, invalid rows"
            f" {int(np.sum(~np.asarray(batch['valid'])))}"
        )
    for k in range(args.failure_batches):
        batch = simulate(jax.random.key(1000 + k), 1024, CONFIG)
        failed += int(batch["n_failed"])
        candidates += 1024 + CONFIG.spare(1024)
    print(
        f"forward failures: {failed} of {candidates} candidates ({100 * failed / candidates:.3f} %; timed batches"
        f" and {args.failure_batches} more of 1,024)"
    )
    t_disp, t_rf = time_split(largest, 1)
    share = t_disp / (t_disp + t_rf)
    print(
        f"time split (n={args.batches[-1]}): dispersion {t_disp:.2f} s, RF {t_rf:.2f} s -> dispersion {100 * share:.0f} %"
    )
    for name in ("phase", "group", "rf"):
        s = snr_db(largest, name)
        print(
            f"SNR {name}: median {np.median(s):.1f} dB, 5-95 % {np.percentile(s, 5):.1f}-{np.percentile(s, 95):.1f} dB"
        )
    peer = bench_peer(largest, args.peer, args.repeats)
    print(
        f"peer (disba phase+group + seispy fwd_seis + water level), {args.peer} samples: {peer['samples_per_s']:.1f}"
        f" samples/s (dispersion {peer['t_disp'] / args.peer * 1e3:.1f} ms, RF {peer['t_rf'] / args.peer * 1e3:.1f} ms"
        f" per sample; disba solved {peer['disba_ok']}/{args.peer})"
    )
    for n, r in results.items():
        print(
            f"ratio jaxgeo n={n} / peer: {r['samples_per_s'] / peer['samples_per_s']:.2f}x"
        )


if __name__ == "__main__":
    main()
