"""Retake the README's pictures (docs/images/screener.png, token.png) from a running site.

    .venv/bin/megatron serve &            # or `megatron web`, after the main job (./scripts/demo.sh)
    .venv/bin/python scripts/readme_screenshots.py [--site http://127.0.0.1:8000] [--mint MINT]

Headless Debian chromium through playwright, as the browser tests drive it. The token page shown is --mint, else
the screener's first token whose top holders include a flagged sniper or bundler, else its first token.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (the local site)
        return json.loads(resp.read())


def pick_token(site: str) -> str:
    page = get(f"{site}/api/tokens?limit=20")
    tokens = page.get("tokens") if isinstance(page, dict) else None
    assert isinstance(tokens, list) and tokens, "the screener lists no token: run the main job first"
    for tok in tokens:
        holders = get(f"{site}/api/token/{tok['token_mint']}/holders")
        if any(w.get("is_sniper") or w.get("is_bundler") for w in holders["top"]):  # type: ignore[index]
            return str(tok["token_mint"])
    return str(tokens[0]["token_mint"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", default="http://127.0.0.1:8000")
    ap.add_argument("--mint", default=None)
    args = ap.parse_args()
    site = args.site.rstrip("/")
    mint = args.mint or pick_token(site)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(site + "/")
        page.wait_for_function("document.querySelectorAll('#screener tbody tr').length > 0", timeout=60_000)
        page.screenshot(path=str(IMAGES / "screener.png"))
        page.goto(f"{site}/token/{mint}")
        page.wait_for_function("document.body.dataset.ready === '1'", timeout=60_000)
        page.screenshot(path=str(IMAGES / "token.png"), full_page=True)
        browser.close()
    print(f"wrote {IMAGES / 'screener.png'} and {IMAGES / 'token.png'} (token {mint})")


if __name__ == "__main__":
    main()
