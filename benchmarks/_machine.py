"""What every benchmark header says about the run: the commit, local edits, the CPU, package versions."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def version(dist: str) -> str:
    """The installed version of distribution ``dist``, or ``"?"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def git_state(*paths: str) -> tuple[str, bool]:
    """(short commit, whether any of ``paths`` has uncommitted changes)."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", *paths], cwd=REPO, capture_output=True, text=True).stdout
    return commit, bool(dirty)


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else platform's guess, else ``"?"``."""
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "?"
