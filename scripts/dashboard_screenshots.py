"""Screenshots of the dashboard's pages with the demo's data, for README and the docs.

    python scripts/dashboard_screenshots.py [--out docs/screenshots] [--database-folder DIR]

Builds the demo (the shipped sample sources, collected and classified by the bundled model)
in a temporary folder unless ``--database-folder`` names one already built, serves the
dashboard on a free port of 127.0.0.1, signs in as an officer and saves one PNG per page,
taken by Debian's Chromium (``/usr/bin/chromium``) through Playwright.
"""

from __future__ import annotations

import argparse
import io
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from rich.console import Console

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.demo import DEMO_AUTHORITY, prepare_demo
from ecoute.store.authorities import get_authority
from ecoute.store.db import make_engine, make_session_factory, session_scope
from ecoute.store.users import create_user

PAGES = {
    "overview": "/?window=90d",
    "trends": "/trends?step=week",
    "verbatims": "/verbatims?window=90d&determinant=waiting_time",
    "sources": "/sources",
    "departments": "/departments?window=90d&by=department",
}
PASSWORD = "screenshots only, not a real one"
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--database-folder", type=Path, default=None)
    parser.add_argument("--language", default="en", choices=("en", "fr"))
    args = parser.parse_args()
    folder = args.database_folder or Path(tempfile.mkdtemp(prefix="ecoute-screens-"))
    base = Settings(database_url=f"sqlite:///{folder / 'ecoute-demo.db'}")
    if not (folder / "ecoute-demo.db").exists():
        prepare_demo(Console(file=io.StringIO()), base=base, folder=folder, own_database=False)
    settings = base.model_copy(update={"min_sample_size": 10})
    engine = make_engine(settings.database_url)
    with session_scope(make_session_factory(engine)) as session:
        from ecoute.store.users import list_users

        if not any(u.username == "screens" for u in list_users(session)):
            create_user(session, username="screens", password=PASSWORD, role="officer",
                        authority=get_authority(session, DEMO_AUTHORITY))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base_url = f"http://127.0.0.1:{port}"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900},
                                    locale=args.language)
            page.goto(f"{base_url}/language/{args.language}?next=/signin")
            page.fill("#username", "screens")
            page.fill("#password", PASSWORD)
            page.click("form:has(#username) button[type=submit]")
            page.wait_for_url(f"{base_url}/")
            for name, path in PAGES.items():
                page.goto(base_url + path)
                target = args.out / f"{name}.png"
                # The verbatims page is long: its first screen shows what it is.
                page.screenshot(path=str(target), full_page=name != "verbatims")
                print(f"saved {target}")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


if __name__ == "__main__":
    main()
