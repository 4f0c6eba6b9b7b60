"""``ecoute privacy ...``: a data-protection officer's access and erasure requests and the
retention purge, as thin commands over ``ecoute.data_requests`` and the store."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from ecoute.cli._common import out, session_factory
from ecoute.config.settings import get_settings
privacy_app = typer.Typer(
    help="Personal data: answer access and erasure requests, apply the retention periods.",
    no_args_is_help=True,
)

EmailOpt = Annotated[str | None, typer.Option("--email", help="The person's e-mail address.")]
PhoneOpt = Annotated[str | None, typer.Option(
    "--phone", help="The person's phone number (a volunteer of the phone back-up team).")]
AuthorOpt = Annotated[str | None, typer.Option(
    "--author", help="The author name as a source showed it (a review's signature, a "
    "social-media account).")]
ItemOpt = Annotated[int | None, typer.Option("--item", help="One item's id.")]
AuthorityOpt = Annotated[str | None, typer.Option(
    "--authority", "-a", help="Limit to one authority (default: every authority).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _authority(session: Any, slug: str | None) -> Any:
    from ecoute.store.authorities import get_authority

    return get_authority(session, slug) if slug else None


@privacy_app.command("erase")
def privacy_erase(
    email: EmailOpt = None, author: AuthorOpt = None, item: ItemOpt = None,
    authority: AuthorityOpt = None, phone: PhoneOpt = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only count what would be removed.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove a person's items and every trace of them (tags, corrections, quarantine, error
    texts) and take them out of the figures; prints a receipt."""
    from ecoute.data_requests import erase_request, receipt_dict
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory()) as session:
        receipt = erase_request(session, settings, email=email, author=author, item_id=item,
                                authority=_authority(session, authority), dry_run=dry_run,
                                phone=phone)
    data = receipt_dict(receipt)
    if as_json:
        out.print_json(json.dumps(data, default=str))
        return
    verb = "would remove" if dry_run else "removed"
    out.print(
        f"Erasure by {receipt.matched_by} ({receipt.authority or 'every authority'}), "
        f"{receipt.finished_at:%Y-%m-%d %H:%M:%S} UTC — {verb}: "
        f"{len(receipt.items)} items, {receipt.taggings} classifications, "
        f"{receipt.determinant_tags} determinant tags ({receipt.corrections} corrections), "
        f"{receipt.quarantine} quarantine entries, {receipt.volunteers} volunteers "
        "anonymised (hours kept); masked in {receipt.run_errors} run errors, "
        f"{receipt.source_errors} source errors and "
        f"{sum(receipt.other_cells.values())} other cells; "
        f"{receipt.rollup_cells} figures updated.", highlight=False)
    if receipt.items:
        out.print("items: " + ", ".join(str(i) for i in receipt.items), highlight=False)


@privacy_app.command("export")
def privacy_export(
    email: EmailOpt = None, author: AuthorOpt = None, item: ItemOpt = None,
    authority: AuthorityOpt = None, phone: PhoneOpt = None,
) -> None:
    """Print, as JSON, everything stored about a person (right of access)."""
    from ecoute.data_requests import export_request
    from ecoute.store.db import session_scope

    with session_scope(session_factory()) as session:
        data = export_request(session, get_settings(), email=email, author=author,
                              item_id=item, authority=_authority(session, authority),
                              phone=phone)
    print(json.dumps(data, default=str, ensure_ascii=False, indent=2))


@privacy_app.command("purge")
def privacy_purge(as_json: JsonOpt = False) -> None:
    """Apply the retention periods now (what `ecoute run` does every night)."""
    from dataclasses import asdict

    from ecoute.store.db import session_scope
    from ecoute.store.retention import apply_retention

    with session_scope(session_factory()) as session:
        report = apply_retention(session, get_settings())
    if as_json:
        out.print_json(json.dumps(asdict(report)))
        return
    out.print(
        f"{sum(report.items_deleted.values())} items deleted, "
        f"{sum(report.items_anonymised.values())} anonymised, "
        f"{report.quarantine_resolved + report.quarantine_unresolved} quarantine entries "
        "deleted", highlight=False)
