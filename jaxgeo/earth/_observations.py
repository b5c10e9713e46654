"""Observed joint data of one station: the input of ``gquery predict`` and ``mcmc run``.

One :class:`Observations` holds any subset of: Rayleigh phase velocities (period,
value, σ), Rayleigh group velocities (period, value, σ), one P receiver function
(times, amplitude, σ, with its slowness and Gaussian parameter), and optional reference
values of the inversion targets (Vs at depths, crustal Vp/Vs, ST, CT, each with σ).
Units as everywhere in jaxgeo's seismic code: s, km/s, km, 1/s, s/km.

File formats
------------
Text (any suffix but ``.npz``), one datum per line, whitespace- or comma-separated,
``#`` starts a comment::

    # kind      x       value    sigma   [slowness  gauss]
    phase       10.0    3.52     0.07             # x = period (s), value = c (km/s)
    group       10.0    3.10     0.12             # x = period (s), value = U (km/s)
    rf          0.0     0.412    0.02    0.06  2.5  # x = time (s), value = RF (1/s)
    ref_vs      20.0    3.60     0.20             # x = depth (km), value = Vs (km/s)
    ref_vp_vs   -       1.75     0.05             # crustal Vp/Vs
    ref_st      -       1.2      0.3              # sediment thickness (km)
    ref_ct      -       35.0     3.0              # crystalline-crust thickness (km)

Every ``rf`` line repeats the trace's slowness and Gaussian parameter (they must agree);
RF times must be uniformly spaced. ``x`` is ignored (write ``-``) for the scalar
references.

NPZ: arrays named ``phase_periods, phase, phase_sigma``; ``group_periods, group,
group_sigma``; ``rf_times, rf, rf_sigma, slowness, gauss``; and optionally
``ref_vs_depth, ref_vs, ref_vs_sigma``, ``ref_vp_vs, ref_vp_vs_sigma``, ``ref_st,
ref_st_sigma``, ``ref_ct, ref_ct_sigma``. Each group of names is all present or all
absent. :func:`write_observations` writes either format.

Errors raise :class:`ObservationFileError` (a ``ValueError``) naming the file and the
line (text) or the array and index (npz).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

__all__ = [
    "ObservationFileError",
    "Observations",
    "observation_operator",
    "observations_from_simulation",
    "read_observations",
    "write_observations",
]

_SCALAR_REFERENCES = {
    "ref_vp_vs": "crust_vp_vs",
    "ref_st": "sediment_thickness",
    "ref_ct": "crust_thickness",
}
_KINDS = ("phase", "group", "rf", "ref_vs", *_SCALAR_REFERENCES)


class ObservationFileError(ValueError):
    """An observation file or array that cannot be used; the message says where."""


def _empty():
    return np.zeros(0)


@dataclasses.dataclass(frozen=True, eq=False)
class Observations:
    """Observed data of one station (NumPy arrays, float64; empty where absent).

    Attributes
    ----------
    phase_periods, phase, phase_sigma : (n_phase,)
        Rayleigh phase velocity (km/s) and its σ at periods (s).
    group_periods, group, group_sigma : (n_group,)
        Rayleigh group velocity (km/s) and its σ at periods (s).
    rf_times, rf, rf_sigma : (n_rf,)
        Radial P receiver function (1/s, CONVENTIONS.md) and its σ at uniformly spaced
        times (s, 0 at the direct P).
    slowness, gauss : float
        The RF's horizontal slowness (s/km) and Gaussian parameter a (1/s); NaN without RF.
    ref_vs_depth, ref_vs, ref_vs_sigma : (n_ref,)
        Reference Vs (km/s) and σ at depths (km).
    references : dict
        Scalar references ``{"crust_vp_vs" | "sediment_thickness" |
        "crust_thickness": (value, sigma)}``.
    source : str
        Where the data came from (a file name), used in messages.
    """

    phase_periods: np.ndarray = dataclasses.field(default_factory=_empty)
    phase: np.ndarray = dataclasses.field(default_factory=_empty)
    phase_sigma: np.ndarray = dataclasses.field(default_factory=_empty)
    group_periods: np.ndarray = dataclasses.field(default_factory=_empty)
    group: np.ndarray = dataclasses.field(default_factory=_empty)
    group_sigma: np.ndarray = dataclasses.field(default_factory=_empty)
    rf_times: np.ndarray = dataclasses.field(default_factory=_empty)
    rf: np.ndarray = dataclasses.field(default_factory=_empty)
    rf_sigma: np.ndarray = dataclasses.field(default_factory=_empty)
    slowness: float = float("nan")
    gauss: float = float("nan")
    ref_vs_depth: np.ndarray = dataclasses.field(default_factory=_empty)
    ref_vs: np.ndarray = dataclasses.field(default_factory=_empty)
    ref_vs_sigma: np.ndarray = dataclasses.field(default_factory=_empty)
    references: dict = dataclasses.field(default_factory=dict)
    source: str = "<observations>"

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray) or (
                field.name not in ("slowness", "gauss", "references", "source")
            ):
                object.__setattr__(self, field.name, np.asarray(value, dtype=np.float64).reshape(-1))
        object.__setattr__(self, "slowness", float(self.slowness))
        object.__setattr__(self, "gauss", float(self.gauss))
        self.validate()

    # ------------------------------------------------------------------ queries
    @property
    def n_phase(self) -> int:
        return self.phase.size

    @property
    def n_group(self) -> int:
        return self.group.size

    @property
    def n_rf(self) -> int:
        return self.rf.size

    @property
    def kinds(self) -> tuple[str, ...]:
        """The data types present, among ``("phase", "group", "rf")``."""
        return tuple(k for k, n in (("phase", self.n_phase), ("group", self.n_group), ("rf", self.n_rf)) if n)

    def subset(self, kinds) -> Observations:
        """A copy keeping only the data types in ``kinds`` (references kept)."""
        unknown = set(kinds) - {"phase", "group", "rf"}
        if unknown:
            raise ValueError(f"kinds: unknown data type(s) {sorted(unknown)}; choose from phase, group, rf")
        changes = {}
        for kind, names in (
            ("phase", ("phase_periods", "phase", "phase_sigma")),
            ("group", ("group_periods", "group", "group_sigma")),
            ("rf", ("rf_times", "rf", "rf_sigma")),
        ):
            if kind not in kinds:
                changes.update({n: _empty() for n in names})
        if "rf" not in kinds:
            changes.update(slowness=float("nan"), gauss=float("nan"))
        return dataclasses.replace(self, **changes)

    # --------------------------------------------------------------- validation
    def validate(self) -> None:
        """Raise :class:`ObservationFileError` naming the array and index at fault."""
        where = self.source

        def fail(message):
            raise ObservationFileError(f"{where}: {message}")

        def same_length(names):
            sizes = [getattr(self, n).size for n in names]
            if len(set(sizes)) > 1:
                fail(f"{', '.join(names)} must have equal lengths, got {sizes}")

        def check(name, positive):
            values = getattr(self, name)
            bad = ~np.isfinite(values) | ((values <= 0) if positive else False)
            if np.any(bad):
                i = int(np.argmax(bad))
                what = "finite and > 0" if positive else "finite"
                fail(f"{name}[{i}] = {float(values[i])!r} must be {what}")

        for names in (
            ("phase_periods", "phase", "phase_sigma"),
            ("group_periods", "group", "group_sigma"),
            ("rf_times", "rf", "rf_sigma"),
            ("ref_vs_depth", "ref_vs", "ref_vs_sigma"),
        ):
            same_length(names)
        for name in ("phase_periods", "phase", "phase_sigma", "group_periods", "group", "group_sigma"):
            check(name, positive=True)
        for name in ("rf_times", "rf"):
            check(name, positive=False)
        check("rf_sigma", positive=True)
        check("ref_vs", positive=True)
        check("ref_vs_sigma", positive=True)
        check("ref_vs_depth", positive=False)
        if self.n_phase + self.n_group + self.n_rf == 0:
            fail("no data: give phase, group or rf values")
        if self.n_rf:
            if self.n_rf < 2:
                fail("an RF needs at least 2 samples")
            steps = np.diff(self.rf_times)
            if np.any(steps <= 0) or not np.allclose(steps, steps[0], rtol=1e-4, atol=1e-9):
                i = int(np.argmax(np.abs(steps - steps[0]) > 1e-4 * abs(steps[0]))) + 1
                fail(f"rf_times must be increasing and uniformly spaced (sample {i} breaks the step {steps[0]:g} s)")
            if not (np.isfinite(self.slowness) and 0 < self.slowness < 0.12):
                fail(f"slowness = {self.slowness!r} s/km must be in (0, 0.12) with an RF")
            if not (np.isfinite(self.gauss) and self.gauss > 0):
                fail(f"gauss = {self.gauss!r} 1/s must be > 0 with an RF")
        if np.any(self.ref_vs_depth < 0):
            fail(f"ref_vs_depth[{int(np.argmax(self.ref_vs_depth < 0))}] must be ≥ 0 km")
        for key, value in self.references.items():
            if key not in _SCALAR_REFERENCES.values():
                fail(f"references: unknown target {key!r}; choose from {sorted(_SCALAR_REFERENCES.values())}")
            v, s = (float(x) for x in value)
            if not (np.isfinite(v) and np.isfinite(s) and s > 0):
                fail(f"reference {key}: value {v!r} must be finite and σ {s!r} > 0")

    # ---------------------------------------------------------------- arrays
    def as_arrays(self) -> dict:
        """The npz dictionary (only the groups present)."""
        out = {}
        for prefix, names in (
            ("phase", ("phase_periods", "phase", "phase_sigma")),
            ("group", ("group_periods", "group", "group_sigma")),
            ("rf", ("rf_times", "rf", "rf_sigma")),
            ("ref_vs", ("ref_vs_depth", "ref_vs", "ref_vs_sigma")),
        ):
            if getattr(self, names[1]).size:
                out.update({n: getattr(self, n) for n in names})
        if self.n_rf:
            out["slowness"] = np.float64(self.slowness)
            out["gauss"] = np.float64(self.gauss)
        for short, key in _SCALAR_REFERENCES.items():
            if key in self.references:
                v, s = self.references[key]
                out[short] = np.float64(v)
                out[short + "_sigma"] = np.float64(s)
        return out

    def reference_at(self, depths):
        """Reference Vs and σ interpolated (linearly) at ``depths`` (km); NaN outside.

        Returns
        -------
        vs, sigma : arrays shaped like ``depths``
        """
        depths = np.asarray(depths, dtype=float)
        if self.ref_vs.size == 0:
            nan = np.full(depths.shape, np.nan)
            return nan, nan.copy()
        order = np.argsort(self.ref_vs_depth)
        z, v, s = self.ref_vs_depth[order], self.ref_vs[order], self.ref_vs_sigma[order]
        inside = (depths >= z[0]) & (depths <= z[-1])
        vs = np.where(inside, np.interp(depths, z, v), np.nan)
        sigma = np.where(inside, np.interp(depths, z, s), np.nan)
        return vs, sigma


# --------------------------------------------------------------------------- reading
def _read_text(path: Path) -> Observations:
    columns = {k: [] for k in _KINDS}
    rf_meta = []
    scalars = {}
    with path.open() as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            cells = [c for c in text.replace(",", " ").split() if c]
            kind = cells[0].lower()
            where = f"{path}, line {number}"
            if kind not in _KINDS:
                raise ObservationFileError(
                    f"{where}: unknown kind {cells[0]!r}; the first column is one of {', '.join(_KINDS)}"
                )
            wanted = 6 if kind == "rf" else 4
            if len(cells) != wanted:
                extra = " (rf lines: kind, time, value, sigma, slowness, gauss)" if kind == "rf" else ""
                raise ObservationFileError(f"{where}: {kind} lines have {wanted} columns, got {len(cells)}{extra}")
            names = ["x", "value", "sigma", "slowness", "gauss"]
            values = []
            for col, (name, cell) in enumerate(zip(names, cells[1:]), start=2):
                if name == "x" and kind in _SCALAR_REFERENCES and cell == "-":
                    values.append(np.nan)
                    continue
                try:
                    value = float(cell)
                except ValueError:
                    raise ObservationFileError(
                        f"{where}, column {col} ({name}): cannot read {cell!r} as a number"
                    ) from None
                if not np.isfinite(value):
                    raise ObservationFileError(f"{where}, column {col} ({name}): {cell!r} is not finite")
                if name in ("sigma", "slowness", "gauss") and value <= 0:
                    raise ObservationFileError(f"{where}, column {col} ({name}): must be > 0, got {cell}")
                if name == "value" and kind != "rf" and value <= 0:
                    raise ObservationFileError(f"{where}, column {col} (value): must be > 0, got {cell}")
                if name == "x" and kind in ("phase", "group") and value <= 0:
                    raise ObservationFileError(f"{where}, column {col} (period): must be > 0, got {cell}")
                values.append(value)
            if kind == "rf":
                if rf_meta and (abs(values[3] - rf_meta[0][1][0]) > 1e-9 or abs(values[4] - rf_meta[0][1][1]) > 1e-9):
                    raise ObservationFileError(
                        f"{where}: slowness/gauss {values[3]:g}/{values[4]:g} differ from line {rf_meta[0][0]} "
                        f"({rf_meta[0][1][0]:g}/{rf_meta[0][1][1]:g}); one RF trace per file"
                    )
                rf_meta.append((number, (values[3], values[4])))
            if kind in _SCALAR_REFERENCES:
                if kind in scalars:
                    raise ObservationFileError(f"{where}: {kind} given twice (first on line {scalars[kind][0]})")
                scalars[kind] = (number, values[1], values[2])
            else:
                columns[kind].append((number, values[:3]))
    for kind in ("phase", "group"):
        seen = {}
        for number, (x, _, _) in columns[kind]:
            if x in seen:
                raise ObservationFileError(
                    f"{path}, line {number}: {kind} period {x:g} s repeated (first on line {seen[x]})"
                )
            seen[x] = number

    def arrays(kind):
        rows = sorted((v for _, v in columns[kind]), key=lambda v: v[0])
        if not rows:
            return _empty(), _empty(), _empty()
        return tuple(np.asarray(c, dtype=float) for c in zip(*rows))

    phase = arrays("phase")
    group = arrays("group")
    rf = arrays("rf")
    ref = arrays("ref_vs")
    slowness, gauss = rf_meta[0][1] if rf_meta else (np.nan, np.nan)
    references = {_SCALAR_REFERENCES[k]: (v, s) for k, (_, v, s) in scalars.items()}
    if not (phase[0].size or group[0].size or rf[0].size):
        raise ObservationFileError(f"{path}: no phase, group or rf lines")
    return Observations(
        *phase,
        *group,
        *rf,
        slowness=slowness,
        gauss=gauss,
        ref_vs_depth=ref[0],
        ref_vs=ref[1],
        ref_vs_sigma=ref[2],
        references=references,
        source=str(path),
    )


def _read_npz(path: Path) -> Observations:
    try:
        data = dict(np.load(path, allow_pickle=False))
    except Exception as error:  # noqa: BLE001 - any unreadable file
        raise ObservationFileError(f"{path}: not a readable .npz file ({error})") from None
    groups = (
        ("phase_periods", "phase", "phase_sigma"),
        ("group_periods", "group", "group_sigma"),
        ("rf_times", "rf", "rf_sigma", "slowness", "gauss"),
        ("ref_vs_depth", "ref_vs", "ref_vs_sigma"),
        *((k, k + "_sigma") for k in _SCALAR_REFERENCES),
    )
    known = {n for g in groups for n in g}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ObservationFileError(f"{path}: unknown array(s) {unknown}; known names: {sorted(known)}")
    kwargs = {}
    for group in groups:
        present = [n for n in group if n in data]
        if present and len(present) != len(group):
            missing = [n for n in group if n not in data]
            raise ObservationFileError(f"{path}: array(s) {present} given without {missing}")
        for name in present:
            try:
                value = np.asarray(data[name], dtype=np.float64)
            except (TypeError, ValueError):
                raise ObservationFileError(f"{path}: array {name!r} is not numeric") from None
            if name in ("slowness", "gauss") or name in _SCALAR_REFERENCES or name.endswith("_sigma") and name[:-6] in _SCALAR_REFERENCES:
                if value.size != 1:
                    raise ObservationFileError(f"{path}: {name!r} must be a scalar, got shape {value.shape}")
                value = float(value.reshape(()))
            elif value.ndim != 1:
                raise ObservationFileError(f"{path}: array {name!r} must be 1-D, got shape {value.shape}")
            kwargs[name] = value
    references = {}
    for short, key in _SCALAR_REFERENCES.items():
        if short in kwargs:
            references[key] = (kwargs.pop(short), kwargs.pop(short + "_sigma"))
    return Observations(**kwargs, references=references, source=str(path))


def read_observations(path) -> Observations:
    """Read one station's observations from a ``.npz`` or text file (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ObservationFileError(f"{path}: no such file")
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    return _read_text(path)


