"""What a measured file's header says about the sample: its composition, the cluster element, the Q window.

The reduction programs write what they were told about the sample into the
header of the files they produce.  :func:`header_facts` collects it from a
:class:`~swaxs_lib.io.measurement.Measurement` (its ``header`` lines and the
reader's ``metadata``), each fact with the raw header text it came from, so that
the commands and pages can use it where the user has not said otherwise
(:func:`choose_element`) and say what they took (:meth:`HeaderFacts.taken`).

Headers read
------------
* PDFgetX3, PDFgetXgui, xPDFsuite: ``composition = Pt`` (also ``Au144 S60 C180``,
  ``Cd1 Se1``, ``Au144S60C180``, ``(Cd Se)0.5 O``) and ``qmin = 1.0``, ``qmax = 22.0``.
* PDFgetX2: the ``##### Sample_Setup information    num_atoms=2`` table
  (``#L symbol valence fractions z ...`` then one row per element) and the
  S(Q) ``qmin=0.3 qmax=14.0`` of ``SqGr_Optimization Setup``.
* PDFgetN: the ``##### Sample Material    numElements=1`` table
  (``Element relAtomNum atomMass ...`` then one row per element).
* Any other header with a ``composition = ...`` (or ``composition: ...``) line.
  PDFgui's fit exports (``##### PDFgui fit``) state no composition and no Q_min.

The Q window is the reader's ``header_qmin`` and ``header_qmax`` (both, with
0 <= Q_min < Q_max; see :mod:`swaxs_lib.io.columns`); it is the Fourier
transform's range, so it is only used for G(r).

Composition grammar
-------------------
Element symbols as written (capital first letter: ``Co`` is cobalt, ``CO``
carbon and oxygen), each with an optional amount (``Au144``, ``Se0.5``; 1 if
none); groups in round or square brackets with an optional multiplier; spaces,
commas, semicolons or ``·`` between them.  Anything else (an unknown symbol,
a lone number, an amount of 0, unbalanced brackets) makes the composition
unreadable: that is a warning in :attr:`HeaderFacts.warnings`, never an error.

The cluster element
-------------------
The clusters here are of one element.  The composition implies it when it
names exactly one element, or exactly one of the metals
:data:`~swaxs_lib.structures.parameters.COMMON_ELEMENTS` (Au, Ag, Pt, Pd,
Cu, Ni) with only light non-metal elements besides (:data:`LIGAND_ELEMENTS`:
thiolate and phosphine ligands, solvent, an oxide or carbon support), which
are then ignored with a note (``Au144 S60 C180`` -> Au).  Two such metals (an
alloy), a metal with another heavy element (``Fe Pt``), or several elements
none of which is one of those metals (``CdSe``) imply no element: the note
says so and the element is left to the user.

Examples
--------
>>> parse_composition("Au144 S60 C180")
(('Au', 144.0), ('S', 60.0), ('C', 180.0))
>>> parse_composition("CdSe")
(('Cd', 1.0), ('Se', 1.0))
>>> cluster_element((("Au", 144.0), ("S", 60.0), ("C", 180.0)))[0]
'Au'
>>> print(cluster_element((("Cd", 1.0), ("Se", 1.0)))[0])
None
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ase.data import chemical_symbols

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement

#: Light non-metal elements that may stand beside the cluster's metal in a composition (ligands:
#: S, C, H, N, O, P, halides; solvent; an oxide, silica or carbon support) and are ignored.
LIGAND_ELEMENTS = ("H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Br", "I")

_SYMBOLS = frozenset(chemical_symbols[1:])
_COMPOSITION_LINE = re.compile(r"^[\s#;!]*composition\s*(?:=|:)\s*(\S.*?)\s*$", re.IGNORECASE)
_Q_LINE = {name: re.compile(rf"(?<![\w.]){name}\s*=\s*\S+") for name in ("qmin", "qmax")}
#: A composition table's section line (PDFgetX2 Sample_Setup, PDFgetN Sample Material) and its row count.
_TABLE_START = re.compile(r"#{3,}\s*(Sample_Setup information|Sample Material)\b.*?"
                          r"\b(?:num_atoms|numElements)\s*=\s*(\d+)", re.IGNORECASE)
_CELL_PREFIX = re.compile(r"^[#!;]+(?:L(?=\s))?\s*")
_TOKEN = re.compile(r"\s*(?:(?P<symbol>[A-Z][a-z]?)|(?P<open>[(\[])|(?P<close>[)\]])|(?P<sep>[,;·])"
                    r"|(?P<number>\d+(?:\.\d*)?|\.\d+))")


@dataclass(frozen=True)
class HeaderFacts:
    """What a measurement's header says about the sample, each fact with the text it came from.

    Attributes
    ----------
    source : str
        The measurement's file name, for messages.
    composition : tuple of (str, float)
        Element symbols and amounts, in the header's order; ``()`` when the header gives none
        (or an unreadable one).
    composition_text : str or None
        What the header said, short: ``"composition = Pt"``, or for a table
        ``"Sample_Setup table: Cd 1, Se 1"``.
    composition_lines : tuple of str
        The raw header line(s) the composition came from, verbatim.
    element : str or None
        The cluster element the composition implies (see the module docstring).
    element_note : str or None
        Why ``element`` is what it is when that is not plain (ligand elements ignored;
        no single element).
    q_min_inv_angstrom, q_max_inv_angstrom : float or None
        The header's Q window (1/Å) of the G(r) transform, both or neither.
    q_lines : tuple of str
        The raw header line(s) the Q window came from.
    warnings : tuple of str
        A header fact that could not be read (a malformed composition).
    """

    source: str
    composition: tuple[tuple[str, float], ...] = ()
    composition_text: str | None = None
    composition_lines: tuple[str, ...] = ()
    element: str | None = None
    element_note: str | None = None
    q_min_inv_angstrom: float | None = None
    q_max_inv_angstrom: float | None = None
    q_lines: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def q_range_inv_angstrom(self) -> tuple[float, float] | None:
        """(Q_min, Q_max) in 1/Å, or None."""
        if self.q_min_inv_angstrom is None or self.q_max_inv_angstrom is None:
            return None
        return self.q_min_inv_angstrom, self.q_max_inv_angstrom

    @property
    def elements(self) -> tuple[str, ...]:
        """The composition's element symbols."""
        return tuple(symbol for symbol, _ in self.composition)

    def taken(self, *, element: bool = False, q_min: bool = False, q_max: bool = False) -> dict[str, Any]:
        """What a command or page took from the header, as the ``from_header`` JSON field.

        Parameters
        ----------
        element, q_min, q_max : bool
            Whether the element, Q_min and Q_max were taken from the header (the user gave
            none and the data need them); each is included only when the header has it.

        Returns
        -------
        dict
            ``{"element": "Pt", "composition": "composition = Pt", "q_min_inv_angstrom": 1.0,
            "q_max_inv_angstrom": 22.0}``, or fewer keys; ``{}`` when nothing was taken.
        """
        out: dict[str, Any] = {}
        if element and self.element is not None:
            out["element"] = self.element
            out["composition"] = self.composition_text
        if q_min and self.q_min_inv_angstrom is not None:
            out["q_min_inv_angstrom"] = self.q_min_inv_angstrom
        if q_max and self.q_max_inv_angstrom is not None:
            out["q_max_inv_angstrom"] = self.q_max_inv_angstrom
        return out


