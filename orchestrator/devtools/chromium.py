"""Headless Chromium for tests and demos: the DOM of a page after its scripts ran."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class ChromiumMissing(RuntimeError):
    """``chromium`` is not installed (deploy/bootstrap.sh installs Debian's)."""


def dump_dom(url: str, profile: Path, timeout: float = 90.0) -> str:
    """``chromium --headless --dump-dom URL``, with a throw-away profile directory."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise ChromiumMissing("chromium is not installed (apt-get install chromium; "
                              "deploy/bootstrap.sh installs it)")
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"chromium failed (exit {out.returncode}): {out.stderr[-2000:]}")
    return out.stdout
