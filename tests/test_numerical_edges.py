"""Numerical edges give a defined answer or one clear error, never a traceback or a silent NaN/null (issue 19, item 5).

Each case is a small file built here and run through the command line in this process (``tests/inprocess.py``):
exit 2 with the one-line message naming the file, line or flag, or exit 0 with a finite result.  Defined answers
are checked against closed forms, not against our code: the Debye sum at Q = 0 is (Σ f)² (f = Z with
``form_factor_source="constant"``: exactly (13 · 79)² for Au13); a reduced G(r) = (2/π)∫F(Q) sin(Qr) dQ is 0 at
r = 0; a scale fitted to data that are exactly 2 × the model is 2 (to 1e-9) once the one corrupted point with
σ = 0 is left out.  Before these changes (issue 19's probe): Q = 1e300 and ±1e300 coordinates ended in
"internal error" (exit 1), a zero σ switched every point to relative weights, a constant I(Q) refined to
R_w 1e-7, an all-zero G(r) gave R_w null with exit 0, and a column-label line followed by another comment gave
Q in 1/Å instead of 1/nm.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement, read_measurement_bytes
from tests.inprocess import run_main
from tests.test_pages import db  # noqa: F401  (the store fixture the pages open)

Q = np.linspace(0.5, 10.0, 60)
R = np.linspace(0.02, 20.0, 400)
CLUSTER = ["--shape", "icosahedron", "--shells", "2", "--element", "Au"]


def table(x, *columns, header: str = "") -> str:
    return header + "".join(" ".join(f"{v:.10g}" for v in row) + "\n" for row in zip(x, *columns))


def varying(q):
    return np.exp(-q / 3) + 0.1


CASES = {
    # name: (file name, file text, command and flags, exit status, words of the message or the JSON keys)
    "Q 1e300 in data, compare": ("q.dat", table(np.append(Q[:-1], 1e300), varying(Q)), ["compare", *CLUSTER],
                                 2, ["q.dat: line 60: Q = 1e+300 1/Å", "at most 250"]),
    "Q 1e300 in data, refine": ("q.dat", table(np.append(Q[:-1], 1e300), varying(Q)), ["refine", *CLUSTER],
                                2, ["line 60: Q = 1e+300"]),
    "r 1e300 in a G(r)": ("g.gr", table(np.append(R[:-1], 1e300), np.sin(R)), ["compare", *CLUSTER],
                          2, ["g.gr: line 400: r = 1e+300 Å"]),
    "NaN in data": ("n.dat", table(Q, np.where(np.arange(Q.size) == 4, np.nan, varying(Q))), ["compare", *CLUSTER],
                    2, ["n.dat: line 5: y = nan"]),
    "negative sigma": ("s.dat", table(Q, varying(Q), np.where(np.arange(Q.size) == 4, -0.01, 0.01)),
                       ["compare", *CLUSTER], 2, ["s.dat: line 5: uncertainty -0.01; expected >= 0"]),
    "constant I(Q), compare": ("c.dat", table(Q, np.ones_like(Q)), ["compare", *CLUSTER, "--background", "constant"],
                               2, ["c.dat: every value in the fit range", "is 1", "constant"]),
    "constant I(Q), refine": ("c.dat", table(Q, np.ones_like(Q)), ["refine", *CLUSTER], 2, ["c.dat: every value"]),
    "all-zero G(r), compare": ("z.gr", table(R, np.zeros_like(R)), ["compare", *CLUSTER],
                               2, ["z.gr: every value in the fit range 1.5..20 is 0", "R_w is undefined"]),
    "all-zero G(r), refine": ("z.gr", table(R, np.zeros_like(R)), ["refine", *CLUSTER], 2, ["is 0"]),
    "Q = 0 in data": ("q0.dat", table(np.append(0.0, Q[1:]), varying(Q)), ["compare", *CLUSTER], 0, ["rw"]),
    "r = 0 in data": ("r0.gr", table(np.append(0.0, R[1:]), np.sin(2 * R) * np.exp(-R / 5)), ["compare", *CLUSTER],
                      0, ["rw"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_data_edge_through_the_command_line(name, tmp_path, monkeypatch):
    filename, text, command, status, words = CASES[name]
    monkeypatch.setenv("SWAXS_DB", str(tmp_path / "store.duckdb"))
    (tmp_path / filename).write_text(text)
    ran = run_main(command[0], tmp_path / filename, *command[1:], "--out", tmp_path / "out.csv")
    assert ran.returncode == status, ran.stderr[-2000:]
    assert "Traceback" not in ran.stderr and "internal error" not in ran.stderr
    if status == 2:
        message = ran.stderr.strip().splitlines()[-1]
        assert all(w in message for w in words), message
    else:
        result = json.loads(ran.stdout.strip().splitlines()[-1])
        assert all(result[w] is not None and np.isfinite(result[w]) for w in words), result


STRUCTURES = {
    "two atoms at one position, relax": ("2\n\nAu 0 0 0\nAu 0 0 0\n", ["relax", "--steps", "3", "--trace", "t.csv"],
                                         ["atoms 1 and 2 are 0 Å apart", "expected at least 0.5 Å"]),
    "coordinates of 1e300, debye": ("2\n\nAu 0 0 1e300\nAu 0 0 -1e300\n", ["debye", "--out", "o.csv"],
                                    ["the atoms span 2e+300 Å along z", "expected at most 2000 Å"]),
    "one atom, relax": ("1\n\nAu 0 0 0\n", ["relax", "--steps", "3", "--trace", "t.csv"], ["at least two atoms"]),
    "one atom, pdf": ("1\n\nAu 0 0 0\n", ["pdf", "--out", "o.csv"], ["expected at least two"]),
}


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_structure_edge_is_one_clear_error(name, tmp_path, monkeypatch):
    text, command, words = STRUCTURES[name]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWAXS_DB", str(tmp_path / "store.duckdb"))
    (tmp_path / "c.xyz").write_text(text)
    ran = run_main(command[0], "--structure", "c.xyz", *command[1:])
    message = ran.stderr.strip().splitlines()[-1]
    assert ran.returncode == 2 and all(w in message for w in words), ran.stderr[-2000:]


@pytest.mark.parametrize("flags, flag", [(["debye", "--q-max", "1e300"], "--q-max"), (["pdf", "--q-max", "1e300"], "--q-max"),
                                         (["pdf", "--r-max", "1e300"], "--r-max")])
def test_huge_q_or_r_flag_is_refused_naming_it(flags, flag, tmp_path):
    ran = run_main(*flags, *CLUSTER, "--out", tmp_path / "o.csv")
    assert ran.returncode == 2 and f"error: {flag}: got 1e+300" in ran.stderr, ran.stderr[-2000:]


def test_one_atom_and_q_zero_have_the_closed_form_debye_values():
    from swaxs_lib.scattering import debye_intensity, pair_distribution
    from swaxs_lib.structures import icosahedron

    atoms = icosahedron("Au", 2).atoms  # 13 atoms
    at_zero = debye_intensity(atoms, [0.0, 0.5], form_factor_source="constant").intensity
    assert at_zero[0] == pytest.approx((13 * 79) ** 2, rel=1e-12)  # I(0) = (Σ f)², f = Z
    one = debye_intensity(Atoms("Au"), [0.0, 0.5, 5.0], form_factor_source="constant").intensity
    np.testing.assert_allclose(one, 79.0**2, rtol=1e-12)  # one atom: I = f², flat when f = Z
    g = pair_distribution(atoms, np.array([0.0, 1.0, 2.88]), 0.5, 25.0).g
    assert g[0] == 0.0 and np.all(np.isfinite(g))  # G(0) = (2/π)∫F(Q) sin(0) dQ = 0


def test_a_zero_uncertainty_leaves_out_only_its_own_point():
    from swaxs_lib.fit.linear import fit_scale_background

    model = varying(Q)
    y = 2.0 * model
    y[7] = 50.0  # a corrupted point: its σ = 0 claims it exact
    sigma = 0.01 * y
    sigma[7] = 0.0
    with pytest.warns(UserWarning, match=r"1 point\(s\) in the fit range with uncertainty 0 \(the first at x = "):
        fit = fit_scale_background(Q, y, model, sigma=sigma, source="s.dat")
    assert fit.weighting == "sigma" and fit.scale == pytest.approx(2.0, rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every σ > 0: no warning, σ weights
        assert fit_scale_background(Q, 2.0 * model, model, sigma=0.01 * model).weighting == "sigma"
    with pytest.warns(UserWarning, match="every uncertainty in the fit range .* is 0"):
        assert fit_scale_background(Q, y, model, sigma=np.zeros_like(y)).weighting == "relative"


HEADER_LINES = ["# q(nm-1) I(a.u.)", "# sample: Au nanoparticles, 2 mM"]


@pytest.mark.parametrize("order", [HEADER_LINES, HEADER_LINES[::-1]], ids=["label-first", "label-last"])
def test_unit_headers_do_not_depend_on_their_order(order):
    m = read_measurement_bytes(table(Q, varying(Q), header="\n".join(order) + "\n").encode(), "u.dat")
    assert m.x_unit == "inv_nm"
    np.testing.assert_allclose(m.x, Q / 10.0)  # 1/nm read as 1/nm: Q/10 in 1/Å


@pytest.mark.parametrize("lines", [["# wavelength: 1.54 A", "# wavelength = 0.5"],
                                   ["# wavelength = 0.5", "# wavelength: 1.54 A"]])
def test_conflicting_header_wavelengths_are_not_picked_by_order(lines):
    m = read_measurement_bytes(table(Q, varying(Q), header="\n".join(lines) + "\n").encode(), "w.dat")
    assert m.wavelength_angstrom is None and "wavelength_conflict" in dict(m.metadata)
    with pytest.raises(SwaxsInputError, match="states two wavelengths"):  # needed for 2θ: an error either way
        read_measurement_bytes(table(np.linspace(5, 60, 60), varying(Q), header="\n".join(lines) + "\n# 2th_deg I\n"
                                     ).encode(), "w.xy")


def test_a_measurement_beyond_the_physical_range_cannot_be_built():
    with pytest.raises(SwaxsInputError, match=r"x.dat: Q = 1e\+05 1/Å; expected at most 250"):
        Measurement("iq", np.array([0.1, 1e5]), np.ones(2), None, "x.dat", "inv_angstrom")


@pytest.mark.parametrize("values", [np.ones_like(Q), np.zeros_like(Q)], ids=["constant", "all-zero"])
def test_predict_refuses_a_curve_without_shape(values):
    from swaxs_lib.ml.predict import predict

    # issue 19's probe: a constant I(Q) was predicted a bcc sphere with probability 0.85; refused before any model
    # is read, so no model folder is needed here
    with pytest.raises(SwaxsInputError, match="expected a curve that varies"):
        predict(None, "iq", Q, values)


def test_the_data_and_compare_pages_say_which_points_a_zero_uncertainty_leaves_out(db):  # noqa: F811 - the fixture
    from tests.test_pages import app, plain

    y = 2.0 * varying(Q)
    sigma = 0.01 * y
    sigma[[7, 9]] = 0.0
    raw = "\n".join(f"{a:.6g} {b:.8g} {s:.4g}" for a, b, s in zip(Q, y, sigma)).encode()
    dataset = db.add_dataset("zero sigma", raw, "zs.dat", read_measurement_bytes(raw, "zs.dat")).id
    expected = f"2 of {Q.size} points have uncertainty 0 or none (the first at x = {Q[7]:g})"
    for page in ("pages/data.py", "pages/compare.py"):
        at = app(page)
        at.query_params["ds"] = dataset
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        assert any(expected in plain(i.value) for i in at.info), (page, [i.value for i in at.info])