@dataclass(frozen=True)
class ElementChoice:
    """The element to use, given what the user said and what the header says.

    Attributes
    ----------
    element : str or None
        The user's element if given, else the header's; None when neither gives one.
    from_header : bool
        Whether ``element`` came from the header.
    message : str or None
        What was taken and from where (``element Pt from the header of JQ_S1.gr (composition = Pt)``),
        or why the header gave none; for stderr or a caption.
    warning : str or None
        The user's element contradicts the header (the user's wins).
    """

    element: str | None
    from_header: bool
    message: str | None = None
    warning: str | None = None


def parse_composition(text: str) -> tuple[tuple[str, float], ...]:
    """Element symbols and amounts of a chemical formula as a PDF header writes it.

    Parameters
    ----------
    text : str
        ``Pt``, ``CdSe``, ``Au144 S60 C180``, ``Cd1 Se1``, ``Au144S60C180``, ``(CdSe)2 O``...
        (the grammar is in the module docstring).

    Returns
    -------
    tuple of (str, float)
        One entry per element, in order of first appearance; repeated elements summed.

    Raises
    ------
    SwaxsInputError
        Text that is not such a formula (naming the offending part).

    Examples
    --------
    >>> parse_composition("Cd1 Se1")
    (('Cd', 1.0), ('Se', 1.0))
    >>> parse_composition("(Cd Se)0.5 O")
    (('Cd', 0.5), ('Se', 0.5), ('O', 1.0))
    >>> parse_composition("Xx3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    swaxs_lib.errors.SwaxsInputError: composition 'Xx3': 'Xx' at character 1 is not an element symbol; ...
    """
    expected = "expected element symbols with optional amounts, e.g. Pt, CdSe or Au144 S60 C180"
    if not isinstance(text, str) or not text.strip():
        raise SwaxsInputError(f"composition {text!r}: empty; {expected}")
    stack: list[list[tuple[str, float]]] = [[]]
    # what an amount right after applies to: ("atom", index) or ("group", first index) in stack[-1]
    last: tuple[str, int] | None = None
    stripped = text.strip()
    position = 0
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            bad = stripped[position:].lstrip()[:12]
            raise SwaxsInputError(f"composition {text!r}: {bad!r} at character {position + 1} is not part of a "
                                  f"formula; {expected}")
        where = match.start(match.lastgroup) + 1
        position = match.end()
        if match.group("symbol"):
            symbol = match.group("symbol")
            if symbol not in _SYMBOLS:
                raise SwaxsInputError(f"composition {text!r}: {symbol!r} at character {where} is not an element "
                                      f"symbol; {expected}")
            stack[-1].append((symbol, 1.0))
            last = ("atom", len(stack[-1]) - 1)
        elif match.group("open"):
            stack.append([])
            last = None
        elif match.group("close"):
            if len(stack) == 1:
                raise SwaxsInputError(f"composition {text!r}: unmatched {match.group('close')!r} at character "
                                      f"{where}; {expected}")
            group = stack.pop()
            if not group:
                raise SwaxsInputError(f"composition {text!r}: empty brackets at character {where}; {expected}")
            last = ("group", len(stack[-1]))
            stack[-1].extend(group)
        elif match.group("sep"):
            last = None
        else:
            number = match.group("number")
            if last is None:
                raise SwaxsInputError(f"composition {text!r}: the number {number!r} at character {where} follows "
                                      f"no element; {expected}")
            amount = float(number)
            if amount <= 0:
                raise SwaxsInputError(f"composition {text!r}: amount {number!r} at character {where}; expected a "
                                      "positive amount")
            how, index = last
            items = stack[-1]
            if how == "atom":
                items[index] = (items[index][0], items[index][1] * amount)
            else:
                items[index:] = [(s, n * amount) for s, n in items[index:]]
            last = None
    if len(stack) > 1:
        raise SwaxsInputError(f"composition {text!r}: an opening bracket is not closed; {expected}")
    totals: dict[str, float] = {}
    for symbol, amount in stack[0]:
        totals[symbol] = totals.get(symbol, 0.0) + amount
    return tuple(totals.items())


