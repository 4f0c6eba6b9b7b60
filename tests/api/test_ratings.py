"""GET /api/v1/satisfaction/ratings: answers pushed through /ingest, read back per scale
against values computed by hand, scoped to the key's authority."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers.api import auth as _auth

Z = 1.959963984540054


def _records(prefix: str, answers: list[tuple[float, str, int, str]]) -> list[dict[str, Any]]:
    """(value, scale, days ago, channel) → push records."""
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return [{"external_id": f"{prefix}-{i}", "text": f"réponse {i}", "rating_value": value,
             "rating_scale": scale, "channel": channel,
             "published_at": (now - timedelta(days=ago)).isoformat()}
            for i, (value, scale, ago, channel) in enumerate(answers)]


def test_ratings_per_scale_scoped_to_the_key(
    client: TestClient, keys: dict[str, str],  # noqa: F811 (fixtures)
) -> None:
    # This month: 0-10 answers 10 9 8 3 0 (2 promoters, 2 detractors), 1-5 answers 5 4 2
    # (2 satisfied); 40 days ago (the previous 30 days): 0-10 answers 10 10 6.
    ours = _records("v", [(10, "0-10", 1, "survey"), (9, "0-10", 2, "survey"),
                          (8, "0-10", 3, "survey"), (3, "0-10", 4, "survey"),
                          (0, "0-10", 5, "survey"), (5, "1-5", 1, "review"),
                          (4, "1-5", 2, "review"), (2, "1-5", 3, "review"),
                          (10, "0-10", 40, "survey"), (10, "0-10", 41, "survey"),
                          (6, "0-10", 42, "survey")])
    pushed = client.post("/api/v1/ingest", json=ours, headers=_auth(keys["ingest"]))
    assert pushed.status_code == 200, pushed.text
    # Another authority's answers: all detractors.
    theirs = _records("a", [(0, "0-10", 1, "survey"), (1, "0-10", 1, "survey")])
    assert client.post("/api/v1/ingest", json=theirs,
                       headers=_auth(keys["other_ingest"])).status_code == 200

    answer = client.get("/api/v1/satisfaction/ratings", headers=_auth(keys["viewer"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["authority"], body["window"], body["min_sample_size"]) == ("valmont", "30d", 30)
    scales = {s["scale"]: s for s in body["scales"]}
    assert list(scales) == ["0-10", "1-5"]
    nps = scales["0-10"]["current"]["nps"]
    assert (nps["promoters"], nps["passives"], nps["detractors"], nps["n"]) == (2, 1, 2, 5)
    assert nps["score"] == 0.0
    half = 100 * Z * math.sqrt(0.8 / 5)
    assert (nps["ci_low"], nps["ci_high"]) == pytest.approx((-half, half))
    before = scales["0-10"]["previous"]["nps"]
    assert before["score"] == pytest.approx(100 / 3) and before["n"] == 3
    assert scales["0-10"]["nps_change"] == pytest.approx(-100 / 3)
    assert scales["0-10"]["current"]["mean"]["mean"] == pytest.approx(0.6)  # 3.0 / 5
    stars = scales["1-5"]["current"]
    assert (stars["csat"]["satisfied"], stars["csat"]["n"]) == (2, 3)
    assert stars["csat"]["share"] == pytest.approx(2 / 3) and stars["nps"] is None
    assert stars["mean"]["mean"] == pytest.approx((1 + 0.75 + 0.25) / 3)
    assert not stars["sufficient"] and scales["1-5"]["previous"]["n"] == 0
    overall = body["overall"]["current"]
    assert overall["n"] == 8 and overall["csat"]["satisfied"] == 4  # 10, 9, 5, 4

    only_reviews = client.get("/api/v1/satisfaction/ratings?channel=review&window=7d",
                              headers=_auth(keys["viewer"])).json()
    assert [s["scale"] for s in only_reviews["scales"]] == ["1-5"]

    # The key's authority only: another one is refused, an installation admin reads its own.
    refused = client.get("/api/v1/satisfaction/ratings?authority=autreville",
                         headers=_auth(keys["viewer"]))
    assert refused.status_code == 403
    other = client.get("/api/v1/satisfaction/ratings?authority=autreville",
                       headers=_auth(keys["global_admin"])).json()
    assert other["authority"] == "autreville"
    assert other["scales"][0]["current"]["nps"]["score"] == -100.0
    assert other["overall"]["current"]["n"] == 2
    assert client.get("/api/v1/satisfaction/ratings",
                      headers=_auth(keys["ingest"])).status_code == 403
    bad = client.get("/api/v1/satisfaction/ratings?window=fortnight", headers=_auth(keys["viewer"]))
    assert bad.status_code == 400 and "7d" in bad.json()["hint"]


def test_no_ratings_yet(client: TestClient, keys: dict[str, str]) -> None:  # noqa: F811
    body = client.get("/api/v1/satisfaction/ratings", headers=_auth(keys["viewer"])).json()
    assert body["scales"] == []
    overall = body["overall"]["current"]
    assert overall["n"] == 0 and overall["mean"]["mean"] is None
    assert overall["csat"]["share"] is None and overall["nps"] is None
