"""The department report as a workbook (XLSX) or a web page (HTML), in the authority's
language (French or English). Every text of the page is escaped: examples are what people
wrote."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ecoute.assessment.call_facts import FACTS
from ecoute.assessment.department_report import ALL, NO_DETERMINANT, DepartmentReport, Row

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Suivi des retours par service", "department": "Service",
        "determinant": "Déterminant", "received": "Reçus", "negative": "Négatifs",
        "followups": "À traiter", "answered": "Répondus", "within": "Dans le délai",
        "share": "Part dans le délai", "median": "Délai médian (jours ouvrés)",
        "open": "En cours", "overdue": "En retard", "closed": "Clos", "dismissed": "Écartés",
        "examples": "Exemples", "none_department": "(sans service)",
        ALL: "Tous les déterminants", NO_DETERMINANT: "(aucun déterminant repéré)",
        "authority": "Toute la collectivité", "departments": "Services",
        "by_determinant": "Par déterminant",
        "promise": "Engagement : réponse sous {days} jours ouvrés. Édité le {day}.",
        "within_note": "La part dans le délai compte les réponses données au plus tard à "
        "l'échéance, parmi les retours répondus ou dont l'échéance est passée.",
        "phone": "Appels téléphoniques", "offered": "Appels présentés",
        "answer_rate": "part des appels répondus", "abandon_rate": "taux d'abandon",
        "avg_wait_seconds": "attente moyenne (s)", "service_level": "niveau de service",
        "phone_note": "Chiffres mesurés par le standard sur le mois, à lire à côté de ce que "
        "les usagers écrivent de l'accessibilité et du temps d'attente : ils ne sont pas "
        "comptés dans les mentions.",
    },
    "en": {
        "title": "Feedback follow-up by department", "department": "Department",
        "determinant": "Determinant", "received": "Received", "negative": "Negative",
        "followups": "Follow-ups", "answered": "Answered", "within": "Within promise",
        "share": "Share within promise", "median": "Median working days to answer",
        "open": "Open", "overdue": "Overdue", "closed": "Closed", "dismissed": "Dismissed",
        "examples": "Examples", "none_department": "(no department)",
        ALL: "All determinants", NO_DETERMINANT: "(no determinant found)",
        "authority": "Whole authority", "departments": "Departments",
        "by_determinant": "By determinant",
        "promise": "Promise: an answer within {days} working days. Issued on {day}.",
        "within_note": "The share within the promise counts answers given by the due date, "
        "among the follow-ups answered or past their due date.",
        "phone": "Phone calls", "offered": "Calls offered",
        "answer_rate": "share of calls answered", "abandon_rate": "abandon rate",
        "avg_wait_seconds": "average wait (s)", "service_level": "service level",
        "phone_note": "Measured by the phone system over the month, to read beside what "
        "people write about accessibility and waiting time: they are not counted in the "
        "mentions.",
    },
}
FIGURES = ("received", "negative", "followups", "answered", "within", "share", "median",
           "open", "overdue", "closed", "dismissed")


def words_for(locale: str) -> dict[str, str]:
    return WORDS.get(locale.split("-")[0].lower(), WORDS["en"])


def _figures(row: Row) -> list[int | float | None]:
    share = row.share_within_promise
    median = row.median_days_to_answer
    return [row.received, row.negative, row.followups, row.answered, row.within_promise,
            round(share, 3) if share is not None else None,
            median, row.open, row.overdue, row.closed, row.dismissed]


def _names(report: DepartmentReport, words: dict[str, str]) -> tuple[
        Callable[[Row], str], Callable[[Row], str]]:
    def department(row: Row) -> str:
        return row.department or words["none_department"]

    def determinant(row: Row) -> str:
        if row.determinant in (ALL, NO_DETERMINANT):
            return words[row.determinant]
        return report.labels.get(row.determinant, row.determinant)

    return department, determinant


def _phone_header(report: DepartmentReport, words: dict[str, str]) -> list[str]:
    return [words["department"], words["offered"], *(
        f"{report.labels.get(determinant, determinant)}: {words[name]}"
        for determinant, names in FACTS.items() for name in names)]


def _phone_rows(report: DepartmentReport, words: dict[str, str]
                ) -> list[list[str | int | float | None]]:
    rows: list[list[str | int | float | None]] = []
    for name, facts in report.call_facts:
        values: list[str | int | float | None] = [
            name or words["authority"], facts.calls.offered]
        for determinant in FACTS:
            shown = facts.of(determinant) or {}
            values += [round(v, 3) if v is not None else None for v in shown.values()]
        rows.append(values)
    return rows


def _phone_shown(header: list[str], values: list[str | int | float | None]) -> list[str]:
    out = []
    for title, value in zip(header[1:], values[1:], strict=True):
        if value is None:
            out.append("–")
        elif isinstance(value, float) and "(s)" not in title:
            out.append(f"{value:.0%}")
        else:
            out.append(f"{value:g}" if isinstance(value, float) else str(value))
    return out


def to_xlsx(report: DepartmentReport) -> bytes:
    """Three sheets: departments, department × determinant (with examples), the authority."""
    words = words_for(report.locale)
    department, determinant = _names(report, words)
    book = Workbook()
    book.remove(book.worksheets[0])
    header = [words[f] for f in FIGURES]

    def sheet(title: str, first: list[str], rows: Sequence[list[object]],
              examples: bool = False) -> None:
        ws = book.create_sheet(title[:31])
        ws.append([*first, *header, *([words["examples"]] if examples else [])])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for values in rows:
            ws.append(values)
        for column in ws.columns:
            ws.column_dimensions[column[0].column_letter].width = min(60, max(
                10, *(len(str(c.value or "")) + 2 for c in column[:50])))
        if examples:
            for cell in ws[get_column_letter(len(first) + len(header) + 1)]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = ws.cell(row=2, column=len(first) + 1)

    sheet(words["departments"], [words["department"]],
          [[department(r), *_figures(r)] for r in report.departments])
    sheet(words["by_determinant"], [words["department"], words["determinant"]],
          [[department(r), determinant(r), *_figures(r), "\n".join(r.examples)]
           for r in report.rows], examples=True)
    sheet(words["authority"], [words["determinant"]],
          [[determinant(r), *_figures(r)] for r in report.authority_rows])
    if report.call_facts:
        ws = book.create_sheet(words["phone"][:31])
        ws.append(_phone_header(report, words))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for values in _phone_rows(report, words):
            ws.append(values)
        ws.append([])
        ws.append([words["phone_note"]])
    book.properties.title = f"{words['title']} — {report.authority} — {report.month:%Y-%m}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _shown(row: Row) -> list[str]:
    """The figures as people read them: the share as a percentage, none as a dash."""
    shown = []
    for name, value in zip(FIGURES, _figures(row), strict=True):
        if value is None:
            shown.append("–")
        elif name == "share":
            shown.append(f"{value:.0%}")
        else:
            shown.append(f"{value:g}" if isinstance(value, float) else str(value))
    return shown


def _table(first: Sequence[str], rows: Sequence[tuple[Sequence[str], Row]],
           words: dict[str, str], examples: bool) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in (*first, *(words[f] for f in FIGURES)))
    if examples:
        head += f"<th>{escape(words['examples'])}</th>"
    body = []
    for names, row in rows:
        cells = "".join(f"<th scope=\"row\">{escape(n)}</th>" for n in names)
        cells += "".join(f'<td class="n">{escape(v)}</td>' for v in _shown(row))
        if examples:
            cells += "<td><ul>" + "".join(f"<li>{escape(e)}</li>" for e in row.examples) \
                + "</ul></td>"
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def to_html(report: DepartmentReport) -> str:
    """A page that opens offline (no script, styles inline) and prints on A4 landscape."""
    words = words_for(report.locale)
    department, determinant = _names(report, words)
    title = f"{words['title']} — {report.authority} — {report.month:%Y-%m}"
    parts = [
        f"<!doctype html><html lang=\"{escape(report.locale)}\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #bbb;padding:.3em .5em;vertical-align:top}"
        "td.n{text-align:right}thead th{background:#eee}ul{margin:0;padding-left:1.2em}"
        "@page{size:A4 landscape}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(words['promise'].format(days=report.promise_days, day=report.generated_on))}"
        f"</p><p>{escape(words['within_note'])}</p>",
        f"<h2>{escape(words['departments'])}</h2>",
        _table([words["department"]], [([department(r)], r) for r in report.departments],
               words, examples=False),
    ]
    for total in report.departments:
        name = department(total)
        rows = [r for r in report.rows if department(r) == name]
        parts.append(f"<h2>{escape(name)}</h2>")
        parts.append(_table([words["determinant"]], [([determinant(r)], r) for r in rows],
                            words, examples=True))
    parts.append(f"<h2>{escape(words['authority'])}</h2>")
    parts.append(_table([words["determinant"]],
                        [([determinant(r)], r) for r in report.authority_rows], words,
                        examples=False))
    if report.call_facts:
        header = _phone_header(report, words)
        parts.append(f"<h2>{escape(words['phone'])}</h2><p>{escape(words['phone_note'])}</p>")
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join(
            f"<tr><th scope=\"row\">{escape(str(values[0]))}</th>"
            + "".join(f'<td class="n">{escape(v)}</td>' for v in _phone_shown(header, values))
            + "</tr>" for values in _phone_rows(report, words))
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