def cluster_element(composition) -> tuple[str | None, str | None]:
    """The one element a cluster of this composition is built of, and a note when that is not plain.

    Parameters
    ----------
    composition : sequence of (str, float)
        As :func:`parse_composition` returns it.

    Returns
    -------
    element : str or None
        The single element; or the one metal of Au, Ag, Pt, Pd, Cu, Ni when the others are all
        :data:`LIGAND_ELEMENTS`; else None.
    note : str or None
        Ligand elements ignored, or why there is no single element; None for a one-element composition.

    Examples
    --------
    >>> cluster_element([("Pt", 1.0)])
    ('Pt', None)
    >>> cluster_element([("Au", 144.0), ("S", 60.0), ("C", 180.0)])[1]
    'ligand elements S, C ignored: the cluster is of Au'
    """
    from swaxs_lib.structures.parameters import COMMON_ELEMENTS

    symbols = [symbol for symbol, _ in composition]
    if not symbols:
        return None, None
    if len(symbols) == 1:
        return symbols[0], None
    metals = [s for s in symbols if s in COMMON_ELEMENTS]
    others = [s for s in symbols if s not in COMMON_ELEMENTS]
    heavy = [s for s in others if s not in LIGAND_ELEMENTS]
    listed = ", ".join(symbols)
    if len(metals) == 1 and not heavy:
        return metals[0], f"ligand elements {', '.join(others)} ignored: the cluster is of {metals[0]}"
    if len(metals) > 1:
        reason = f"{len(metals)} cluster metals ({', '.join(metals)}): an alloy"
    elif metals:
        reason = f"{metals[0]} with {', '.join(heavy)}, which is not a ligand element"
    else:
        reason = f"{len(symbols)} elements ({listed}) and none of {', '.join(COMMON_ELEMENTS)}"
    return None, f"{reason}: no single cluster element, so the element is left to the user"


