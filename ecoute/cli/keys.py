"""``ecoute keys ...``: thin commands over the API-key repository."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import AuthorityOpt, JsonOpt, out, session_factory
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)



@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", "-r",
                                      help="admin, officer, viewer or ingest.")],
    authority: Annotated[str | None, typer.Option(
        "--authority", "-a", help="Authority the key is limited to; required except for an "
        "installation-wide admin key.")] = None,
    label: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
) -> None:
    """Create a key and print its token, once: store it where its user keeps secrets."""
    from ecoute.store.api_keys import create_key
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    with session_scope(session_factory()) as session:
        owner = get_authority(session, authority) if authority else None
        key, token = create_key(session, role=role, authority=owner, label=label)
        scope = f"authority {owner.slug}" if owner else "all authorities"
        out.print(f"{key.role} key {key.prefix}… for {scope} created. Its token, shown only "
                  "now:", highlight=False)
    print(token)


@keys_app.command("list")
def keys_list(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """Keys with their role, authority, creation, last use and revocation (never the token)."""
    from ecoute.store.api_keys import list_keys
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.models import Authority

    with session_scope(session_factory()) as session:
        owner = get_authority(session, authority) if authority else None
        slugs = {a.id: a.slug for a in session.query(Authority)}
        rows = [
            {"prefix": k.prefix, "role": k.role, "authority": slugs.get(k.authority_id or 0),
             "label": k.label, "created_at": k.created_at, "last_used_at": k.last_used_at,
             "revoked_at": k.revoked_at}
            for k in list_keys(session, owner.id if owner else None)
        ]
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    table = Table("prefix", "role", "authority", "label", "last used", "revoked")
    for r in rows:
        table.add_row(str(r["prefix"]), str(r["role"]), str(r["authority"] or "(all)"),
                      str(r["label"] or ""), _when(r["last_used_at"]) or "never",
                      _when(r["revoked_at"]))
    out.print(table)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (ek_...) as `keys list` "
                                          "shows it, or the whole token.")],
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from ecoute.store.api_keys import revoke_key
    from ecoute.store.db import session_scope

    with session_scope(session_factory()) as session:
        key = revoke_key(session, prefix)
        out.print(f"key {key.prefix}… revoked", highlight=False)
