"""Helpers for the escaping tests: crafted link values and a check that a markdown body keeps them inert.

The check does not call the pages' escaper: it removes every backslash-escaped character (CommonMark: any
ASCII punctuation after a backslash is literal) and then looks, in what is left, for the constructs that
would render live: a link or image (``](``, ``![``), raw HTML tags, emphasis around the payload word; and, in
the text as rendered, a bare URL that GitHub-flavoured markdown (Streamlit's renderer) turns into a link even
when its characters were escaped (found in the browser: remark-gfm links text after escapes are read).
"""

from __future__ import annotations

import re

EVIL = "evil.example"
#: One crafted value per kind of active markdown/HTML (a link, an image, raw HTML, emphasis, a bare URL).
PAYLOADS = (
    f"[log in again](https://{EVIL}/login)",
    f"![x](https://{EVIL}/x.png)",
    "<img src=x onerror=alert(1)>",
    "**bold**",
    f"https://{EVIL}/bare www.{EVIL} :red[red] $x^2$",
)
_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")
_ACTIVE = (
    re.compile(r"\]\("),                      # [text](url) or ![alt](src)
    re.compile(r"<\s*/?\s*[a-zA-Z]"),         # raw HTML tag
    re.compile(r"\*\*bold\*\*|__bold__"),     # emphasis of the payload
    re.compile(r":red\["),                    # Streamlit colour directive
    re.compile(r"\$x\^2\$"),                  # LaTeX
)


#: GitHub-flavoured markdown's bare links (remark-gfm finds them in the text *after* escapes are read).
_AUTOLINK = re.compile(r"https?://|www\.|[-.\w+]@[-\w]+\.", re.I)


def active_parts(body: str) -> list[str]:
    """The active constructs of a markdown ``body``: markup left once its backslash-escaped characters are
    removed, and bare links in its text (the body with the escaping backslashes dropped)."""
    inert = _ESCAPED.sub("§", body)
    text = _ESCAPED.sub(lambda m: m.group(0)[1], body)
    return ([m.group(0) for pattern in _ACTIVE for m in pattern.finditer(inert)]
            + [m.group(0) for m in _AUTOLINK.finditer(text)])


#: Fields of element protos that Streamlit renders as markdown (bodies, labels, help, progress text).
MARKDOWN_FIELDS = {"body", "label", "help", "text", "caption"}


def markdown_texts(at) -> list[str]:
    """Every markdown-rendered string of an AppTest run's elements and blocks (from their protos)."""
    texts: list[str] = []

    def walk_proto(message) -> None:
        for field, value in message.ListFields():
            items = list(value) if isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated") \
                else [value]
            if field.type == field.TYPE_MESSAGE:
                for item in items:
                    walk_proto(item)
            elif field.type == field.TYPE_STRING and field.name in MARKDOWN_FIELDS:
                texts.extend(items)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields") and type(node).__name__ != "Html":
            walk_proto(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return texts


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z]")
_PLOT_TEXT_KEYS = {"name", "text", "title", "hovertext"}


def plot_tags(at) -> list[str]:
    """HTML tags (plotly renders ``<a href>``, ``<b>``...) in the labels of an AppTest run's plotly charts."""
    import json

    found: list[str] = []

    def walk_json(value, key=None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk_json(v, k)
        elif isinstance(value, list):
            for v in value:
                walk_json(v, key)
        elif isinstance(value, str) and key in _PLOT_TEXT_KEYS and _TAG.search(value):
            found.append(value)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        spec = getattr(proto, "spec", None)
        if isinstance(spec, str) and spec.startswith("{"):
            walk_json(json.loads(spec))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found
