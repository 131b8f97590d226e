"""The command line, ``python -m swaxs_lib``, run as a user runs it: a subprocess.

References (none produced by swaxs):

* atom counts: Mackay 55 (OEIS A005902), the truncated-octahedral 201 (OEIS
  A005910), the octahedral 44 less six one-atom vertex pyramids = 38
  (OEIS A005900), ASE's ``ase.cluster.Decahedron`` for the (3, 1, 2) Marks
  decahedron, and an integer enumeration of fcc sites for the sphere;
* I(Q): the Debye double sum written out in numpy below, with xraydb's
  Waasmaier–Kirfel f0 at sin(theta)/lambda = Q/(4 pi), Chantler's f', f''
  (xraydb ``f1_chantler``, ``f2_chantler``, energies in eV), and the pair
  Debye–Waller factor exp(-2 B Q^2 / (16 pi^2)) on the i != j terms, for the
  Mackay icosahedron as ASE's ``ase.cluster.Icosahedron`` builds it
  (a = 4.08 Å for Au);
* G(r): for one element and B = 0 the form factors cancel in F(Q) = Q[S(Q) - 1]
  = (2/N) sum_{i<j} sin(Q r_ij)/r_ij, and (2/pi) int F(Q) sin(Q r) dQ over
  [Q_min, Q_max] has the closed form written in ``g_closed_form``, evaluated
  for positions from ASE's ``Octahedron`` (a cuboctahedron for length 5,
  cutoff 2) and from the fcc enumeration;
* Au d_nn = 4.08/sqrt(2) = 2.885 Å.

Every subprocess starts Python and loads the numba cache (about 1 s), so the checks share their runs through
module-scoped fixtures: --help and the bad command lines (exit status, the one line on stderr) run as
subprocesses, four at a time; the cluster, debye and pdf runs, whose files and JSON are checked, call
``main([...])`` in this process (``tests/inprocess.py``; tests/test_readme_commands.py runs each as a subprocess).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ase.io
import numpy as np
import pytest
import xraydb
from ase.cluster import Decahedron, Icosahedron, Octahedron
from scipy.spatial.distance import pdist

from tests.inprocess import Ran, run_main

ROOT = Path(__file__).resolve().parents[1]
A_AU = 4.08  # Å
NN_AU = A_AU / math.sqrt(2)  # 2.885 Å
Q_GRID = np.linspace(0.5, 20.0, 200)  # 1/Å, as the debye runs below ask for
ICOSAHEDRON = ["--shape", "icosahedron", "--element", "Au", "--shells", "3"]
Q_FLAGS = ["--q-min", "0.5", "--q-max", "20", "--q-points", "200"]


def swaxs(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SWAXS_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "swaxs_lib", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )


def swaxs_many(argvs: dict) -> dict:
    """Run several command lines at once (each spends most of its second importing)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(swaxs, *argv) for key, argv in argvs.items()}
        return {key: future.result() for key, future in futures.items()}


def swaxs_here_many(argvs: dict) -> dict:
    """The same command lines run one after the other by ``main([...])`` in this process."""
    return {key: run_main(*argv) for key, argv in argvs.items()}


def last_json(result: subprocess.CompletedProcess | Ran) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def read_csv(path: Path, header: str) -> np.ndarray:
    with open(path) as fh:
        assert fh.readline().rstrip("\n") == header
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def debye_reference(positions: np.ndarray, q: np.ndarray, b_iso: float = 0.0, energy_kev: float | None = None):
    """Plain numpy Debye sum for a one-element (Au) cluster, electrons^2."""
    f = np.asarray(xraydb.f0("Au", q / (4 * np.pi)), dtype=float).astype(complex)
    if energy_kev is not None:
        f = f + xraydb.f1_chantler("Au", energy_kev * 1000) + 1j * xraydb.f2_chantler("Au", energy_kev * 1000)
    r = pdist(positions)
    pair_sum = np.sinc(np.outer(q, r) / np.pi).sum(axis=1)  # sum_{i<j} sin(Q r)/(Q r)
    damping = np.exp(-2 * b_iso * q * q / (16 * np.pi**2))
    return np.abs(f) ** 2 * (len(positions) + 2 * damping * pair_sum)


def g_closed_form(positions: np.ndarray, r: np.ndarray, q_min: float, q_max: float) -> np.ndarray:
    """(2/pi) int_{q_min}^{q_max} (2/N) sum_{i<j} sin(Q r_ij)/r_ij sin(Q r) dQ, exactly.

    int sin(aQ) sin(bQ) dQ = [sin((a-b)Q)/(2(a-b)) - sin((a+b)Q)/(2(a+b))], and
    sin(xQ)/x = Q sinc(xQ/pi) stays finite at x = 0.
    """
    d = pdist(positions)[None, :]
    rr = r[:, None]

    def antiderivative(qq):
        return 0.5 * qq * (np.sinc((d - rr) * qq / np.pi) - np.sinc((d + rr) * qq / np.pi))

    per_pair = (antiderivative(q_max) - antiderivative(q_min)) / d
    return (2 / np.pi) * (2 / len(positions)) * per_pair.sum(axis=1)


