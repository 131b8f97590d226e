"""What a data file's header says, in the commands: its element where ``--element`` is not given, and what was taken.

The decisions are :mod:`swaxs_lib.io.header`'s (:func:`~swaxs_lib.io.header.header_facts`,
:func:`~swaxs_lib.io.header.choose_element`); this module applies them to the
parsed flags, says on stderr what came from the header, and builds the
``from_header`` field of the JSON line.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from swaxs_lib.cli.common import say
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.header import ElementChoice, HeaderFacts, choose_element, header_facts


def header_element(args: argparse.Namespace, measurement, *,
                   needed_for: str | None) -> tuple[HeaderFacts, ElementChoice]:
    """Fill ``args.element`` from ``measurement``'s header when the user gave no ``--element``.

    Parameters
    ----------
    args : argparse.Namespace
        With an ``element`` attribute (None when the flag was not given); set in place.
    measurement : Measurement
    needed_for : str or None
        What needs an element, for the message when neither the flag nor the header gives one
        (``"--shape sphere"``); None when the command can do without.

    Returns
    -------
    (HeaderFacts, ElementChoice)

    Raises
    ------
    SwaxsInputError
        ``needed_for`` is set and there is no element (exit status 2).
    """
    facts = header_facts(measurement)
    choice = choose_element(args.element, facts)
    if choice.from_header:
        args.element = choice.element
    if needed_for is not None and args.element is None:
        why = choice.message or f"the header of {measurement.source} states no composition"
        raise SwaxsInputError(f"--element: missing, and {why}; expected a chemical symbol for {needed_for}")
    return facts, choice


def element_for_cluster(args: argparse.Namespace, measurement) -> tuple[HeaderFacts, ElementChoice | None]:
    """:func:`header_element` for the cluster flags: needed with ``--shape``; not used when a file
    (``--structure``, or a crystal ``--cif`` to cut a sphere from) sets the elements."""
    if getattr(args, "structure", None) is not None or getattr(args, "cif", None) is not None:
        return header_facts(measurement), None
    return header_element(args, measurement, needed_for=f"--shape {args.shape}" if args.shape else None)


def from_header(facts: HeaderFacts, choice: ElementChoice | None, measurement, args: argparse.Namespace, *,
                q_min: bool = True, q_max: bool = True) -> dict[str, Any]:
    """The ``from_header`` JSON field: the element and, for G(r) without ``--q-min``/``--q-max``, the Q window.

    ``q_min``/``q_max`` False: the command does not use that bound at all.
    """
    pdf = measurement.domain == "r"
    return facts.taken(
        element=choice is not None and choice.from_header,
        q_min=q_min and pdf and getattr(args, "q_min", None) is None,
        q_max=q_max and pdf and getattr(args, "q_max", None) is None,
    )


def say_header(facts: HeaderFacts, choice: ElementChoice | None, taken: dict[str, Any], *,
               q_window: bool = True) -> None:
    """On stderr: what was taken from the header, a header the user overrode, a header that could not be read.

    ``q_window`` False: the command says where its Q window came from itself.
    """
    for warning in facts.warnings:
        say(f"warning: {warning}")
    if choice is not None:
        if choice.warning:
            say(f"warning: {choice.warning}")
        if choice.message and (choice.from_header or choice.element is None):
            say(choice.message)
    bounds = [(name, f"{label} {taken[key]:g} 1/Å") for name, label, key in
              (("qmin", "Q_min", "q_min_inv_angstrom"), ("qmax", "Q_max", "q_max_inv_angstrom")) if key in taken]
    if bounds and q_window:
        said = [line.strip() for line in facts.q_lines
                if any(re.search(rf"(?<![\w.]){name}\s*=", line) for name, _ in bounds)]
        say(f"{' and '.join(text for _, text in bounds)} from the header of {facts.source} ({'; '.join(said)})")
