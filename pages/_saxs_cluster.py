"""SAXS page, section "Cluster models" (filled in by its own change)."""

from __future__ import annotations

import streamlit as st

#: This section's URL parameters (its widgets' ``url_key`` names).
URL_NAMES: tuple[str, ...] = ()


def render(dataset_id: str, measurement) -> None:
    """Draw this section for the stored I(Q) ``dataset_id`` (its ``measurement``, Q in 1/Å)."""
    st.info("Cluster models: not built yet.")