# --- help ----------------------------------------------------------------------------------


def test_help_lists_the_commands():
    result = swaxs("--help")
    assert result.returncode == 0
    for command in ("cluster", "debye", "pdf"):
        assert command in result.stdout


def test_the_parser_loads_no_heavy_package():
    # every command, --help and bad input included, builds the whole parser first: listing the shapes, presets and
    # models must not load the builders (ase.build, xraydb) or the kernels (numba), ~1 s of CPU a process before
    code = ("import sys; from swaxs_lib.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('ase.build', 'numba', 'xraydb', 'sklearn', 'swaxs_lib.scattering.kernels') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    assert loaded == "[]"


def test_the_parsers_lists_are_the_librarys():
    from swaxs_lib.cli.ml import PRESET_NAMES
    from swaxs_lib.cli.structure import _shape_names
    from swaxs_lib.ml.database import PRESETS
    from swaxs_lib.structures import SHAPES

    assert _shape_names() == tuple(SHAPES) and PRESET_NAMES == tuple(PRESETS)


# --- cluster -------------------------------------------------------------------------------


def fcc_sphere_positions(diameter: float) -> np.ndarray:
    """Au fcc sites (a/2)(i, j, k), i + j + k even, within diameter/2 of the origin."""
    m = int(diameter / A_AU) + 2
    ijk = np.stack(np.meshgrid(*[np.arange(-m, m + 1)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    sites = (A_AU / 2) * ijk[ijk.sum(axis=1) % 2 == 0]
    return sites[np.linalg.norm(sites, axis=1) <= diameter / 2 * (1 + 1e-9)]


CLUSTER_CASES = {
    "icosahedron": (["--shells", "3"], 55),
    "decahedron": (["--pqr", "3,1,2"], len(Decahedron("Au", 3, 1, 2))),
    "octahedron": (["--length", "4", "--cutoff", "1"], 4 * (2 * 16 + 1) // 3 - 6 * 1),
    "cuboctahedron": (["--shells", "3"], 55),
    "truncated-octahedron": (["--length", "7", "--cutoff", "2"], 201),
    "sphere": (["--diameter-angstrom", "15", "--lattice", "fcc"], len(fcc_sphere_positions(15.0))),
}


@pytest.fixture(scope="module")
def cluster_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    argvs = {
        shape: ["cluster", "--shape", shape, "--element", "Au", *flags, "--out", folder / f"{shape}.xyz"]
        for shape, (flags, _) in CLUSTER_CASES.items()
    }
    argvs.update({suffix: ["cluster", *ICOSAHEDRON, "--out", folder / f"cluster{suffix}"] for suffix in (".pdb", ".cif")})
    return folder, swaxs_here_many(argvs)


@pytest.mark.parametrize("shape", list(CLUSTER_CASES))
def test_cluster_command_writes_the_cluster(cluster_runs, shape):
    flags, expected = CLUSTER_CASES[shape]
    folder, runs = cluster_runs
    out = folder / f"{shape}.xyz"
    info = last_json(runs[shape])
    atoms = ase.io.read(out)
    assert info["n_atoms"] == len(atoms) == expected
    assert info["shape"] == shape
    assert info["out"] == str(out)
    assert np.abs(atoms.positions.mean(axis=0)).max() < 1e-7
    assert set(atoms.get_chemical_symbols()) == {"Au"}


@pytest.mark.parametrize("suffix", [".pdb", ".cif"])
def test_cluster_command_writes_pdb_and_cif(cluster_runs, suffix):
    folder, runs = cluster_runs
    info = last_json(runs[suffix])
    assert len(ase.io.read(folder / f"cluster{suffix}")) == info["n_atoms"] == 55


# --- debye ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def icosahedron_positions():
    return Icosahedron("Au", 3, latticeconstant=A_AU).positions


@pytest.fixture(scope="module")
def debye_runs(tmp_path_factory):
    """One run per variant, shared by the tests below."""
    folder = tmp_path_factory.mktemp("debye")
    structure = folder / "icosahedron.cif"  # ASE writes a cell-less cif in full precision
    ase.io.write(structure, Icosahedron("Au", 3, latticeconstant=A_AU))
    variants = {
        "fast": ICOSAHEDRON,
        "exact": [*ICOSAHEDRON, "--exact"],
        "structure": ["--structure", structure],
        "b-iso": [*ICOSAHEDRON, "--exact", "--b-iso", "0.5"],
        "energy": [*ICOSAHEDRON, "--exact", "--energy-kev", "11.9"],
    }
    results = swaxs_here_many({name: ["debye", *flags, *Q_FLAGS, "--out", folder / f"{name}.csv"]
                               for name, flags in variants.items()})
    return {
        name: (result, read_csv(folder / f"{name}.csv", "q_inv_angstrom,intensity") if result.returncode == 0 else None)
        for name, result in results.items()
    }


def test_debye_csv_layout(debye_runs):
    result, data = debye_runs["fast"]
    info = last_json(result)
    assert data.shape == (200, 2)
    np.testing.assert_allclose(data[:, 0], Q_GRID, rtol=1e-11, atol=0)
    assert data[0, 0] == 0.5 and data[-1, 0] == 20.0
    assert info["q_points"] == 200 and info["mode"] == "fast"
    assert info["cluster"]["n_atoms"] == 55
    assert info["intensity_at_q_min"] == pytest.approx(data[0, 1], rel=1e-11)


def test_debye_fast_matches_numpy_double_sum(debye_runs, icosahedron_positions):
    _, data = debye_runs["fast"]
    np.testing.assert_allclose(data[:, 1], debye_reference(icosahedron_positions, Q_GRID), rtol=1e-8, atol=0)


def test_debye_exact_matches_numpy_double_sum(debye_runs, icosahedron_positions):
    result, data = debye_runs["exact"]
    assert last_json(result)["mode"] == "exact"
    # 12 significant digits in the CSV
    np.testing.assert_allclose(data[:, 1], debye_reference(icosahedron_positions, Q_GRID), rtol=1e-10, atol=0)


def test_debye_structure_file_equals_cluster_flags(debye_runs):
    result, from_file = debye_runs["structure"]
    info = last_json(result)
    assert info["cluster"]["shape"] == "file"
    assert info["cluster"]["n_atoms"] == 55
    np.testing.assert_allclose(from_file, debye_runs["fast"][1], rtol=1e-9, atol=0)


def test_debye_b_iso_damps_the_interference(debye_runs, icosahedron_positions):
    _, damped = debye_runs["b-iso"]
    _, plain = debye_runs["exact"]
    np.testing.assert_allclose(
        damped[:, 1], debye_reference(icosahedron_positions, Q_GRID, b_iso=0.5), rtol=1e-10, atol=0
    )
    high = Q_GRID > 10
    assert damped[high, 1].max() < plain[high, 1].max()
    # the i = j terms are not damped: oscillations about N f0^2 shrink by exp(-B Q^2 / (8 pi^2))
    self_term = 55 * np.asarray(xraydb.f0("Au", Q_GRID / (4 * np.pi))) ** 2
    clear = np.abs(plain[:, 1] - self_term) > 1e-3 * self_term  # away from zeros of the interference
    ratio = (damped[clear, 1] - self_term[clear]) / (plain[clear, 1] - self_term[clear])
    np.testing.assert_allclose(ratio, np.exp(-0.5 * Q_GRID[clear] ** 2 / (8 * np.pi**2)), rtol=1e-6)


def test_debye_energy_changes_the_form_factor(debye_runs, icosahedron_positions):
    _, resonant = debye_runs["energy"]
    _, plain = debye_runs["exact"]
    # just below the Au L3 edge (11.919 keV) f' is about -15 e
    assert np.all(resonant[:, 1] < 0.9 * plain[:, 1])
    np.testing.assert_allclose(
        resonant[:, 1], debye_reference(icosahedron_positions, Q_GRID, energy_kev=11.9), rtol=1e-10, atol=0
    )


# --- pdf -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, positions",
    [
        (["--shape", "cuboctahedron", "--shells", "3"], lambda: Octahedron("Au", 5, 2, latticeconstant=A_AU).positions),
        (["--shape", "sphere", "--diameter-angstrom", "15"], lambda: fcc_sphere_positions(15.0)),
    ],
    ids=["cuboctahedron", "fcc-sphere"],
)
def test_pdf_grid_peak_and_closed_form(tmp_path, flags, positions):
    out = tmp_path / "g.csv"
    result = run_main(
        "pdf", *flags, "--element", "Au", "--r-min", "1", "--r-max", "20", "--r-step", "0.01",
        "--q-min", "0.5", "--q-max", "25", "--out", out,
    )
    info = last_json(result)
    data = read_csv(out, "r_angstrom,g_inv_angstrom2")
    r = 1.0 + 0.01 * np.arange(1901)
    assert data.shape == (1901, 2) and info["r_points"] == 1901
    np.testing.assert_allclose(data[:, 0], r, rtol=0, atol=1e-10)
    assert data[np.argmax(data[:, 1]), 0] == pytest.approx(NN_AU, abs=0.02)
    assert info["g_max"] == pytest.approx(data[:, 1].max(), rel=1e-10)

    assert info["cluster"]["n_atoms"] == len(positions()) and info["small_angle"] == "subtract"
    # the particle's small-angle part is taken out by default (tests/test_compare.py writes it out)
    from tests.test_compare import sas_closed_form

    expected = g_closed_form(positions(), r, 0.5, 25.0) - sas_closed_form(positions(), r, 0.5, 25.0)
    np.testing.assert_allclose(data[:, 1], expected, rtol=0, atol=1e-5 * np.abs(expected).max())
    last_json(run_main("pdf", *flags, "--element", "Au", "--r-min", "1", "--r-max", "20", "--r-step", "0.01",
                       "--q-min", "0.5", "--q-max", "25", "--small-angle", "keep", "--out", out))
    expected = g_closed_form(positions(), r, 0.5, 25.0)
    np.testing.assert_allclose(read_csv(out, "r_angstrom,g_inv_angstrom2")[:, 1], expected, rtol=0,
                               atol=1e-5 * np.abs(expected).max())


# --- bad input -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    (folder / "garbage.xyz").write_text("hello\nworld\n")
    ase.io.write(folder / "good.xyz", Icosahedron("Au", 2, latticeconstant=A_AU))
    (folder / "a-folder.xyz").mkdir()
    return folder


def bad(key, argv, needle):
    """A bad command line and the text its one-line error must contain."""
    return pytest.param(key, argv, needle, id=key)


BAD = [
    bad("unknown-element", ["debye", "--shape", "icosahedron", "--element", "Xx", "--shells", "3"], "Xx"),
    bad("unknown-shape", ["debye", "--shape", "cube", "--element", "Au", "--shells", "3"], "--shape"),
    bad("pqr-with-icosahedron", ["debye", *ICOSAHEDRON, "--pqr", "3,1,2"], "--pqr"),
    bad("pqr-not-integers", ["debye", "--shape", "decahedron", "--element", "Au", "--pqr", "a,b"], "--pqr"),
    bad("missing-shells", ["debye", "--shape", "icosahedron", "--element", "Au"], "--shells"),
    bad("shells-not-integer", ["debye", *ICOSAHEDRON, "--shells", "2.5"], "--shells"),
    bad("missing-structure", ["debye", "--structure", "{files}/missing.xyz"], "missing.xyz"),
    bad("malformed-structure", ["debye", "--structure", "{files}/garbage.xyz"], "garbage.xyz"),
    bad("debye-q-max-below-q-min", ["debye", *ICOSAHEDRON, "--q-min", "5", "--q-max", "1"], "--q-max"),
    bad("q-points-0", ["debye", *ICOSAHEDRON, "--q-points", "0"], "--q-points"),
    bad("r-step-0", ["pdf", *ICOSAHEDRON, "--r-step", "0"], "--r-step"),
    bad("out-wrong-suffix", ["debye", *ICOSAHEDRON, "--out", "{files}/i.txt"], "--out"),
    bad("cluster-out-wrong-suffix", ["cluster", *ICOSAHEDRON, "--out", "{files}/i.csv"], "--out"),
    bad("out-no-folder", ["debye", *ICOSAHEDRON, "--out", "{files}/nowhere/i.csv"], "--out"),
    bad("structure-and-shape", ["debye", "--structure", "{files}/good.xyz", "--shape", "icosahedron"], "--structure"),
    bad("pdf-q-max-below-q-min", ["pdf", *ICOSAHEDRON, "--q-min", "5", "--q-max", "1"], "--q-max"),
    bad("negative-b-iso", ["debye", *ICOSAHEDRON, "--b-iso", "-1"], "--b-iso"),
    bad("energy-out-of-range", ["debye", *ICOSAHEDRON, "--energy-kev", "0"], "--energy-kev"),
    bad("negative-qdamp", ["pdf", *ICOSAHEDRON, "--qdamp", "-1"], "--qdamp"),
    bad(
        "huge-diameter", ["debye", "--shape", "sphere", "--element", "Au", "--diameter-angstrom", "1e300"],
        "--diameter-angstrom",
    ),
    bad("out-is-a-folder", ["cluster", *ICOSAHEDRON, "--out", "{files}/a-folder.xyz"], "--out"),
]


@pytest.fixture(scope="module")
def bad_runs(files):
    argvs = {}
    for param in BAD:
        key, argv, _ = param.values
        argv = [a.replace("{files}", str(files)) if isinstance(a, str) else a for a in argv]
        if "--out" not in argv:
            argv += ["--out", files / f"{key}.csv"]
        argvs[key] = argv
    return swaxs_many(argvs)


@pytest.mark.parametrize("key, argv, needle", BAD)
def test_bad_input_is_one_line_and_status_2(bad_runs, key, argv, needle):
    result = bad_runs[key]
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert lines[0].startswith("python -m swaxs_lib")
