"""What the models take and which of them answer: the curve's conversion, the route by its coverage, the gates.

* :func:`model_input`: S(Q), F(Q) to I(Q); a decayed G(r) continued with zeros;
* :func:`plan`: which model gives shape, size and element for the windows a curve covers
  (:mod:`swaxs_lib.ml.features`);
* the gates on the answer: the elements allowed (:func:`allowed_elements`,
  :func:`composition_elements`, :func:`constrained_probabilities`), the size groups of a
  known shape (:func:`shape_groups`), the training prior the probabilities are tempered
  towards (:func:`family_prior`), the model-free size check (:func:`size_range`) and the
  instrument sizes of a predicted extent and atom count (:func:`instrument_sizes`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, SHAPE_OF_CLASS
from swaxs_lib.ml.experts import family_classes, group_probabilities
from swaxs_lib.ml.features import WINDOWS
from swaxs_lib.ml.models import ModelBundle
from swaxs_lib.ml.windows import Q_HI_MIN, Q_LO_MAX, ladder_window

#: How the warnings begin that say what a curve cannot tell: a window it does not cover (:func:`plan`), or a
#: size only bounded below (:func:`size_range`, a G(r) without the instrument's Q damping).  Notes, not
#: reasons to call the curve out of domain.
COVERAGE_NOTES = ("no shape:", "no size:", "size not bounded:", "not used:")


def model_input(kind: str, x: np.ndarray, values: np.ndarray, element: str | None = None
                ) -> tuple[str, np.ndarray, np.ndarray, tuple[str, ...]]:
    """The (kind, x, values, notes) the models take for a measured curve of ``kind``.

    I(Q) passes as it is; so does G(r), except that a G(r) ending before the
    window's 30 Å whose last 2 Å are below 5 % of its largest |G| (the particle
    is smaller than r_max) is continued with zeros to 30 Å, as a note says.  S(Q) and F(Q) become I(Q) = f(Q)^2 S(Q)
    (S = 1 + F / Q) with the form factor of ``element`` (gold when not given,
    which the notes say): for one element, I(Q) per atom is f^2 S.

    Raises
    ------
    SwaxsInputError
        An unknown kind.
    """
    from swaxs_lib.scattering.form_factors import form_factor

    if kind == "gr":
        return _extend_decayed_pdf(np.asarray(x, float), np.asarray(values, float))
    if kind == "iq":
        return kind, np.asarray(x, float), np.asarray(values, float), ()
    if kind not in ("sq", "fq"):
        raise SwaxsInputError(f"kind: got {kind!r}; expected iq, sq, fq or gr")
    q = np.asarray(x, float)
    s = np.asarray(values, float)
    notes: tuple[str, ...] = ()
    if kind == "fq":
        s = 1.0 + s / np.where(q > 0, q, np.inf)
    elif _is_s_minus_one(q, s):
        notes = (f"S(Q) has negative values, which S(Q) cannot have, and its upper half averages "
                 f"{float(np.mean(s[q >= np.median(q)])):.2f}, not 1: read as S(Q) − 1",)
        s = s + 1.0
    symbol = element if element in ELEMENTS else "Au"
    f2 = np.abs(form_factor(symbol, q)) ** 2
    notes += (f"{kind.upper()} converted to I(Q) = f(Q)² S(Q) with the form factor of {symbol}"
              + ("" if element in ELEMENTS else " (element not given)"),)
    return "iq", q, f2 * s, notes


def _is_s_minus_one(q: np.ndarray, s: np.ndarray) -> bool:
    """Whether an "S(Q)" is S(Q) − 1 (xPDFsuite writes either): S(Q) >= 0 and -> 1 at high Q, so a curve with
    negative values whose upper half in Q averages within 0.3 of 0 is the difference."""
    upper = s[q >= np.median(q)]
    return bool(len(s) >= 10 and np.min(s) < 0 and abs(float(np.mean(upper))) < 0.3)


def _extend_decayed_pdf(r: np.ndarray, g: np.ndarray) -> tuple[str, np.ndarray, np.ndarray, tuple[str, ...]]:
    high = WINDOWS["gr"].high
    if len(r) < 10 or r.max() >= high or r.max() < 10.0:
        return "gr", r, g, ()
    tail = g[r >= r.max() - 2.0]
    if float(np.sqrt(np.mean(tail**2))) >= 0.05 * float(np.max(np.abs(g))):
        return "gr", r, g, ()
    step = float(np.median(np.diff(r)))
    extra = np.arange(r.max() + step, high + step, step)
    note = (f"G(r) ends at {r.max():.3g} Å and has decayed there (< 5 % of its maximum): taken as 0 "
            f"from there to {high:g} Å (the particle is smaller than {r.max():.3g} Å)")
    return "gr", np.concatenate((r, extra)), np.concatenate((g, np.zeros(len(extra)))), (note,)


def shape_groups(shape: str) -> np.ndarray:
    """The size groups (indices into :func:`~swaxs_lib.ml.catalog.size_groups`) of a ``cluster`` shape name.

    Raises
    ------
    SwaxsInputError
        An unknown shape name.
    """
    names = sorted(set(SHAPE_OF_CLASS.values()))
    if shape not in names:
        raise SwaxsInputError(f"--shape: got {shape!r}; expected one of {', '.join(names)}")
    mine = np.array([SHAPE_OF_CLASS[SHAPE_CLASSES[c]] == shape for c in family_classes()], float)
    return np.nonzero(group_probabilities(mine[None, :])[0] > 0)[0]


def family_prior() -> np.ndarray:
    """The training set's family balance: classes equally often, each class's families equally often."""
    classes = family_classes()
    counts = np.bincount(classes, minlength=len(SHAPE_CLASSES))
    return 1.0 / (len(SHAPE_CLASSES) * counts[classes])


def size_range(bundle: ModelBundle, kind: str, x: np.ndarray, values: np.ndarray,
               q_damp_inv_angstrom: float | None = None) -> dict[str, Any]:
    """The model-free size check of a curve; {} when not checked.

    I(Q) reaching below 0.1 1/Å: its Guinier radius against the manifest's training R_g range
    (:func:`swaxs_lib.ml.domain.check_size_range`).  G(r): its envelope against the database's largest
    particle, with the instrument's Q damping when given (:func:`swaxs_lib.ml.pdf_extent.check_pdf_extent`).
    """
    if kind == "gr":
        from swaxs_lib.ml.pdf_extent import check_pdf_extent

        top = float(bundle.manifest.get("diameter_range_nm", [0.75, 7.3])[1]) * 10.0
        got = check_pdf_extent(x, values, top, q_damp_inv_angstrom=q_damp_inv_angstrom)
        return {"status": got.status, "r_max_angstrom": round(got.r_max_angstrom, 3),
                "q_damp_inv_angstrom": got.q_damp_inv_angstrom, "excess": got.excess, "reason": got.reason}
    from swaxs_lib.ml.domain import check_size_range

    rg_range = bundle.manifest.get("guinier_rg_range_angstrom")
    if kind != "iq" or rg_range is None or float(np.min(x)) > 0.1:
        return {}
    check = check_size_range(x, values, tuple(rg_range))
    return {"status": check.status, "rg_angstrom": None if check.rg_angstrom is None else round(check.rg_angstrom, 3),
            "sphere_diameter_nm": check.sphere_diameter_nm, "reason": check.reason}


def allowed_elements(element: str | None, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    if element is not None:
        return (element,) if element in ELEMENTS else ELEMENTS
    if allowed is None:
        return ELEMENTS
    bad = [e for e in allowed if e not in ELEMENTS]
    if bad or not allowed:
        raise SwaxsInputError(f"allowed_elements: got {list(allowed)}; expected some of {', '.join(ELEMENTS)}")
    return tuple(e for e in ELEMENTS if e in allowed)


def composition_elements(facts) -> tuple[str, ...] | None:
    """The database elements a header's composition allows when it names no single cluster element
    (an alloy, ``composition = Au Ag``): two or more of :data:`ELEMENTS`; else None."""
    if facts.element is not None:
        return None
    found = tuple(e for e in ELEMENTS if e in facts.elements)
    return found if len(found) >= 2 else None


def constrained_probabilities(probabilities: dict[str, float], allowed: tuple[str, ...]) -> dict[str, float]:
    """Element probabilities conditioned on the element being one of ``allowed``.

    P(e | x, e in A) = P(e | x) / sum_{a in A} P(a | x) for e in A, 0 elsewhere;
    uniform over A when the model gives A no probability at all.

    Examples
    --------
    >>> constrained_probabilities({"Au": 0.2, "Ag": 0.3, "Pt": 0.5}, ("Au", "Ag"))
    {'Au': 0.4, 'Ag': 0.6, 'Pt': 0.0}
    """
    total = sum(p for e, p in probabilities.items() if e in allowed)
    return {e: (round(p / total, 6) if total > 0 else round(1.0 / len(allowed), 6)) if e in allowed else 0.0
            for e, p in probabilities.items()}


def instrument_sizes(extent, extent_interval, n_atoms, n_interval, element) -> dict[str, Any]:
    """The outer and volume-equivalent diameters (nm) of a predicted extent and atom count (fcc bulk values)."""
    from swaxs_lib.structures.elements import lattice_constant
    from swaxs_lib.structures.sizes import volume_diameter

    a = lattice_constant(element if element in ELEMENTS else "Au", "fcc")
    nn_nm, v = a / math.sqrt(2) / 10.0, a**3 / 4
    out: dict[str, Any] = {}
    if extent is not None:
        out["outer_diameter_nm"] = round(extent + nn_nm, 4)
        out["outer_diameter_interval_nm"] = tuple(round(x + nn_nm, 4) for x in extent_interval)
    if n_atoms is not None:
        out["volume_diameter_nm"] = round(volume_diameter(n_atoms, v) / 10.0, 4)
        out["volume_diameter_interval_nm"] = tuple(round(volume_diameter(n, v) / 10.0, 4) for n in n_interval)
    return out


def plan(kind: str, x: np.ndarray, full_range_size: str, window_model: bool = False) -> dict[str, Any]:
    covers = {name: w.covered_by(x) for name, w in WINDOWS.items() if w.kind == kind}
    missing = []
    if kind == "gr":
        ok = covers["gr"]
        return {"shape": "joint_gr" if ok else None, "size": "joint_gr" if ok else None,
                "element": "element_gr" if ok else None, "missing": missing}
    if covers["iq"]:
        return {"shape": "joint_iq", "size": full_range_size, "element": "element_waxs", "missing": missing}
    if not covers["waxs"]:
        missing.append(f"no shape: the curve does not cover the WAXS window {WINDOWS['waxs'].low}..{WINDOWS['waxs'].high} 1/Å")
    size = "size_saxs" if covers["saxs"] else None
    if size is None and window_model and ladder_window(x) is not None:
        size = "size_window"
    if size is None:
        missing.append(f"no size: the curve does not cover the SAXS window {WINDOWS['saxs'].low}..{WINDOWS['saxs'].high} 1/Å"
                       + (f" nor start at or below {Q_LO_MAX} and end at or above {Q_HI_MIN} 1/Å" if window_model else ""))
    return {"shape": "shape_waxs" if covers["waxs"] else None, "size": size,
            "element": "element_waxs" if covers["waxs"] else None, "missing": missing}


__all__ = ["COVERAGE_NOTES", "allowed_elements", "composition_elements", "constrained_probabilities", "family_prior",
           "instrument_sizes", "model_input", "plan", "shape_groups", "size_range"]
