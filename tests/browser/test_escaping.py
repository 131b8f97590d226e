"""Crafted links render nothing active in a real browser (issue 19, item 4).

Every page is opened from a link whose every query parameter holds a crafted value (a markdown link and an
image to another site, raw HTML with an ``onerror`` handler, emphasis, a bare URL: ``tests/escaping.py``), with a
crafted dataset name and file name in the store; the rendered page must hold no ``<a href>`` to that site, no
``<img>`` from it or with ``src=x``, no ``<strong>`` made from the payload, and show the crafted text as text.
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.store import Store
from tests.escaping import EVIL, PAYLOADS
from tests.test_pages_escaping import OPENINGS, PARAMETERS

ACTIVE_JS = f"""() => {{
  const docs = [document, ...[...document.querySelectorAll('iframe')].map(f => {{
    try {{ return f.contentDocument; }} catch (e) {{ return null; }} }}).filter(Boolean)];
  const found = [];
  for (const d of docs) {{
    const host = u => {{ try {{ return new URL(u, location.href).hostname; }} catch (e) {{ return ''; }} }};
    for (const a of d.querySelectorAll('a[href]')) if (host(a.href).endsWith('{EVIL}')) found.push('a ' + a.href);
    for (const i of d.querySelectorAll('img')) {{
      const src = i.getAttribute('src') || '';
      if (host(src).endsWith('{EVIL}') || src === 'x') found.push('img ' + src);
    }}
    for (const s of d.querySelectorAll('strong, b')) if (s.textContent.trim() === 'bold') found.push('strong bold');
  }}
  return found;
}}"""


def test_crafted_links_render_nothing_active_on_any_page(app_url, app_db, page):
    q = np.linspace(0.02, 0.5, 60)
    raw = "".join(f"{a:.6g} {b:.6g}\n" for a, b in zip(q, 1e3 * np.exp(-(q * 20) ** 2 / 5) + 1)).encode()
    crafted = Store(app_db).add_dataset(f"{PAYLOADS[0]} {PAYLOADS[2]} <a href='https://{EVIL}'>x</a>", raw,
                                        f"{PAYLOADS[1]}.dat", read_measurement_bytes(raw, "crafted.dat")).id
    seen = {}
    for path, fixed in OPENINGS:
        query = {name: PAYLOADS[k % len(PAYLOADS)] for k, name in enumerate(PARAMETERS)}
        query.update({name: crafted if value == "DS" else value for name, value in fixed.items()})
        slug = "" if path == "app.py" else path.removeprefix("pages/").removesuffix(".py")
        page.goto(f"{app_url}/{slug}?{urlencode(query)}")
        page.locator('[data-testid="stSidebar"]').get_by_text("Plot image format").wait_for(timeout=60_000)
        page.wait_for_timeout(2_500)  # the body's last elements (a warning shown after the widgets) drawn
        found = page.evaluate(ACTIVE_JS)
        assert not found, (path, fixed, found)
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "Traceback" not in body, (path, body[-2000:])
        seen[f"{slug}{fixed.get('section', '')}"] = any(w in body for w in ("log in again", EVIL, "onerror"))
    assert sum(seen.values()) >= len(OPENINGS) - 3, seen  # the crafted text is shown, as text, on most pages
