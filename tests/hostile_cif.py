"""A one-block crystal cif of chosen cell and sites, for the bound tests and ``benchmarks/bounds.py``."""

from __future__ import annotations

CIF = """data_x
_cell_length_a {a}
_cell_length_b {a}
_cell_length_c {c}
_cell_angle_alpha {alpha}
_cell_angle_beta {alpha}
_cell_angle_gamma {gamma}
_symmetry_space_group_name_H-M '{group}'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
{occupancy}{sites}
"""


def cif_text(a=4.08, alpha=90, gamma=90, group="F m -3 m", sites="Au1 Au 0 0 0", c=None, occupancy=False) -> str:
    """A cif of edges a = b and ``c`` (Å; ``a`` when None; angles alpha = beta, gamma in degrees), space group
    ``group`` and ``sites`` (one ``label symbol x y z`` line each, then the occupancy if ``occupancy``); the
    default is gold."""
    return CIF.format(a=a, c=a if c is None else c, alpha=alpha, gamma=gamma, group=group, sites=sites,
                      occupancy="_atom_site_occupancy\n" if occupancy else "")
