"""``ecoute digest ...`` in-process on a migrated SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.test_keys import cli, run  # noqa: F401 (fixture)


def test_subscribe_list_preview_unsubscribe(cli: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    output, _ = run(cli, "digest", "subscribe", "dgs@valmont.example", "--language", "en",
                    "--weekday", "fri", "--hour", "17")
    assert "subscription 1: dgs@valmont.example receives the weekly digest of demo (en) on " \
        "friday at 17:00" in output
    _, refused = run(cli, "digest", "subscribe", "x@y.example", "--hour", "25", ok=False)
    assert refused is not None and "0 to 23" in str(refused)
    _, unknown = run(cli, "digest", "subscribe", "x@y.example", "--site", "Annexe", ok=False)
    assert unknown is not None and "no site named 'Annexe'" in str(unknown)
    listed = json.loads(run(cli, "digest", "list", "--json")[0])
    assert [(s["id"], s["email"], s["when"], s["last_status"]) for s in listed] == [
        (1, "dgs@valmont.example", "friday at 17:00", None)]

    page = tmp_path / "digest.html"
    output, _ = run(cli, "digest", "preview", "--subscription", "1", "--period", "2026-W47",
                    "--out", str(page))
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Not enough data for this period" in html
    assert "/unsubscribe/1." in html
    text, _ = run(cli, "digest", "preview", "--period", "2026-11", "--frequency", "monthly",
                  "--text")
    assert "pas assez de données" in text
    assert "Novembre 2026 (du 1er novembre 2026 au 30 novembre 2026)" in text
    _, wrong = run(cli, "digest", "preview", "--period", "2026-W99", ok=False)
    assert wrong is not None and "2026-W47" in str(wrong)

    assert "0 sent, 0 deferred, 0 failed" in run(cli, "digest", "send")[0]
    assert "subscription 1 (dgs@valmont.example, weekly) ended" in run(
        cli, "digest", "unsubscribe", "dgs@valmont.example")[0]
    assert json.loads(run(cli, "digest", "list", "--json")[0]) == []
    assert json.loads(run(cli, "digest", "list", "--all", "--json")[0])[0]["unsubscribed_at"]
