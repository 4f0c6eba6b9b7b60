"""Render the demo's digest e-mail to PNG in headless Chromium: docs/screenshots/digest.png.

    python scripts/digest_screenshot.py [--database sqlite:///…/ecoute-demo.db] [--out FILE]

Without ``--database`` it builds the demo first (``ecoute demo --no-serve`` in a temporary
data folder: the shipped sample sources, collected and classified by the bundled model).
The demo holds about ten items a week, so the picture shows the monthly digest of the last
complete month with a minimum of 5 mentions per figure (``--min-sample-size``); an
authority's real digest uses ``ECOUTE_MIN_SAMPLE_SIZE`` (30 by default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 720


def build_demo(folder: Path) -> str:
    env = {**os.environ, "XDG_DATA_HOME": str(folder / "data")}
    subprocess.run([sys.executable, "-m", "ecoute", "demo", "--no-serve"], check=True, env=env,
                   cwd=folder)
    found = sorted((folder / "data").rglob("ecoute-demo.db"))
    if not found:
        raise SystemExit("the demo did not create its database")
    return f"sqlite:///{found[0]}"


def render_html(database: str, min_sample_size: int, frequency: str, period: str | None) -> str:
    from ecoute.config.settings import Settings
    from ecoute.digest.subscriptions import preview, preview_period, preview_spec
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import make_session_factory, open_store, session_scope

    settings = Settings(database_url=database, min_sample_size=min_sample_size)
    factory = make_session_factory(open_store(settings))
    with session_scope(factory) as session:
        authority = get_authority(session, "demo")
        spec = preview_spec(session, authority, None, frequency=frequency)
        return preview(session, settings, spec, preview_period(spec, period)).html


def screenshot(html: str, out: Path, folder: Path) -> None:
    page = folder / "digest.html"
    page.write_text(html, encoding="utf-8")
    raw = folder / "raw.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={WIDTH},4000",
                    f"--screenshot={raw}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image, ImageChops

    # The window is taller than the e-mail: cut the empty background below it.
    image = Image.open(raw).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box:
        image = image.crop((0, 0, image.width, min(image.height, box[3] + 16)))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="an existing demo database (SQLAlchemy URL)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "digest.png")
    parser.add_argument("--min-sample-size", type=int, default=5)
    parser.add_argument("--frequency", choices=("weekly", "monthly"), default="monthly")
    parser.add_argument("--period", help="2026-W47 or 2026-11; default: the last complete one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = args.database or build_demo(folder)
        html = render_html(database, args.min_sample_size, args.frequency, args.period)
        screenshot(html, args.out, folder)
    print(f"digest rendered to {args.out}")


if __name__ == "__main__":
    main()