def write_observations(observations: Observations, path) -> Path:
    """Write ``observations`` as ``.npz`` (by suffix) or as the text format."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        np.savez(path, **observations.as_arrays())
        return path
    o = observations
    lines = ["# jaxgeo observations: kind x value sigma [slowness gauss] (s, km/s, km, 1/s, s/km)"]
    lines += [f"phase {t:.8g} {v:.8g} {s:.8g}" for t, v, s in zip(o.phase_periods, o.phase, o.phase_sigma)]
    lines += [f"group {t:.8g} {v:.8g} {s:.8g}" for t, v, s in zip(o.group_periods, o.group, o.group_sigma)]
    lines += [
        f"rf {t:.8g} {v:.8g} {s:.8g} {o.slowness:.8g} {o.gauss:.8g}" for t, v, s in zip(o.rf_times, o.rf, o.rf_sigma)
    ]
    lines += [f"ref_vs {z:.8g} {v:.8g} {s:.8g}" for z, v, s in zip(o.ref_vs_depth, o.ref_vs, o.ref_vs_sigma)]
    for short, key in _SCALAR_REFERENCES.items():
        if key in o.references:
            v, s = o.references[key]
            lines.append(f"{short} - {v:.8g} {s:.8g}")
    path.write_text("\n".join(lines) + "\n")
    return path


def observations_from_simulation(sample: dict, index: int = 0, *, source: str | None = None) -> Observations:
    """The noisy data of sample ``index`` of :func:`jaxgeo.earth.simulate` as Observations."""
    get = lambda name: np.asarray(sample[name][index], dtype=np.float64)  # noqa: E731
    return Observations(
        phase_periods=get("phase_periods"),
        phase=get("phase"),
        phase_sigma=get("phase_sigma"),
        group_periods=get("group_periods"),
        group=get("group"),
        group_sigma=get("group_sigma"),
        rf_times=np.asarray(sample["rf_times"], dtype=np.float64),
        rf=get("rf"),
        rf_sigma=get("rf_sigma"),
        slowness=float(get("slowness")),
        gauss=float(get("gauss")),
        source=source or f"simulated sample {index}",
    )


def observation_operator(observations: Observations, config=None):
    """The forward model at one station's observation points, as a function of parameters.

    Returns ``f(params) -> dict`` for one parameter vector (23,) (``vmap`` it for
    batches; it is ``jit``/``grad`` compatible): ``"phase"`` (n_phase,), ``"group"``
    (n_group,) and ``"rf"`` (n_rf,) clean predictions in the order of the
    observations' arrays, each key present only where that data type is. The physics
    is the simulator's (:func:`jaxgeo.earth.forward`: fundamental-mode Rayleigh with
    the spherical correction, phase and group from one root search on all the
    observed periods, RF of the receiver model at the observed times with a
    frequency count valid for every prior model).
    """
    import jax.numpy as jnp

    from ..receiver import receiver_function
    from ._model import layered_model, receiver_model
    from ._simulator import SimulatorConfig, _phase_and_group, worst_case_frequency_count

    config = SimulatorConfig() if config is None else config
    dtype = jnp.dtype(config.dtype)
    n_phase = observations.n_phase
    periods = np.concatenate([observations.phase_periods, observations.group_periods])
    times = observations.rf_times
    n_freq = (
        worst_case_frequency_count(times, observations.slowness, observations.gauss, config.rf_layering)
        if times.size
        else 0
    )
    slowness, gauss = observations.slowness, observations.gauss

    def forward(params):
        params = jnp.asarray(params, dtype=dtype)
        out = {}
        if periods.size:
            c, u = _phase_and_group(jnp.asarray(periods, dtype), *layered_model(params, config.layering), config)
            if n_phase:
                out["phase"] = c[:n_phase]
            if observations.n_group:
                out["group"] = u[n_phase:]
        if times.size:
            out["rf"] = receiver_function(
                jnp.asarray(times, dtype),
                *receiver_model(params, config.rf_layering),
                slowness=slowness,
                gauss=gauss,
                n_freq=n_freq,
                validate=False,
            )
        return out

    return forward
