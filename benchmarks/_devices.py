"""Start-up shared by the benchmarks: one JAX CPU device per core, or ``--devices N``.

Imported before any JAX computation (JAX fixes its device count when its CPU backend
starts); the benchmarks' argument parsers accept the same ``--devices`` option.
"""

from __future__ import annotations

import os
import sys

from jaxgeo.parallel import use_cpu_cores


def devices_from_argv(argv=None) -> int:
    """``--devices N`` from the command line (default: one per core)."""
    argv = sys.argv if argv is None else argv
    for i, arg in enumerate(argv):
        if arg == "--devices" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--devices="):
            return int(arg.split("=", 1)[1])
    return os.cpu_count() or 1


def start_devices(argv=None) -> int:
    """Give JAX ``devices_from_argv(argv)`` CPU devices; returns the count."""
    return use_cpu_cores(devices_from_argv(argv))
