"""A cache of simulated curves: asking twice computes once.

A curve is keyed by :func:`curve_key`: the sha256 over the structure's
:func:`~swaxs_lib.store.clusters.cluster_hash`, the curve kind, the grid's
float64 bytes (Q or r, in the order given), every physics parameter, the
form-factor source and :data:`KERNEL_VERSION`.  The cached answer is the
result dataclass with every array stored bit for bit (float64/complex128,
little-endian), so a hit returns arrays equal to the first computation's to
the last bit (the rows: :mod:`swaxs_lib.store.curve_rows`).

Kinds: ``"iq"`` caches :class:`~swaxs_lib.scattering.DebyeCurve` (whose S(Q)
and F(Q) are derived properties), ``"gr"`` caches
:class:`~swaxs_lib.scattering.PDFCurve`.

The computation runs outside any lock, so a long one never blocks other
sessions; two sessions missing the same key at once both compute, and the
second write finds the first's row and leaves it (the same bits).

>>> import tempfile, numpy as np
>>> from ase import Atoms
>>> from swaxs_lib.store import Store
>>> store = Store(tempfile.mkdtemp() + "/doc.duckdb")
>>> dimer = Atoms("Au2", positions=[(0, 0, 0), (0, 0, 2.88)])
>>> first = cached_intensity(store, dimer, [0.0, 1.0], form_factor_source="constant")
>>> again = cached_intensity(store, dimer, [0.0, 1.0], form_factor_source="constant")
>>> float(again.intensity[0]), again.intensity.tobytes() == first.intensity.tobytes()
(24964.0, True)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering.debye import DebyeCurve, debye_intensity
from swaxs_lib.scattering.histogram import PairHistogram
from swaxs_lib.scattering.envelope import SAS_VERSION, check_small_angle
from swaxs_lib.scattering.pdf import PDF_PHASE_STEP, PDFCurve, pair_distribution
from swaxs_lib.store.clusters import _atoms_of, cluster_hash
from swaxs_lib.store.curve_rows import (
    _result_type,
    curve_key,
    grid_array,
    load_curves,
    save_curve,
)

if TYPE_CHECKING:
    from swaxs_lib.structures import Cluster

T = TypeVar("T")


def cached_curve(
    store,
    structure: Atoms | Cluster,
    kind: str,
    grid: np.ndarray,
    params: Mapping[str, Any],
    form_factor_source: str,
    compute: Callable[[], T],
) -> T:
    """The cached curve for these inputs, or ``compute()``'s, stored for next time.

    Parameters
    ----------
    store : Store
    structure : ase.Atoms or Cluster
        What ``compute`` computes the curve of.
    kind : str
        One of :data:`~swaxs_lib.store.curve_rows.CURVE_TYPES`.
    grid : array_like
        Q (1/Å) or r (Å).
    params : mapping
        Every input ``compute`` depends on besides the structure, grid and
        form-factor source, JSON-serialisable; one left out lets two
        different curves share a key.
    form_factor_source : str
    compute : callable
        No arguments; returns the ``kind``'s result dataclass.

    Returns
    -------
    DebyeCurve or PDFCurve
        The stored curve (a private copy) on a hit, ``compute()``'s otherwise.
    """
    result_type = _result_type(kind)
    structure_hash = cluster_hash(structure)
    grid = grid_array(grid, "grid")
    key = curve_key(structure_hash, kind, grid, params, form_factor_source)
    hit = load_curves(store, [key], kind).get(key)
    if hit is not None:
        return hit
    start = time.perf_counter()
    curve = compute()
    elapsed = time.perf_counter() - start
    if not isinstance(curve, result_type):
        raise TypeError(f"compute returned {type(curve).__name__}; expected {result_type.__name__}")
    save_curve(store, key, structure, kind, grid, params, form_factor_source, curve,
               compute_s=elapsed, structure_hash=structure_hash)
    return curve


def cached_intensity(
    store,
    atoms: Atoms | Cluster,
    q_inv_angstrom,
    *,
    mode: str = "fast",
    b_iso_angstrom2: float | Mapping[str, float] = 0.0,
    energy_kev: float | None = None,
    form_factor_source: str = "xraydb",
    scale: float = 1.0,
    histogram: PairHistogram | None = None,
) -> DebyeCurve:
    """:func:`~swaxs_lib.scattering.debye_intensity`, through the store's cache.

    Parameters are those of ``debye_intensity`` (Q in 1/Å, B in Å^2, energy in
    keV), plus the :class:`~swaxs_lib.store.Store`; ``atoms`` may be a
    :class:`Cluster`, whose shape and parameters are then recorded.
    ``histogram`` (a :class:`~swaxs_lib.scattering.PairHistogram` of the same
    atoms) only speeds up a miss; it is not part of the key, because the
    fast-mode curve it gives equals the one computed without it.

    Returns
    -------
    DebyeCurve
        Bit for bit the curve ``debye_intensity`` returned the first time.
    """
    q = grid_array(q_inv_angstrom, "q_inv_angstrom")
    params = {
        "mode": str(mode),
        "b_iso_angstrom2": _b_iso(b_iso_angstrom2),
        "energy_kev": _optional_float(energy_kev, "energy_kev"),
        "scale": _float(scale, "scale"),
    }
    atoms_only = _atoms_of(atoms)
    return cached_curve(
        store, atoms, "iq", q, params, str(form_factor_source),
        lambda: debye_intensity(atoms_only, q, mode=mode, b_iso_angstrom2=b_iso_angstrom2, energy_kev=energy_kev,
                                form_factor_source=form_factor_source, scale=scale, histogram=histogram),
    )


def cached_pdf(
    store,
    atoms: Atoms | Cluster,
    r_angstrom,
    q_min_inv_angstrom: float,
    q_max_inv_angstrom: float,
    *,
    b_iso_angstrom2: float | Mapping[str, float] = 0.0,
    energy_kev: float | None = None,
    form_factor_source: str = "xraydb",
    q_damp_inv_angstrom: float = 0.0,
    scale: float = 1.0,
    histogram: PairHistogram | None = None,
    small_angle: str = "subtract",
) -> PDFCurve:
    """:func:`~swaxs_lib.scattering.pair_distribution`, through the store's cache.

    Parameters are those of ``pair_distribution`` (r in Å, Q in 1/Å), plus
    the :class:`~swaxs_lib.store.Store`; ``histogram`` as in :func:`cached_intensity`.

    Returns
    -------
    PDFCurve
        Bit for bit the curve ``pair_distribution`` returned the first time.
    """
    r = grid_array(r_angstrom, "r_angstrom")
    params = {
        "q_min_inv_angstrom": _float(q_min_inv_angstrom, "q_min_inv_angstrom"),
        "q_max_inv_angstrom": _float(q_max_inv_angstrom, "q_max_inv_angstrom"),
        "b_iso_angstrom2": _b_iso(b_iso_angstrom2),
        "energy_kev": _optional_float(energy_kev, "energy_kev"),
        "q_damp_inv_angstrom": _float(q_damp_inv_angstrom, "q_damp_inv_angstrom"),
        "scale": _float(scale, "scale"),
        "pdf_phase_step": PDF_PHASE_STEP,
        # the low-pass that takes the particle's small-angle part out (swaxs_lib.scattering.envelope)
        "small_angle": "keep" if check_small_angle(small_angle) == "keep" else f"subtract: {SAS_VERSION}",
    }
    atoms_only = _atoms_of(atoms)
    return cached_curve(
        store, atoms, "gr", r, params, str(form_factor_source),
        lambda: pair_distribution(atoms_only, r, q_min_inv_angstrom, q_max_inv_angstrom,
                                  b_iso_angstrom2=b_iso_angstrom2, energy_kev=energy_kev,
                                  form_factor_source=form_factor_source,
                                  q_damp_inv_angstrom=q_damp_inv_angstrom, scale=scale,
                                  histogram=histogram, small_angle=small_angle),
    )


def _float(value, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SwaxsInputError(f"{what}: got {value!r}; expected a number") from None


def _optional_float(value, what: str) -> float | None:
    return None if value is None else _float(value, what)


def _b_iso(value) -> float | dict[str, float]:
    if isinstance(value, Mapping):
        return {str(k): _float(v, f"b_iso_angstrom2[{k!r}]") for k, v in value.items()}
    return _float(value, "b_iso_angstrom2")


__all__ = ["cached_curve", "cached_intensity", "cached_pdf"]
