"""The peer of ``benchmarks/ui_latency.py``: a minimal Streamlit slider-and-plot app without swaxs.

Not part of the dashboard and imports nothing from ``pages/`` or ``swaxs_lib``:
it is what a small app built on public packages alone looks like.  The
measured curve is the two-column file named by ``$SWAXS_PEER_DATA`` (Q in
1/Å, I); the layout follows the Compare page's: a ``shells`` slider and a
``Debye–Waller B (Å²)`` slider on the left, an R_w metric and one plotly
figure (data markers, the fitted model line, the residual below) on the
right, all inside one ``st.fragment``, view state in the URL.  The model is a Au Mackay icosahedron (ASE's ``Icosahedron``,
a = 4.08 Å) fitted with a least-squares scale and constant background.

Query parameters: ``shells`` (2–30), ``b`` (Å², 0–5), ``trace`` (``gl``, the
default, draws WebGL ``Scattergl`` traces; ``svg`` draws ``Scatter``, as the
Compare page does up to 20,000 plotted points) and ``engine``:

``engine=none``
    The floor.  The first run of a session computes one curve (DebyeCalculator,
    the URL's shells, B = 0); every slider move only rescales it by
    exp(−B Q²/8π²) and (N/N₀)², so a move costs Streamlit's and plotly's
    round trip and the fit, nothing else.
``engine=debyecalculator``
    Each move to a new (shells, B) builds the cluster and computes I(Q) with
    DebyeCalculator on the CPU (``pair_sum="grid"``, float32: its default and
    fastest CPU mode in ``benchmarks/debye.py``; ``qdamp=0``, ``biso=B``, on
    its own float32 Q grid of the data's 1,000 points), 2 × ``iq`` as in
    ``benchmarks/debye.py``.  The result goes through ``st.cache_data``, as
    a Streamlit developer would write it, so a (shells, B) seen before in
    this server process is a memo hit.

Run by ``benchmarks/ui_latency.py``; by hand::

    SWAXS_PEER_DATA=/path/au.dat .venv/bin/streamlit run benchmarks/_latency_peer_app.py
"""

from __future__ import annotations

import math
import os

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

ELEMENT = "Au"
LATTICE_CONSTANT_ANGSTROM = 4.08
ENGINES = ("none", "debyecalculator")
TRACES = {"gl": go.Scattergl, "svg": go.Scatter}
B_LABEL = "Debye–Waller B (Å²)"


def icosahedron_atom_count(shells: int) -> int:
    """Atoms in a Mackay icosahedron of ``shells`` closed shells (1, 13, 55, 147, ...)."""
    return (10 * shells**3 - 15 * shells**2 + 11 * shells - 3) // 3


@st.cache_resource(show_spinner=False)
def load_data(path: str) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, comments="#")
    return table[:, 0], table[:, 1]


@st.cache_data(max_entries=64, show_spinner=False)
def debyecalculator_curve(shells: int, b_iso_angstrom2: float, q_min: float, q_max: float, n_q: int) -> np.ndarray:
    """2 × DebyeCalculator's iq of the icosahedron on its own grid of ``n_q`` points."""
    from ase.cluster import Icosahedron
    from debyecalculator import DebyeCalculator

    atoms = Icosahedron(ELEMENT, shells, latticeconstant=LATTICE_CONSTANT_ANGSTROM)
    step = (q_max - q_min) / (n_q - 1)
    calc = DebyeCalculator(qmin=q_min, qmax=q_max + step / 2, qstep=step, qdamp=0.0, biso=b_iso_angstrom2,
                           device="cpu", pair_sum="grid")
    _, iq = calc.iq(atoms)
    if len(iq) != n_q:
        raise RuntimeError(f"DebyeCalculator gave {len(iq)} Q points; expected {n_q}")
    return 2.0 * np.asarray(iq, dtype=float)


def fit_scale_background(data: np.ndarray, model: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares data ≈ s·model + c (uniform weights); the fitted curve and R_w."""
    design = np.column_stack([model, np.ones_like(model)])
    coef, *_ = np.linalg.lstsq(design, data, rcond=None)
    fitted = design @ coef
    return fitted, float(np.sqrt(np.sum((data - fitted) ** 2) / np.sum(data**2)))


def _param(name: str, default, parse):
    try:
        return parse(st.query_params.get(name, default))
    except ValueError:
        return default


path = os.environ.get("SWAXS_PEER_DATA")
if not path:
    st.error("Set SWAXS_PEER_DATA to a two-column Q, I file.")
    st.stop()
q, data = load_data(path)
engine = _param("engine", "none", str)
if engine not in ENGINES:
    st.error(f"engine: got {engine!r}; expected one of {', '.join(ENGINES)}")
    st.stop()
trace_type = _param("trace", "gl", str)
if trace_type not in TRACES:
    st.error(f"trace: got {trace_type!r}; expected one of {', '.join(TRACES)}")
    st.stop()
Trace = TRACES[trace_type]
if "shells" not in st.session_state:
    st.session_state["shells"] = min(max(_param("shells", 6, int), 2), 30)
    st.session_state["b"] = min(max(_param("b", 0.5, float), 0.0), 5.0)
if engine == "none" and "base" not in st.session_state:
    st.session_state["base"] = (debyecalculator_curve(st.session_state["shells"], 0.0, float(q[0]), float(q[-1]),
                                                      len(q)), st.session_state["shells"])


@st.fragment
def live_panel() -> None:
    controls, view = st.columns([1, 2.6], gap="medium")
    with controls:
        st.slider("shells", 2, 30, step=1, key="shells")
        st.slider(B_LABEL, 0.0, 5.0, step=0.05, key="b")
    shells, b = int(st.session_state["shells"]), float(st.session_state["b"])
    st.query_params.from_dict({"engine": engine, "trace": trace_type, "shells": str(shells), "b": f"{b:.6g}"})
    if engine == "none":
        base, base_shells = st.session_state["base"]
        ratio = icosahedron_atom_count(shells) / icosahedron_atom_count(base_shells)
        model = base * ratio**2 * np.exp(-b * q**2 / (8 * math.pi**2))
    else:
        model = debyecalculator_curve(shells, b, float(q[0]), float(q[-1]), len(q))
    fitted, rw = fit_scale_background(data, model)
    with view:
        st.metric("R_w, candidate 1", f"{rw:.4f}")
        figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
        figure.add_trace(Trace(x=q, y=data, mode="markers", name="data", marker=dict(size=4, color="#444")),
                         row=1, col=1)
        figure.add_trace(Trace(x=q, y=fitted, mode="lines", name=f"Au{icosahedron_atom_count(shells)}",
                                      line=dict(color="#d62728", width=2)), row=1, col=1)
        figure.add_trace(Trace(x=q, y=(data - fitted) / data * 100, mode="lines", showlegend=False,
                                      line=dict(color="#d62728", width=1)), row=2, col=1)
        figure.update_yaxes(type="log", row=1, col=1)
        figure.update_layout(height=620, margin=dict(l=60, r=20, t=30, b=50), uirevision="keep-zoom")
        st.plotly_chart(figure, key="peer-plot")


st.title(f"Latency peer ({engine})")
live_panel()