def header_facts(measurement: Measurement) -> HeaderFacts:
    """What ``measurement``'s header says about composition, cluster element and Q window.

    Parameters
    ----------
    measurement : Measurement
        As a reader or the store returns it (its ``header`` lines and ``metadata``).

    Returns
    -------
    HeaderFacts
        Empty facts (no composition, no Q window) for a header that states neither; a malformed
        composition is a warning in ``warnings``, never an exception.

    Examples
    --------
    >>> from swaxs_lib.io import read_measurement_bytes
    >>> m = read_measurement_bytes(b"composition = Pt\\nqmin = 1.0\\nqmax = 22.0\\n#### start data\\n1 0.5\\n2 0.1\\n",
    ...                            "s.gr")
    >>> facts = header_facts(m)
    >>> facts.element, facts.composition_text, facts.q_range_inv_angstrom
    ('Pt', 'composition = Pt', (1.0, 22.0))
    >>> facts.taken(element=True, q_max=True)
    {'element': 'Pt', 'composition': 'composition = Pt', 'q_max_inv_angstrom': 22.0}
    """
    header = tuple(str(line) for line in measurement.header)
    warnings: list[str] = []
    composition: tuple[tuple[str, float], ...] = ()
    text = None
    lines: tuple[str, ...] = ()
    found = _composition_line(header) or _composition_table(header)
    if found is not None:
        formula, text, lines = found
        try:
            composition = parse_composition(formula)
        except SwaxsInputError as exc:
            warnings.append(f"the header of {measurement.source} says {lines[0].strip()!r}, which is not read: {exc}; "
                            "the element is not taken from it")
    element, note = cluster_element(composition)
    q_min, q_max, q_lines = _q_window(measurement, header)
    return HeaderFacts(
        source=measurement.source, composition=composition, composition_text=text if composition else None,
        composition_lines=lines if composition else (), element=element, element_note=note,
        q_min_inv_angstrom=q_min, q_max_inv_angstrom=q_max, q_lines=q_lines, warnings=tuple(warnings),
    )


