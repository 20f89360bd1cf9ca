"""Screenshots of the dashboard for the README, taken by Playwright in Debian's Chromium — never drawn by hand.

    python scripts/screenshots.py mlcycle-demo            # after `make demo`: writes docs/*.png
    python scripts/screenshots.py mlcycle-demo --pages overview monitoring --out docs

Starts the dashboard on the use case in this process (a free port on 127.0.0.1), opens each page
at 1366 px wide and saves a full-page PNG.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

import uvicorn

from mlcycle.ui import create_app

PAGES = {
    "overview": "",
    "design": "design",
    "experiments": "experiments",
    "models": "models",
    "monitoring": "monitoring",
    "decisions": "decisions",
    "review": "review",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("use_case", type=Path)
    parser.add_argument("--pages", nargs="+", default=["overview"], choices=sorted(PAGES))
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--role", default="business", choices=["business", "domain_expert", "data_scientist"])
    args = parser.parse_args()

    app = create_app(args.use_case)
    slug = next(iter(app.state.dashboard.sites))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        for name in args.pages:
            page.goto(f"http://127.0.0.1:{port}/uc/{slug}/{PAGES[name]}?role={args.role}", wait_until="networkidle")
            path = args.out / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"{name:12} → {path}")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
