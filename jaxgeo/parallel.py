"""Spreading a batch over several devices: all CPU cores, or several GPUs.

jaxgeo's batched operators run the same small steps for every model or point of a batch.
On one device XLA splits each step over the threads and waits for all of them; with one
device per core (or per GPU) each device runs its share of the batch alone, which
measured 1.3-1.6× faster on a 2-core CPU for the dispersion search
(benchmarks/README.md).

Three pieces:

- :func:`use_cpu_cores` makes JAX expose one CPU device per core. It must run before
  JAX starts its CPU backend (before the first computation); the ``jaxgeo`` command-line
  tool and the benchmarks call it at start-up.
- :func:`split_batch` wraps a function of batched arrays so that the leading axis is
  split over the devices (``jax.shard_map``), padded to a multiple of their number and
  trimmed again. With a single device it returns the function unchanged, so code that
  uses it costs nothing on a one-device machine. It works inside ``jit`` and under
  ``grad``.
- :func:`compiler_options` are the XLA options the dispersion entry points and
  ``jaxgeo.earth.simulate`` compile with (:func:`entry_point_jit`); code that wraps
  them in its own ``jit`` passes them to that ``jit``.

``jaxgeo.earth.simulate`` and ``jaxgeo.gravity.prism_gravity`` use :func:`split_batch` over
all local devices of the default backend (``devices`` option of each).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import is_traced

__all__ = ["use_cpu_cores", "split_batch", "local_devices", "compiler_options", "entry_point_jit"]

# XLA:CPU vectorises loops 256 bits wide by default, even where the CPU has 512-bit
# (AVX-512) registers. The dispersion secular function is long straight-line float
# arithmetic per trial velocity, and 512-bit code evaluated it 1.3-1.5x faster on the
# project's 2-core Xeon (benchmarks/README.md). The option is set per compiled
# function, never process-wide; on a CPU without AVX-512 LLVM uses the widest vectors
# it has, and other backends ignore CPU options.
_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


def compiler_options() -> dict:
    """XLA options that jaxgeo's own jitted entry points compile with.

    ``jax.jit`` applies the options of the outermost compiled function only, so code
    that wraps jaxgeo operators in its own ``jit`` (``jax.jit(jax.vmap(phase_velocity))``)
    gets the same code generation by passing them on::

        batched = jax.jit(jax.vmap(f), compiler_options=jaxgeo.parallel.compiler_options())

    Returns a new dict each call.
    """
    return dict(_COMPILER_OPTIONS)


def entry_point_jit(fn: Callable, static_argnames: Sequence[str] = ()) -> Callable:
    """``jax.jit`` of ``fn`` that compiles with :func:`compiler_options` when called directly.

    JAX accepts compiler options on the outermost ``jit`` only. Called from outside any
    transform, the wrapper runs ``fn`` compiled with the options; inside a caller's
    ``jit``, ``vmap`` or ``grad`` (any argument a tracer) it is a plain ``jax.jit``, and
    the caller's compilation decides.
    """
    nested = jax.jit(fn, static_argnames=tuple(static_argnames))
    outermost = jax.jit(fn, static_argnames=tuple(static_argnames), compiler_options=compiler_options())

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return (nested if is_traced(args, kwargs) else outermost)(*args, **kwargs)

    # Compilations cached so far, both ways (as jax.jit's own _cache_size).
    call._cache_size = lambda: outermost._cache_size() + nested._cache_size()
    return call


def use_cpu_cores(n: int | None = None) -> int:
    """Expose ``n`` CPU devices to JAX (default: one per core); returns the count.

    Must be called before JAX initialises its CPU backend, i.e. before the first array
    is created or computation run. Raises RuntimeError after that, unless JAX already
    has ``n`` CPU devices (e.g. set by ``XLA_FLAGS=--xla_force_host_platform_device_count``).
    """
    if n is None:
        n = os.cpu_count() or 1
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"argument 'n' must be a positive integer, got {n!r}")
    n = int(n)
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError as error:
        have = len(jax.devices("cpu"))
        if have == n:
            return n
        raise RuntimeError(
            f"jaxgeo.parallel.use_cpu_cores({n}): JAX's CPU backend is already running with "
            f"{have} device(s); call it before the first JAX computation (e.g. right after "
            "the imports), or set XLA_FLAGS=--xla_force_host_platform_device_count=N in the "
            "environment"
        ) from error
    return n


def local_devices(devices: int | Sequence | None = None) -> list:
    """The devices a batch is split over.

    ``None``: all local devices of the default backend; an int k: the first k of them;
    a sequence: those devices.
    """
    available = jax.local_devices()
    if devices is None:
        return list(available)
    if isinstance(devices, (int, np.integer)):
        if not 1 <= devices <= len(available):
            raise ValueError(
                f"argument 'devices' must be between 1 and the {len(available)} local device(s), got {devices}"
            )
        return list(available[: int(devices)])
    devices = list(devices)
    if not devices:
        raise ValueError("argument 'devices' is an empty sequence")
    return devices


def split_batch(fn: Callable, devices: int | Sequence | None = None) -> Callable:
    """``fn`` with the leading axis of every argument and output split over devices.

    Parameters
    ----------
    fn : callable
        A function of arrays (or pytrees of arrays) that all share a leading batch axis
        and whose outputs have it too; each device calls ``fn`` on its slice, so ``fn``
        must treat batch elements independently (as a ``vmap``-ed function does).
    devices : int, sequence of devices or None
        See :func:`local_devices`; with one device ``fn`` itself is returned.

    Returns
    -------
    callable with the signature of ``fn``. A batch that is not a multiple of the number
    of devices is padded by repeating its last element; the padding is trimmed from the
    outputs.
    """
    devices = local_devices(devices)
    if len(devices) == 1:
        return fn
    mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
    spec = jax.sharding.PartitionSpec("batch")
    k = len(devices)
    # check_vma=False: the wrapped operators use lax.cond/switch whose branches mix
    # per-device and replicated values; every value here is per-device anyway.
    mapped = jax.shard_map(fn, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)

    def wrapper(*args):
        leaves = jax.tree_util.tree_leaves(args)
        if not leaves:
            raise ValueError("split_batch: the function needs at least one batched argument")
        n = leaves[0].shape[0]
        pad = -n % k

        def grow(x):
            x = jnp.asarray(x)
            if x.shape[:1] != (n,):
                raise ValueError(
                    f"split_batch: every argument needs the same leading batch axis ({n}), got shape {x.shape}"
                )
            if pad == 0:
                return x
            return jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)], axis=0)

        out = mapped(*jax.tree_util.tree_map(grow, args))
        return jax.tree_util.tree_map(lambda y: y[:n], out) if pad else out

    return wrapper
