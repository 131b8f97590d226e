"""No link parameter, dataset name or file name renders as markdown or HTML on any page (issue 19, item 4).

Every page is opened (AppTest, no browser) from a crafted link: each query parameter any page reads holds
one of the crafted values of ``tests/escaping.py`` (a markdown link to another site, an image, raw HTML,
emphasis, a bare URL, a colour directive, LaTeX), assigned in turn so that each kind reaches several
parameters; the store holds datasets whose names and file names are crafted the same way.  Every
markdown-rendered string of the page (alert and markdown bodies, captions, labels, help, progress text)
must hold them only escaped, and plot labels no HTML tag (``tests/escaping.active_parts``,
``plot_tags``: independent of the pages' escaper).  The browser test ``tests/browser/test_escaping.py``
checks the rendered DOM.
"""

from __future__ import annotations

import numpy as np
import pytest

from pages import _saxs_cluster, _saxs_dist, _saxs_fit, _saxs_guinier, _saxs_index
from pages._shared import md, md_value
from tests.escaping import EVIL, PAYLOADS, active_parts, markdown_texts, plot_tags
from tests.test_pages import add_text_dataset, app, db  # noqa: F401  (db: the fixture)

#: Every query parameter a page reads (grep of url_key, url_given, dataset_key and query_params in pages/).
PARAMETERS = (
    "ds bg view xmin xmax scale ts tb thick job cjob grid el shape sel ov fam qdamp prior n xr qmin qmax sas "
    "logy logx workers lat np step play opt fmax steps every style color bin match cluster a b u zoom delta2 "
    "c1_shape c1_el c1_cluster c1_a c2_shape c2_el shells p q r wlo whi section"
).split() + [name for section in (_saxs_cluster, _saxs_dist, _saxs_fit, _saxs_guinier, _saxs_index)
             for name in section.URL_NAMES]
#: (page, parameters fixed to a valid value so that the page draws its body; "DS" is the crafted dataset's id).
OPENINGS = (
    ("app.py", {}), ("pages/data.py", {"ds": "DS"}), ("pages/analyse.py", {"ds": "DS"}),
    ("pages/clusters.py", {"shape": "upload"}), ("pages/compare.py", {"ds": "DS"}), ("pages/refine.py", {"ds": "DS"}),
    ("pages/relax.py", {"ds": "DS"}), ("pages/predict.py", {"ds": "DS"}), ("pages/saxs.py", {"ds": "DS", "section": "fit"}),
    ("pages/saxs.py", {"ds": "DS", "section": "dist"}), ("pages/saxs.py", {"ds": "DS", "section": "guinier"}),
)


@pytest.mark.parametrize("page, fixed", OPENINGS, ids=[f"{p}-{f.get('section', '')}" for p, f in OPENINGS])
def test_crafted_links_and_names_render_inert(db, page, fixed, monkeypatch, tmp_path):  # noqa: F811
    q = np.linspace(0.02, 0.5, 60)
    crafted = add_text_dataset(db, f"{PAYLOADS[0]} {PAYLOADS[2]} <a href='https://{EVIL}'>x</a>", q,
                               1e3 * np.exp(-(q * 20) ** 2 / 5) + 1, filename=f"{PAYLOADS[1]}.dat")
    at = app(page)
    for k, name in enumerate(PARAMETERS):
        at.query_params[name] = PAYLOADS[k % len(PAYLOADS)]
    for name, value in fixed.items():
        at.query_params[name] = crafted if value == "DS" else value
    if page == "pages/predict.py":  # no trained model: the page's link parameters are read and reported first
        monkeypatch.setenv("SWAXS_MODELS", str(tmp_path / "no-models"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    texts = markdown_texts(at)
    if "_url_warnings" in at.session_state:  # parameters read after the page showed its warnings: the next run's
        at.run()
        texts += markdown_texts(at)
    live = {t[:120]: active_parts(t) for t in texts if active_parts(t)}
    assert not live, live
    assert not plot_tags(at)
    if page != "app.py":  # the crafted values are shown (escaped), not dropped: a warning names them
        assert any(word in t for t in texts for word in ("log in again", EVIL, "bold", "onerror"))


def test_long_values_are_cut_in_messages():
    value = "[a](https://evil.example/" + "x" * 5000 + ")"
    shown = md_value(value)
    assert len(shown.replace("\\", "").replace("\u2060", "")) == 80 and shown.endswith("…")
    assert not active_parts(shown)
    assert not active_parts(md("https://evil.example www.evil.example WWW.evil.example a@b.example"))
    assert not active_parts(md("title\n===\n# h"))


def test_a_long_link_value_is_cut_in_its_warning(db):  # noqa: F811
    at = app("pages/data.py")
    at.query_params["view"] = "[x](https://evil.example/" + "y" * 5000 + ")"
    at.run()
    [warning] = [w.value for w in at.warning if "view=" in w.value]
    assert "…" in warning and len(warning) < 400, len(warning)
