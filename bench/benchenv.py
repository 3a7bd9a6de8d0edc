"""What every benchmark's environment header reads: the CPU's name and the git commit.

Imported by the scripts in ``bench/`` (which put ``bench/`` on ``sys.path``); not a script.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def read_text(path: str) -> str:
    """A small system file's text, or "" when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's marketing name (x86 ``model name``; on a Raspberry Pi the board model)."""
    info = read_text("/proc/cpuinfo")
    for key in ("model name", "Model", "Hardware", "cpu model"):
        m = re.search(rf"^{key}\s*:\s*(.+)$", info, re.MULTILINE)
        if m:
            return m.group(1).strip()
    board = read_text("/proc/device-tree/model").strip("\x00 \n")
    if board:
        return board
    if sys.platform == "darwin":
        try:
            name = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                  capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            name = ""
        if name:
            return name
    return platform.processor() or platform.machine()


def git_commit(mark_dirty: bool = False) -> str:
    """The repository's short HEAD commit ("" outside a git checkout); with ``mark_dirty``,
    ``-dirty`` appended when tracked files have uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if mark_dirty and git("status", "--porcelain", "--untracked-files=no"):
            commit += "-dirty"
    except (OSError, subprocess.CalledProcessError):
        return ""
    return commit
