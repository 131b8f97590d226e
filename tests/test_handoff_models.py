"""What a hand-off link to Compare carries (:mod:`swaxs_lib.views`, :func:`swaxs_lib.ml.predict.library_model`).

References, none of them the code under test:

* the reference library's stored curves and atom counts (``data/models/default/library.npz``, made by
  ``build-db`` from gold templates scaled to each element: :mod:`swaxs_lib.ml.simulate`), against which
  the cluster the link builds and the model it holds are checked;
* hand-made fit summaries whose Compare link is written out by hand.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from swaxs_lib.compare import compare_cluster
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement
from swaxs_lib.ml.models import default_model_dir
from swaxs_lib.structures import build_cluster
from swaxs_lib.views import compare_kwargs, compare_model_of_fit

needs_model = pytest.mark.skipif(not (default_model_dir() / "manifest.json").is_file(),
                                 reason="no trained model: data/models/default has no manifest.json")


@pytest.fixture(scope="module")
def library():
    from swaxs_lib.ml.models import load_bundle

    return load_bundle(str(default_model_dir())).library


def _members(lib, n_max: int):
    """Rows of a few kinds, each of 300 to n_max atoms: Ni and Cu spheres of each lattice (their distances are
    0.86 and 0.89 of gold's: a sphere's label in Å is the gold template's), and non-gold polyhedra."""
    rows = []
    for lattice in ("fcc", "bcc", "hcp"):
        for element in ("Ni", "Cu"):
            rows += [i for i in range(len(lib["shape"])) if lib["shape"][i] == "sphere" and lib["element"][i] == element
                     and f'"{lattice}"' in str(lib["parameters_json"][i]) and 300 <= lib["n_atoms"][i] <= n_max][-1:]
    for shape in ("decahedron", "icosahedron", "octahedron", "truncated-octahedron", "cuboctahedron"):
        rows += [i for i in range(len(lib["shape"])) if lib["shape"][i] == shape and lib["element"][i] != "Au"
                 and 300 <= lib["n_atoms"][i] <= n_max][:1]
    return rows


def _match(lib, i):
    from swaxs_lib.ml.predict import Match, member_parameters

    shape, element = str(lib["shape"][i]), str(lib["element"][i])
    return Match(1, str(lib["shape_class"][i]), shape, str(lib["family"][i]),
                 member_parameters(shape, element, json.loads(str(lib["parameters_json"][i]))), element,
                 float(lib["diameter_angstrom"][i]) / 10, int(lib["n_atoms"][i]), 0.0, 1.0, 0.0, int(i))


@needs_model
def test_a_matchs_parameters_build_the_library_members_atoms(library):
    """A Ni sphere labelled 27 Å is the gold template's 27 Å sphere scaled to Ni (23.29 Å): 537 atoms, not 893."""
    rows = _members(library, 3000)
    assert len(rows) >= 10
    for i in rows:
        match = _match(library, i)
        atoms = build_cluster(match.shape, match.element, **match.parameters).atoms
        assert len(atoms) == int(library["n_atoms"][i]), (match.element, match.shape, match.parameters)


@needs_model
def test_library_model_in_compare_is_the_library_curve(library):
    """The link's model (B 0.6 Å², Q damping, delta2, Q window; zoom 1) on the library's own curve as data.

    Measured: R_w 7e-6..7e-4 for G(r) (the stored curve is float32 from a template histogram on 0.1 Å
    steps; Compare bins this cluster afresh) and ~3e-8 for I(Q); scale 1 within 5e-5.
    """
    from swaxs_lib.ml.predict import library_model

    for i in _members(library, 1500):
        match = _match(library, i)
        atoms = build_cluster(match.shape, match.element, **match.parameters).atoms
        for kind, grid, unit, limit in (("gr", "r_angstrom", "angstrom", 2e-3), ("iq", "q_inv_angstrom",
                                                                                 "inv_angstrom", 1e-6)):
            data = Measurement(kind, library[grid].astype(float), library[kind][i].astype(float), None, "library",
                               unit)
            c = compare_cluster(data, atoms, **library_model(match, data).compare_kwargs())
            assert c.fit.rw < limit, (kind, match.element, match.shape, match.parameters, c.fit.rw)
            assert c.fit.scale == pytest.approx(1.0, rel=5e-4)


def _gr(r_max: float = 40.0, header: str = "") -> Measurement:
    r = np.arange(0.5, r_max, 0.01)
    meta = (("header_qmin", "0.9"), ("header_qmax", "24.5")) if header else ()
    return Measurement("gr", r, np.sin(r), None, "x.gr", "angstrom", metadata=meta)


def test_a_fits_values_range_and_q_window_make_the_compare_link():
    summary = {"rw": 0.3, "scale": 0.41, "scale_sigma": 0.01, "zoom": 0.98765432, "zoom_sigma": 1e-4,
               "u_Pt": 0.0081234567, "u_Pt_flag": "", "delta2": 1.5, "qdamp": 4.6e-21, "expansion": -0.0123}
    settings = {"x_min": 2.2, "x_max": 24.0, "q_min_inv_angstrom": 1.1, "q_max_inv_angstrom": 23.0,
                "small_angle": "subtract"}
    model = compare_model_of_fit(_gr(), summary, settings)
    assert model.query() == {"zoom": "0.987654", "u": "0.00812346", "delta2": "1.5", "qdamp": "0", "bg": "none",
                             "xr": "2.2,24", "qmin": "1.1", "qmax": "23", "sas": "1"}
    assert not model.notes
    assert compare_kwargs("gr", model.query()) == {
        "values": {"zoom": 0.987654, "u": 0.00812346, "delta2": 1.5, "qdamp": 0.0}, "background": "none",
        "x_min": 2.2, "x_max": 24.0, "q_min_inv_angstrom": 1.1, "q_max_inv_angstrom": 23.0, "small_angle": "subtract"}


def test_a_fit_without_settings_takes_every_refinements_defaults():
    """G(r): 1.5 Å to min(30 Å, last point), the header's Q window, no background; I(Q): all of it, constant."""
    model = compare_model_of_fit(_gr(r_max=20.0, header="yes"), {"zoom": 1.0, "u_Au": 0.005})
    assert (model.x_min, model.x_max, model.background) == (1.5, pytest.approx(19.99), "none")
    assert (model.q_min_inv_angstrom, model.q_max_inv_angstrom, model.small_angle) == (0.9, 24.5, "subtract")
    q = np.linspace(0.05, 3.0, 60)
    iq = compare_model_of_fit(Measurement("iq", q, np.exp(-q), None, "x.dat", "inv_angstrom"), {"b_Au": 0.7})
    assert iq.query() == {"b": "0.7", "bg": "constant", "xr": "0.05,3"}


def test_a_range_six_digits_would_move_is_written_in_full():
    r = np.arange(1.0, 10.0, 0.0001234567)  # the last point, 9.99998..., is not 6-digit round
    data = Measurement("gr", r, np.sin(r), None, "fine.gr", "angstrom")
    model = compare_model_of_fit(data, {"zoom": 1.0}, {"x_min": 1.23456789, "x_max": 1e3})
    x_min, x_max = (float(v) for v in model.query()["xr"].split(","))
    assert (x_min, x_max) == (1.23456789, float(r[-1]))  # the bounds read back exactly; x_max clipped to the data


def test_per_element_values_compare_cannot_hold_are_said():
    model = compare_model_of_fit(_gr(), {"zoom": 1.0, "u_Pt": 0.004, "u_Pd": 0.008})
    assert model.values["u"] == pytest.approx(0.006)
    assert model.notes and "u_Pt = 0.004" in model.notes[0] and "mean 0.006" in model.notes[0]


def test_compare_shows_the_rw_the_link_stands_for():
    """A synthetic G(r) made with known values: the link built from them gives R_w 0 in compare_cluster."""
    from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
    from swaxs_lib.scattering import pair_histogram

    atoms = build_cluster("icosahedron", "Au", shells=3).atoms
    r = np.arange(1.0, 20.0, 0.02)
    g = 0.7 * realspace_pdf(realspace_setup(pair_histogram(atoms, 0.002), r, 0.8, 22.0), u_iso_angstrom2=0.006,
                            zoom=0.99, q_damp_inv_angstrom=0.03, delta2_angstrom2=0.5)
    data = Measurement("gr", r, g, None, "synthetic.gr", "angstrom")
    model = compare_model_of_fit(data, {"zoom": 0.99, "u_Au": 0.006, "qdamp": 0.03, "delta2": 0.5},
                                 {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 22.0})
    result = compare_cluster(data, atoms, **model.compare_kwargs())
    assert result.fit.rw < 2e-3 and result.fit.scale == pytest.approx(0.7, rel=2e-3)


def test_a_background_compare_does_not_have_is_refused():
    with pytest.raises(SwaxsInputError, match="background"):
        compare_model_of_fit(_gr(), {"zoom": 1.0}, {"background": "spline"})
    assert math.isfinite(compare_model_of_fit(_gr(), {}).x_max)
