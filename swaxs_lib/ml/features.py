"""Feature vectors: a curve on a model's window, made independent of the unknown scale.

=========  ======  =====================  ==========================================
window     kind    range                  feature
=========  ======  =====================  ==========================================
``saxs``   I(Q)    0.02 .. 1.0 1/Å        log10 I - its mean (120 log-spaced points)
``waxs``   I(Q)    2.4 .. 10.0 1/Å        log10 I - its mean (191 points, 0.04 1/Å)
``iq``     I(Q)    0.02 .. 10.0 1/Å       both, and 1 .. 2.4 between (345 points)
``gr``     G(r)    2.0 .. 30.0 Å          G / rms(G) (281 points, 0.1 Å)
=========  ======  =====================  ==========================================

The WAXS window starts at 2.4 1/Å, below the first Bragg peak of every
element here (Ag/Au (111) at 2.67 1/Å) and where lab S(Q) data start (the
Mo Kα file in ``shared/data``), and ends at 10 1/Å, which a Mo source or any
synchrotron reaches; above 10 1/Å thermal damping leaves little shape
information.  A measured curve is interpolated (linearly in log I) onto the
window's points and must cover the window to within 2 % at each end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.simulate import Q_GRID, R_GRID


@dataclass(frozen=True)
class Window:
    """A model's input: which curve, over which range, at which points."""

    name: str
    kind: str  # "iq" or "gr"
    low: float
    high: float
    points: np.ndarray

    @property
    def unit(self) -> str:
        return "1/Å" if self.kind == "iq" else "Å"

    def covered_by(self, x: np.ndarray) -> bool:
        """Whether abscissae ``x`` reach both ends of the window (2 % slack)."""
        span = self.high - self.low
        return bool(len(x) and np.min(x) <= self.low + 0.02 * span and np.max(x) >= self.high - 0.02 * span)


def _window(name: str, kind: str, low: float, high: float, step: int = 1) -> Window:
    grid = Q_GRID if kind == "iq" else R_GRID
    keep = (grid >= low - 1e-9) & (grid <= high + 1e-9)
    return Window(name, kind, low, high, grid[keep][::step].copy())


WINDOWS: dict[str, Window] = {
    "saxs": _window("saxs", "iq", 0.02, 1.0),
    "waxs": _window("waxs", "iq", 2.4, 10.0),
    "iq": _window("iq", "iq", 0.02, 10.0),
    "gr": _window("gr", "gr", 2.0, 30.0, step=2),
}


def features(window: Window, x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The feature vector(s) of curve(s) ``values`` sampled at ``x`` on ``window``.

    Parameters
    ----------
    window : Window
    x : numpy.ndarray (n,)
        Q (1/Å) or r (Å), increasing.
    values : numpy.ndarray (n,) or (m, n)
        I(Q) (> 0 where used) or G(r).

    Returns
    -------
    numpy.ndarray (len(window.points),) or (m, len(window.points)), float32

    Raises
    ------
    SwaxsInputError
        The curve does not cover the window, or I(Q) is not positive on it.
    """
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    if not window.covered_by(x):
        raise SwaxsInputError(
            f"{window.name} window: the curve spans {x.min():.3g}..{x.max():.3g} {window.unit}; expected "
            f"{window.low}..{window.high} {window.unit}"
        )
    single = values.ndim == 1
    rows = values[None, :] if single else values
    on_grid = np.array_equal(x, Q_GRID if window.kind == "iq" else R_GRID)
    if on_grid:
        index = np.searchsorted(x, window.points - 1e-9)
        picked = rows[:, index]
    else:
        picked = None
    if window.kind == "iq":
        if picked is None:
            inside = (x >= window.low * 0.9) & (x <= window.high * 1.1)
            if np.any(rows[:, inside] <= 0):
                raise SwaxsInputError(f"{window.name} window: I(Q) has values <= 0; expected a positive intensity "
                                      "(subtract less background)")
            logs = np.log10(np.maximum(rows, 1e-300))
            picked_log = np.array([np.interp(window.points, x, row) for row in logs])
        else:
            if np.any(picked <= 0):
                raise SwaxsInputError(f"{window.name} window: I(Q) has values <= 0; expected a positive intensity")
            picked_log = np.log10(picked)
        out = picked_log - picked_log.mean(axis=1, keepdims=True)
    else:
        if picked is None:
            picked = np.array([np.interp(window.points, x, row) for row in rows])
        rms = np.sqrt(np.mean(picked**2, axis=1, keepdims=True))
        if np.any(rms <= 0):
            raise SwaxsInputError(f"{window.name} window: G(r) is zero; expected a pair distribution function")
        out = picked / rms
    out = out.astype(np.float32)
    return out[0] if single else out


__all__ = ["WINDOWS", "Window", "features"]
