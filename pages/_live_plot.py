"""The Compare page's live plot: a Streamlit component that computes model, fit and R_w in the browser.

The frontend (``pages/live_plot/``: ``index.html``, ``live_plot.js``) gets the
pieces of :mod:`swaxs_lib.live` and the data with their fit weights, once per
(cluster, data, fit range), as one float64 buffer; it watches the page's own
model sliders (zoom and B; for G(r) zoom, U, delta2, Q damping) in the parent
document and redraws the figure as soon as one of them moves, without waiting
for Streamlit's rerun.  The sliders
stay ordinary Streamlit widgets, so the URL, the metrics, the table, the
downloads and "Save" follow the rerun as on every other page.

Plotly.js is the installed plotly package's own ``plotly.min.js``, copied
with the frontend into a folder under the system's temporary directory (the
component server serves one folder and refuses links out of it): no request
leaves the server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import plotly
import streamlit.components.v1 as components

FRONTEND = Path(__file__).with_name("live_plot")
FILES = ("index.html", "live_plot.js")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _component_dir() -> Path:
    """A folder with the frontend and plotly.min.js, named by their content (built once per version)."""
    digest = hashlib.sha256(b"".join((FRONTEND / f).read_bytes() for f in FILES) + plotly.__version__.encode())
    target = Path(tempfile.gettempdir()) / f"swaxs-live-plot-{digest.hexdigest()[:16]}"
    if not (target / "plotly.min.js").is_file():
        building = Path(tempfile.mkdtemp(prefix="swaxs-live-plot-build-"))
        for name in FILES:
            shutil.copyfile(FRONTEND / name, building / name)
        shutil.copyfile(PLOTLY_JS, building / "plotly.min.js")
        try:
            building.rename(target)
        except OSError:  # another server process built it first
            shutil.rmtree(building, ignore_errors=True)
    return target


_component = components.declare_component("swaxs_live_plot", path=str(_component_dir()))


def live_plot(spec: dict, arrays: dict[str, np.ndarray], *, key: str) -> None:
    """Mount the live plot.

    Parameters
    ----------
    spec : dict
        JSON-able: labels, axes, the sliders to watch (``{"b": "st-key-compare-b", ...}``), their values
        at this run, the candidates' grid layout (see ``live_plot.js``).
    arrays : dict of str to numpy.ndarray
        Named float arrays; packed into one little-endian float64 buffer.
    key : str
        The element's key.
    """
    layout, chunks, offset = {}, [], 0
    for name, array in arrays.items():
        flat = np.ascontiguousarray(array, dtype="<f8").ravel()
        layout[name] = [offset, int(flat.size)]
        chunks.append(flat)
        offset += flat.size
    buffer = np.concatenate(chunks).tobytes()
    view = hashlib.sha1(json.dumps({k: v for k, v in spec.items() if k != "values"}, sort_keys=True).encode())
    spec = dict(spec, layout=layout, key=hashlib.sha1(buffer).hexdigest(), view=view.hexdigest())
    _component(spec=json.dumps(spec), arrays=buffer, key=key, default=None, height=spec["height"])