def choose_element(given: str | None, facts: HeaderFacts, *, flag: str = "--element") -> ElementChoice:
    """The element to use: the user's if given (a contradicting header is a warning), else the header's.

    Parameters
    ----------
    given : str or None
        What the user set (a flag, a widget); None when they set nothing.
    facts : HeaderFacts
        From :func:`header_facts`.
    flag : str
        How the user's setting is named in messages (``--element``, ``the Element box``).

    Returns
    -------
    ElementChoice

    Examples
    --------
    >>> facts = HeaderFacts("JQ_S1.gr", (("Pt", 1.0),), "composition = Pt", ("composition = Pt",), "Pt")
    >>> choose_element(None, facts).message
    'element Pt from the header of JQ_S1.gr (composition = Pt)'
    >>> choice = choose_element("Au", facts)
    >>> choice.element, choice.warning
    ('Au', '--element Au is used, but the header of JQ_S1.gr says composition = Pt (element Pt)')
    """
    if given is not None:
        symbol = str(given).strip()
        symbol = symbol[:1].upper() + symbol[1:].lower()
        warning = None
        if facts.element is not None and symbol != facts.element:
            warning = (f"{flag} {symbol} is used, but the header of {facts.source} says {facts.composition_text} "
                       f"(element {facts.element})")
        elif facts.composition and symbol not in facts.elements:
            warning = (f"{flag} {symbol} is used, but the header of {facts.source} says {facts.composition_text} "
                       f"(no {symbol} in it)")
        return ElementChoice(element=given, from_header=False, warning=warning)
    if facts.element is not None:
        message = f"element {facts.element} from the header of {facts.source} ({facts.composition_text})"
        if facts.element_note:
            message += f"; {facts.element_note}"
        return ElementChoice(element=facts.element, from_header=True, message=message)
    if facts.composition:
        return ElementChoice(element=None, from_header=False,
                             message=f"no element from the header of {facts.source} ({facts.composition_text}): "
                                     f"{facts.element_note}")
    return ElementChoice(element=None, from_header=False)


def describe_use(facts: HeaderFacts, *, elements: Sequence[str] = (), q_min_inv_angstrom: float | None = None,
                 q_max_inv_angstrom: float | None = None) -> str | None:
    """One sentence for a page: what was taken from the header, what is set differently, what could not be read.

    Parameters
    ----------
    facts : HeaderFacts
    elements : sequence of str
        The element(s) in use (a page's element choices); empty when the page uses none.  A
        composition that names no single element is mentioned either way.
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        The Q window in use (1/Å); None where the page does not use one (Q-space data).

    Returns
    -------
    str or None
        None when the header says nothing the page uses.

    Examples
    --------
    >>> facts = HeaderFacts("JQ_S1.gr", (("Pt", 1.0),), "composition = Pt", ("composition = Pt",), "Pt",
    ...                     q_min_inv_angstrom=1.0, q_max_inv_angstrom=22.0)
    >>> describe_use(facts, elements=["Pt"], q_min_inv_angstrom=1.0, q_max_inv_angstrom=22.0)
    'From the header of JQ_S1.gr: element Pt (composition = Pt), Q_min 1 1/Å, Q_max 22 1/Å.'
    >>> print(describe_use(facts, elements=["Au"], q_min_inv_angstrom=0.5, q_max_inv_angstrom=22.0)
    ...       .replace(". ", ".\\n"))
    From the header of JQ_S1.gr: Q_max 22 1/Å.
    Set here instead: element Au (the header says composition = Pt), Q_min 0.5 1/Å (the header says 1 1/Å).
    """
    taken: list[str] = []
    instead: list[str] = []
    notes = [f"{w[:1].upper()}{w[1:]}{'' if w.endswith('.') else '.'}" for w in facts.warnings]
    if facts.element is not None and elements:
        if facts.element in elements:
            taken.append(f"element {facts.element} ({facts.composition_text}"
                         + (f"; {facts.element_note})" if facts.element_note else ")"))
        others = sorted({e for e in elements if e != facts.element})
        if others:
            instead.append(f"element {', '.join(others)} (the header says {facts.composition_text})")
    elif facts.composition:
        notes.append(f"The header of {facts.source} says {facts.composition_text}; {facts.element_note}.")
    for label, header_value, used in (("Q_min", facts.q_min_inv_angstrom, q_min_inv_angstrom),
                                      ("Q_max", facts.q_max_inv_angstrom, q_max_inv_angstrom)):
        if header_value is None or used is None:
            continue
        if math.isclose(used, header_value, rel_tol=1e-5, abs_tol=1e-9):  # a link keeps 6 digits
            taken.append(f"{label} {header_value:g} 1/Å")
        else:
            instead.append(f"{label} {used:g} 1/Å (the header says {header_value:g} 1/Å)")
    parts = []
    if taken:
        parts.append(f"From the header of {facts.source}: {', '.join(taken)}.")
    if instead:
        parts.append(f"Set here instead: {', '.join(instead)}.")
    parts += notes
    return " ".join(parts) or None


