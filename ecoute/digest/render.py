"""A digest as HTML for e-mail clients (tables, inline styles, no script, every text escaped by
Jinja2's autoescape) and as plain text; the unsubscribe page."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ecoute.digest.charts import Chart, content_id
from ecoute.digest.compose import Digest, SourceNote
from ecoute.digest.figures import AVERAGE_PERIODS, FigureLine
from ecoute.digest.wording import MONTHS, channel_label, determinant_labels, words


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    charts: list[Chart]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ecoute.digest", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["pct"] = percent
    return env


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def day(value: date, locale: str) -> str:
    if locale == "fr":
        number = "1er" if value.day == 1 else str(value.day)
        return f"{number} {MONTHS['fr'][value.month - 1]} {value.year}"
    return f"{value.day} {MONTHS['en'][value.month - 1]} {value.year}"


def change_text(line: FigureLine, w: dict[str, str]) -> str:
    if line.change is None or line.delta_points is None or line.p_value is None:
        return w["steady"] if line.previous_share is not None and line.sufficient \
            else w["no_previous"]
    p = "< 0.001" if line.p_value < 0.001 else f"{line.p_value:.3f}"
    return w[line.change].format(delta=f"{line.delta_points:+.0f}", p=p)


def subject(digest: Digest) -> str:
    w = words(digest.spec.locale)
    locale = digest.spec.locale
    start = day(digest.period.start, locale)
    month = f"{MONTHS[locale if locale in MONTHS else 'en'][digest.period.start.month - 1]} " \
        f"{digest.period.start.year}"
    return w[f"subject_{digest.spec.frequency}"].format(
        authority=digest.spec.authority.name, start=start, month=month)


def render(digest: Digest, charts: list[Chart], *, unsubscribe_url: str | None,
           inline_images: bool = False, lexicon: Path | None = None) -> Rendered:
    """``inline_images``: charts as data URIs (a file or a browser page), else ``cid:``
    references to the parts of a multipart/related e-mail."""
    locale = digest.spec.locale
    w = words(locale)
    labels = determinant_labels(lexicon, locale)
    images = [
        {"src": ("data:image/png;base64," + base64.b64encode(c.png).decode()) if inline_images
         else f"cid:{content_id(c)}", "alt": c.alt, "width": c.width, "height": c.height}
        for c in charts
    ]
    month = f"{MONTHS[locale if locale in MONTHS else 'en'][digest.period.start.month - 1]} " \
        f"{digest.period.start.year}"
    month = month[0].upper() + month[1:]
    context = {
        "d": digest, "w": w, "labels": labels, "images": images,
        "channel": lambda c: channel_label(c, locale),
        "change": lambda line: change_text(line, w),
        "intro": w[f"intro_{digest.spec.frequency}"].format(
            start=day(digest.period.start, locale), end=day(digest.period.end, locale),
            month=month),
        "average_label": w["average"].format(periods=w[f"periods_{digest.spec.frequency}"]),
        "footer": w["footer"].format(frequency=w[f"frequency_{digest.spec.frequency}"],
                                     authority=digest.spec.authority.name),
        "empty_text": w["empty"].format(n=digest.items, min_n=digest.min_sample_size),
        "figures_note": w["figures_note"].format(min_n=digest.min_sample_size),
        "source_line": lambda note: source_line(note, w, digest),
        "unsubscribe_url": unsubscribe_url, "subject": subject(digest), "lang": locale,
    }
    env = environment()
    return Rendered(subject=subject(digest), html=env.get_template("digest.html").render(context),
                    text=env.get_template("digest.txt").render(context), charts=charts)


def source_line(note: SourceNote, w: dict[str, str], digest: Digest) -> str:
    s = note.source
    if note.kind == "failed":
        error = " ".join((s.last_error or "").split())[:200]
        return w["source_failed"].format(name=s.name, failures=s.consecutive_failures,
                                         error=error)
    return w["source_silent"].format(name=s.name, baseline=s.baseline_items,
                                     count=AVERAGE_PERIODS)


def unsubscribe_page(*, locale: str, authority: str, email: str, frequency: str, done: bool,
                     action: str, message: str | None = None) -> str:
    """The page of an unsubscribe link: a confirmation button, what was done, or ``message``
    (a link that is not valid)."""
    w = words(locale)
    values = {"authority": authority, "email": email,
              "frequency": w[f"frequency_{frequency}"]}
    return environment().get_template("unsubscribe.html").render(
        lang=locale, title=w["unsubscribe_title"], done=done, action=action,
        message=message or w["unsubscribe_done" if done else "unsubscribe_confirm"].format(
            **values),
        button=w["unsubscribe_button"])
