"""``ecoute users ...``: dashboard accounts (username and password), thin over the store."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import AuthorityOpt, JsonOpt, out, print_json, session_factory

users_app = typer.Typer(help="Dashboard users: create, list, password, disable.",
                        no_args_is_help=True)

UsernameArg = Annotated[str, typer.Argument(help="The name the person signs in with.")]
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input "
    "(scripts) instead of asking for it.")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def users_create(
    username: UsernameArg,
    role: Annotated[str, typer.Option("--role", "-r", help="admin, officer (reads and "
                                      "corrects) or viewer (reads).")],
    authority: Annotated[str | None, typer.Option(
        "--authority", "-a", help="Authority the user belongs to; required except for an "
        "installation-wide admin.")] = None,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Create a user who signs in to the dashboard; the password is asked for (twice) and
    only its argon2 hash is stored."""
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.users import check_password, create_user

    password = _password(password_stdin)
    check_password(password)  # before opening the store: a typo costs nothing
    with session_scope(session_factory()) as session:
        owner = get_authority(session, authority) if authority else None
        user = create_user(session, username=username, password=password, role=role,
                           authority=owner)
        scope = f"authority {owner.slug}" if owner else "all authorities"
        out.print(f"{user.role} {user.username} for {scope} created; they sign in on the "
                  "dashboard (`ecoute serve`, then /signin).", highlight=False)


@users_app.command("list")
def users_list(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """Users with their role, authority, last sign-in and whether they are disabled."""
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.models import Authority
    from ecoute.store.users import list_users

    with session_scope(session_factory()) as session:
        owner = get_authority(session, authority) if authority else None
        slugs = {a.id: a.slug for a in session.query(Authority)}
        rows: list[dict[str, Any]] = [{"username": u.username, "role": u.role,
                 "authority": slugs.get(u.authority_id or 0),
                 "created_at": u.created_at, "last_signed_in_at": u.last_signed_in_at,
                 "disabled_at": u.disabled_at}
                for u in list_users(session, owner.id if owner else None)]
    if as_json:
        print_json(rows)
        return
    table = Table("username", "role", "authority", "last sign-in", "disabled")
    for r in rows:
        table.add_row(r["username"], r["role"], r["authority"] or "(all)",
                      f"{r['last_signed_in_at']:%Y-%m-%d %H:%M}" if r["last_signed_in_at"]
                      else "never",
                      f"{r['disabled_at']:%Y-%m-%d %H:%M}" if r["disabled_at"] else "")
    out.print(table)


@users_app.command("password")
def users_password(username: UsernameArg, password_stdin: PasswordStdinOpt = False) -> None:
    """Give a user a new password (asked for twice)."""
    from ecoute.store.db import session_scope
    from ecoute.store.users import set_password

    password = _password(password_stdin)
    with session_scope(session_factory()) as session:
        set_password(session, username, password)
    out.print(f"password of {username} changed", highlight=False)


@users_app.command("disable")
def users_disable(username: UsernameArg) -> None:
    """Stop a user from signing in; their open sessions end at their next request."""
    from ecoute.store.db import session_scope
    from ecoute.store.users import disable_user

    with session_scope(session_factory()) as session:
        disable_user(session, username)
    out.print(f"user {username} disabled", highlight=False)