def _composition_line(header: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]] | None:
    for line in header:
        match = _COMPOSITION_LINE.match(line)
        if match:
            formula = match.group(1)
            return formula, f"composition = {formula}", (line,)
    return None


def _cells(line: str) -> list[str]:
    """A table line's cells, without its comment mark (``#``, ``# ``, PDFgetX's ``#L``)."""
    return _CELL_PREFIX.sub("", line.strip()).split()


def _composition_table(header: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]] | None:
    """A PDFgetX2 Sample_Setup or PDFgetN Sample Material table as a formula (``Cd1.000000 Se1.000000``)."""
    for index, line in enumerate(header):
        start = _TABLE_START.search(line)
        if not start:
            continue
        count = int(start.group(2))
        labels = [label.lower() for label in _cells(header[index + 1])] if index + 1 < len(header) else []
        symbol_column = next((i for i, name in enumerate(labels) if name in ("symbol", "element")), None)
        amount_column = next((i for i, name in enumerate(labels) if name in ("fractions", "fraction", "relatomnum")),
                             None)
        rows = header[index + 2:index + 2 + count]
        if symbol_column is None or amount_column is None or count < 1 or len(rows) < count:
            return None
        pairs = []
        for row in rows:
            cells = _cells(row)
            if len(cells) <= max(symbol_column, amount_column):
                return None
            pairs.append((cells[symbol_column], cells[amount_column]))
        formula = " ".join(f"{symbol}{amount}" for symbol, amount in pairs)
        said = ", ".join(f"{symbol} {_short(amount)}" for symbol, amount in pairs)
        return formula, f"{start.group(1).replace(' information', '')} table: {said}", (line, header[index + 1], *rows)
    return None


def _short(number: str) -> str:
    try:
        return f"{float(number):g}"
    except ValueError:
        return number


def header_q_range(measurement: Measurement) -> tuple[float, float] | None:
    """(Q_min, Q_max) in 1/Å of a PDF file's transform, from its header's ``qmin`` and ``qmax``; None if absent.

    Both must be stated, finite, with 0 <= Q_min < Q_max.
    """
    meta = dict(measurement.metadata)
    try:
        q_min, q_max = float(meta["header_qmin"]), float(meta["header_qmax"])
    except (KeyError, ValueError):
        return None
    if not (math.isfinite(q_min) and math.isfinite(q_max) and 0 <= q_min < q_max):
        return None
    return q_min, q_max


def _q_window(measurement: Measurement, header: tuple[str, ...]) -> tuple[float | None, float | None, tuple[str, ...]]:
    window = header_q_range(measurement)
    if window is None:
        return None, None, ()
    lines: list[str] = []
    for name in ("qmin", "qmax"):
        line = next((line for line in header if _Q_LINE[name].search(line)), None)
        if line is not None and line not in lines:
            lines.append(line)
    return window[0], window[1], tuple(lines)


__all__ = ["LIGAND_ELEMENTS", "ElementChoice", "HeaderFacts", "choose_element", "cluster_element", "describe_use",
           "header_facts", "header_q_range", "parse_composition"]
