"""``ecoute report ...``: documents for the people who act on feedback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from ecoute.cli._common import AuthorityOpt, out, session_factory
from ecoute.config.settings import get_settings

report_app = typer.Typer(help="Reports for meetings: departments.", no_args_is_help=True)


@report_app.command("departments")
def report_departments(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-11 (received items, in the "
                                       "authority's time zone).")],
    format: Annotated[Literal["xlsx", "html"], typer.Option(
        "--format", help="xlsx (a workbook) or html (a page that prints).")] = "xlsx",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (default: departments-MONTH.FORMAT here).")]
    = None,
    authority: AuthorityOpt = None,
) -> None:
    """Per department and determinant: what was received in MONTH and what was done (counts,
    working days to answer, share within the promise, examples), for the quality meeting."""
    from ecoute.assessment.department_report import department_report, parse_month
    from ecoute.assessment.department_report_files import to_html, to_xlsx
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    first = parse_month(month)
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        report = department_report(session, owner, settings, first)
    target = output or Path(f"departments-{first:%Y-%m}.{format}")
    if format == "xlsx":
        target.write_bytes(to_xlsx(report))
    else:
        target.write_text(to_html(report), encoding="utf-8")
    out.print(f"{target}: {len(report.departments)} departments, "
              f"{report.authority_rows[-1].received} items received in {first:%Y-%m}",
              highlight=False)
