"""The analysis pipeline (swaxs_lib.analyse) end to end on synthetic curves of known composition.

The curves are made here, with the physics stated independently of the code under test: a 60/40
(number) mixture of a 147-atom Mackay icosahedron and a 192-atom Marks decahedron (3, 3, 1), with an
expansion, thermal damping and Q damping the candidates do not know, and noise; dilute particles add
intensities (I = s Σ n_k I_k), a per-atom G(r) of a mixture is the atom-weighted mean.  Unlike
tests/test_mixture.py (the mixture fit alone, candidates evaluated at the data's own parameters),
here every candidate is built, screened and refined by the pipeline, so each mixture component
carries its own refined expansion and damping.  The window is given (17-18.5 Å extent: the
icosahedron and the nine decahedra of that size), so the test is about the stages, not the window
rule (tests/test_size_window.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from swaxs_lib.analyse.pipeline import analyse
from swaxs_lib.analyse.result import AnalysisResult
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement
from swaxs_lib.models import cluster_gr
from swaxs_lib.scattering import debye_intensity
from swaxs_lib.store import Store
from swaxs_lib.structures import decahedron, icosahedron

TRUE = {"Au icosahedron shells=4": 0.6, "Au decahedron (3,3,1)": 0.4}  # number fractions
Q_MIN, Q_MAX = 0.5, 20.0
ZOOM, U, QDAMP = 1.012, 0.009, 0.03
WINDOW = (17.0, 18.5)
RUN = dict(element="Au", families=("icosahedron", "decahedron"), window=WINDOW, keep_per_family=10, relax_top=0,
           use_prior=False, workers=1)


@pytest.fixture(scope="module")
def clusters():
    return {"Au icosahedron shells=4": icosahedron("Au", 4).atoms, "Au decahedron (3,3,1)": decahedron("Au", 3, 3, 1).atoms}


def _gr(clusters, fractions, seed):
    r = np.arange(1.0, 25.0 + 1e-9, 0.02)
    curves = {k: cluster_gr.model_curve(cluster_gr.histogram_for(a, Q_MAX), r, Q_MIN, Q_MAX, zoom=ZOOM, u=U,
                                        qdamp=QDAMP) for k, a in clusters.items() if k in fractions}
    n = {k: len(clusters[k]) for k in fractions}
    g = 0.8 * sum(fractions[k] * n[k] * curves[k] for k in fractions) / sum(fractions[k] * n[k] for k in fractions)
    dq = 0.02  # white noise in Q up to Q_max is band-limited in r
    q = np.arange(dq, Q_MAX + dq / 2, dq)
    e = (np.sin(np.outer(r, q)) * dq) @ np.random.default_rng(seed).normal(size=q.size)
    g = g + e * 0.02 * np.abs(g).max() / e.std()
    return Measurement("gr", r, g, None, f"synthetic-gr-{seed}", "angstrom")


def _iq(clusters, fractions, seed):
    q = np.arange(1.0, 10.0 + 1e-9, 0.01)
    i = 1e-4 * sum(fractions[k] * debye_intensity(clusters[k], q, b_iso_angstrom2=8 * np.pi**2 * U,
                                                  scale=ZOOM).intensity for k in fractions)
    i = i + 0.05 * i.min()
    sigma = 0.01 * i
    return Measurement("iq", q, i + sigma * np.random.default_rng(seed).normal(size=q.size), sigma,
                       f"synthetic-iq-{seed}", "inv_angstrom")


def _families(mixture) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in mixture.components:
        family = "icosahedron" if "icosahedron" in c.label else "decahedron"
        out[family] = out.get(family, 0.0) + c.number_fraction
    return out


@pytest.mark.parametrize("kind", ["gr", "iq"])
def test_a_60_40_mixture_is_found_with_its_motifs_and_fractions(tmp_path, clusters, kind):
    data = _gr(clusters, TRUE, 7) if kind == "gr" else _iq(clusters, TRUE, 7)
    options = {"q_min_inv_angstrom": Q_MIN, "q_max_inv_angstrom": Q_MAX} if kind == "gr" else {}
    result = analyse(Store(tmp_path / "s.duckdb"), data, options=options, **RUN)
    m = result.mixture
    assert m is not None and m.accepted and m.p_value < m.alpha, result.mixture_labels
    fractions = _families(m)
    assert fractions == pytest.approx({"icosahedron": 0.6, "decahedron": 0.4}, abs=0.1), m.components
    assert m.rw < m.rw_single == pytest.approx(result.rows[0].rw, rel=1e-9)  # tested against the best single candidate as it was refined
    assert AnalysisResult.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_a_pure_motif_is_not_reported_as_a_mixture_and_is_ranked_first(tmp_path, clusters):
    pure = {"Au decahedron (3,3,1)": 1.0}
    result = analyse(Store(tmp_path / "s.duckdb"), _gr(clusters, pure, 11),
                     options={"q_min_inv_angstrom": Q_MIN, "q_max_inv_angstrom": Q_MAX}, **RUN)
    assert result.rows[0].label == "Au decahedron (3,3,1)"
    assert result.rows[0].best_group and result.rows[0].rank == 1
    assert result.rows[0].value("expansion") == pytest.approx(ZOOM - 1, abs=0.002)  # the truth's +1.2 %
    assert result.mixture is not None and not result.mixture.accepted
    # every screened candidate is listed with its screen R_w; the refined ones carry theirs too
    assert len(result.screened) == 10 and all(np.isfinite(r.rw_screen) for r in result.rows)
    table = result.table()
    assert list(table)[:3] == ["rank", "label", "family"] and "u_Au_angstrom2_sigma" in table


def test_a_second_run_refits_nothing(tmp_path, clusters):
    store = Store(tmp_path / "s.duckdb")
    data = _gr(clusters, {"Au icosahedron shells=4": 1.0}, 3)
    options = {"q_min_inv_angstrom": Q_MIN, "q_max_inv_angstrom": Q_MAX}
    first = analyse(store, data, options=options, **{**RUN, "families": ("icosahedron",)})
    again = analyse(store, data, options=options, **{**RUN, "families": ("icosahedron",)})
    assert again.counts["from_cache"] == again.counts["screened"] == first.counts["screened"]
    assert [r.rw for r in again.rows] == [r.rw for r in first.rows]


@pytest.mark.parametrize("change, message", [
    (dict(families=("dodecahedron",)), "families: got dodecahedron"),
    (dict(element=None), "element: none given"),
    (dict(relax_top=-1), "relax_top: got -1"),
    (dict(window=(30.0, 20.0)), "window: got 30-20"),
])
def test_bad_requests_name_what_was_expected(tmp_path, clusters, change, message):
    with pytest.raises(SwaxsInputError, match=message):
        analyse(Store(tmp_path / "s.duckdb"), _gr(clusters, TRUE, 1), **{**RUN, **change})


def test_other_kinds_are_refused(tmp_path):
    sq = Measurement("sq", np.linspace(1, 10, 50), np.ones(50), None, "x.sq", "inv_angstrom")
    with pytest.raises(SwaxsInputError, match="expected a G\\(r\\)"):
        analyse(Store(tmp_path / "s.duckdb"), sq, **RUN)


def test_an_uploaded_structure_is_refined_and_ranked_with_the_motifs(tmp_path, clusters):
    # the truth as a user's own xyz file, among decahedra only: it must come first, under its file name
    import io

    from ase.io import write

    from swaxs_lib.structures.readers import read_structure_bytes

    text = io.StringIO()
    write(text, clusters["Au icosahedron shells=4"], format="xyz")
    atoms = read_structure_bytes(text.getvalue().encode(), "mine.xyz").atoms  # as the job reads an upload
    data = _gr(clusters, {"Au icosahedron shells=4": 1.0}, 5)
    result = analyse(Store(tmp_path / "s.duckdb"), data, options={"q_min_inv_angstrom": Q_MIN, "q_max_inv_angstrom": Q_MAX},
                     structures=[("mine.xyz", atoms)], **{**RUN, "families": ("decahedron",), "keep_per_family": 2})
    assert (result.rows[0].label, result.rows[0].family, result.rows[0].n_atoms) == ("mine.xyz", "structure", 147)
    with pytest.raises(SwaxsInputError, match="mine.xyz"):
        read_structure_bytes(b"3\nnot an xyz\nXx 0 0 0\n", "mine.xyz")
