"""The one exception family for input a user can get wrong.

Every user-facing check raises :class:`SwaxsInputError` (or a subclass) with a
message that names the parameter, file or line, the value received and what was
expected.  The command line turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations


class SwaxsInputError(ValueError):
    """Invalid input: a parameter, file or line that does not meet the rules.

    Parameters
    ----------
    message : str
        Names what was wrong (parameter, file, line), the value received and
        what was expected.
    """
