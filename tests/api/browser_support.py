"""What the page tests share: the headless Chromium they drive (Debian's, through Playwright),
where screenshots go, and the skip when something the browser needs is not installed.

A page test module calls :func:`require_browser` at import (it skips the whole module, saying what
to install) and takes the ``browser`` fixture of ``tests/api/conftest.py``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_browser():
    """playwright.sync_api, or skip the calling module naming what is missing."""
    if not CHROMIUM.exists():
        pytest.skip("SKIPPED: /usr/bin/chromium is missing: install Debian's chromium (`make browser`, "
                    "needs root or sudo) to run the browser tests", allow_module_level=True)
    if not (ROOT / "node_modules" / "leaflet" / "dist" / "leaflet.js").exists():
        pytest.skip("SKIPPED: Leaflet is not installed: run `make vendor` (npm ci)", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
