"""Follow-ups on the dashboard: shown on their items, changed there by an officer through the
API's own store functions, and counted per department with links to their items."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ecoute.api.app import create_app
from tests.helpers.dashboard import Dashboard, csrf_of, sign_in

HOSTILE = "<script>window.hacked=4</script>"


def _client(dashboard: Dashboard) -> TestClient:
    return TestClient(create_app(dashboard.settings, dashboard.engine))


def _api(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _items_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li id="item-(\d+)"', html)]


def _block(html: str, item_id: int) -> str:
    """The follow-up block of one item on a verbatims page."""
    article = html.split(f'<li id="item-{item_id}"', 1)[1].split("</article>", 1)[0]
    return article.split('class="followup"', 1)[1]


@pytest.fixture
def officer(dashboard: Dashboard) -> TestClient:
    client = _client(dashboard)
    sign_in(client, "officer")
    return client


def _new_followup(client: TestClient) -> int:
    """An item on the first page of open follow-ups whose follow-up is still new."""
    shown = _items_on(client.get("/verbatims", params={"followup": "open"}).text)
    new = {f["item_id"] for f in _api(client, "/followups", status="new",
                                        limit=500)["followups"]}
    return next(i for i in shown if i in new)


def test_items_show_their_followup_status_assignee_and_due_date(dashboard: Dashboard) -> None:
    client = _client(dashboard)
    page = client.get("/verbatims", params={"followup": "open"}).text
    shown = _items_on(page)
    assert shown, "the dashboard has open follow-ups"
    expected = {f["item_id"]: f for f in _api(client, "/followups", limit=500)["followups"]}
    block = _block(page, shown[0])
    assert "Suivi" in block and "Statut" in block and "Échéance" in block
    assert "nouveau" in block or "attribué" in block
    due = expected[shown[0]]["due_on"]
    assert f"<dd>{int(due[8:10])} " in block and due[:4] in block
    # A reader has no form.
    assert "/followup\"" not in page and "/followup/notes" not in page


def test_the_overdue_filter_lists_only_overdue_followups(dashboard: Dashboard) -> None:
    client = _client(dashboard)
    overdue = {f["item_id"] for f in _api(client, "/followups", overdue="true",
                                          limit=500)["followups"]}
    shown = _items_on(client.get("/verbatims", params={"followup": "overdue"}).text)
    assert set(shown) <= overdue and len(shown) == min(25, len(overdue))
    assert shown, "some follow-ups of the dashboard are past their due date"
    page = client.get("/verbatims", params={"followup": "overdue"}).text
    assert "en retard" in _block(page, shown[0])


def test_an_officer_assigns_then_dismisses_with_a_reason(dashboard: Dashboard,
                                                        officer: TestClient) -> None:
    item_id = _new_followup(officer)
    back = "/verbatims?followup=open"
    page = officer.get(back).text
    assert f'action="/verbatims/{item_id}/followup"' in page
    csrf = csrf_of(page)
    done = officer.post(f"/verbatims/{item_id}/followup", follow_redirects=False, data={
        "csrf_token": csrf, "status": "new", "assignee": f"{HOSTILE} Voirie", "back": back})
    assert done.status_code == 303
    assert done.headers["location"] == f"{back}&followed={item_id}#item-{item_id}"
    state = _api(officer, f"/items/{item_id}/followup")
    # Naming who acts assigns it, as through the API.
    assert state["status"] == "assigned" and state["assignee"] == f"{HOSTILE} Voirie"
    assert state["events"][-1]["actor"] == "user:officer"
    after = officer.get(f"/verbatims?followed={item_id}&followup=open").text
    block = _block(after, item_id)
    assert "Suivi enregistré" in block and "attribué" in block
    assert HOSTILE not in after and "&lt;script&gt;window.hacked=4" in block
    # Dismissing needs a reason: the page says so and nothing changes.
    refused = officer.post(f"/verbatims/{item_id}/followup", data={
        "csrf_token": csrf, "status": "dismissed", "assignee": f"{HOSTILE} Voirie"})
    assert refused.status_code == 400 and "needs a reason" in refused.text
    assert _api(officer, f"/items/{item_id}/followup")["status"] == "assigned"
    officer.post(f"/verbatims/{item_id}/followup", data={
        "csrf_token": csrf, "status": "dismissed", "assignee": f"{HOSTILE} Voirie",
        "reason": f"doublon {HOSTILE}"})
    state = _api(officer, f"/items/{item_id}/followup")
    assert state["status"] == "dismissed" and state["dismissed_reason"] == f"doublon {HOSTILE}"
    closed = officer.get("/verbatims", params={"followup": "closed"}).text
    assert item_id in _items_on(closed) and "doublon &lt;script&gt;" in _block(closed, item_id)
    # Dismissed cannot become closed: the page says what it can become.
    wrong = officer.post(f"/verbatims/{item_id}/followup", data={
        "csrf_token": csrf, "status": "closed", "assignee": f"{HOSTILE} Voirie"})
    assert wrong.status_code == 409 and "it can become assigned" in wrong.text


def test_the_form_offers_the_statuses_the_flow_allows(dashboard: Dashboard,
                                                      officer: TestClient) -> None:
    item_id = _new_followup(officer)
    block = _block(officer.get("/verbatims", params={"followup": "open"}).text, item_id)
    select = block.split('name="status"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="(\w+)"', select) == ["new", "assigned", "answered",
                                                             "dismissed"]
    assert 'value="new" selected' in select


def test_an_officer_adds_a_note_kept_in_the_history(dashboard: Dashboard,
                                                    officer: TestClient) -> None:
    item_id = _new_followup(officer)
    csrf = csrf_of(officer.get("/verbatims").text)
    empty = officer.post(f"/verbatims/{item_id}/followup/notes",
                         data={"csrf_token": csrf, "note": "   "})
    assert empty.status_code == 400 and "empty" in empty.text
    done = officer.post(f"/verbatims/{item_id}/followup/notes", follow_redirects=False,
                        data={"csrf_token": csrf, "note": f"Rappelé l'usager {HOSTILE}"})
    assert done.status_code == 303
    events = _api(officer, f"/items/{item_id}/followup")["events"]
    assert events[-1]["action"] == "note" and events[-1]["note"].endswith(HOSTILE)
    page = officer.get("/verbatims", params={"followup": "open"}).text
    block = _block(page, item_id)
    assert "Historique (2)" in block and "Rappelé l&#39;usager &lt;script&gt;" in block
    assert HOSTILE not in page


def test_only_officers_of_the_authority_change_a_followup(dashboard: Dashboard) -> None:
    anonymous = _client(dashboard)
    item_id = _new_followup(anonymous)
    viewer = _client(dashboard)
    sign_in(viewer, "viewer")
    csrf = csrf_of(viewer.get("/").text)
    for path, data in ((f"/verbatims/{item_id}/followup", {"status": "dismissed",
                                                           "reason": "x"}),
                       (f"/verbatims/{item_id}/followup/notes", {"note": "x"})):
        assert viewer.post(path, data={**data, "csrf_token": csrf}).status_code == 403
        stranger = _client(dashboard)
        sign_in(stranger, "stranger")
        assert stranger.post(path, data={**data, "csrf_token": csrf_of(
            stranger.get("/").text)}).status_code == 404
        officer = _client(dashboard)
        sign_in(officer, "officer")
        assert officer.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
        assert anonymous.post(path, data=data).status_code == 401
    assert _api(anonymous, f"/items/{item_id}/followup")["status"] == "new"


def test_departments_show_their_followups_with_links(dashboard: Dashboard) -> None:
    client = _client(dashboard)
    page = client.get("/departments").text
    rows = page.split('<tbody class="followups">', 1)[1].split("</tbody>", 1)[0]
    assert "Suivis ouverts" in rows and "dont en retard" in rows and "clos ou écartés" in rows
    departments = {d["name"]: d["id"] for d in _api(client, "/departments")}
    voirie = departments["Voirie"]
    everything = _api(client, "/followups", department_id=voirie, limit=500)["followups"]
    open_ = [f for f in everything if f["status"] in ("new", "assigned")]
    link = f'/verbatims?followup=open&amp;department_id={voirie}'
    assert f'<a href="{link}">{len(open_)}</a>' in rows
    overdue = sum(f["overdue"] for f in everything)
    assert overdue and f'followup=overdue&amp;department_id={voirie}">{overdue}</a>' in rows
    listed = _items_on(client.get(unescape(link)).text)
    assert set(listed) <= {f["item_id"] for f in open_}
    assert len(listed) == min(25, len(open_))
    # The whole authority's column counts every department's.
    total = _api(client, "/followups", limit=500)["followups"]
    whole = sum(f["status"] in ("new", "assigned") for f in total)
    assert f'<a href="/verbatims?followup=open">{whole}</a>' in rows
    assert '<tbody class="followups">' not in client.get("/departments?by=site").text
