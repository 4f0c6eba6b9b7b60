"""Survey exports: one item per free-text answer, ratings and NPS kept with it.

Reads LimeSurvey, Qualtrics, KoboToolbox and Google Forms exports and generic CSV/XLSX/JSON
(see ``survey_layouts``). A respondent's open answers are separate items sharing
``extra.respondent_id``; their external id is ``respondent:question``, so a re-export of the
same survey adds only the new answers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from pydantic import Field, field_validator

from ecoute.collectors.base import CollectContext, Collector, RawItem, Rejected
from ecoute.collectors.ratings import parse_rating, rating_norm
from ecoute.collectors.files.reading import (
    JSON_MAX_BYTES,
    FileSourceOptions,
    SourceFile,
    collect_files,
    file_format,
    parse_datetime,
    read_json_records,
    read_rows,
)
from ecoute.collectors.kinds.survey_file_layouts import (
    DATE_COLUMNS,
    RESPONDENT_COLUMNS,
    Column,
    Layout,
    Response,
    flatten,
    kobo_form_columns,
    norm,
    repeat_base,
    table_responses,
)
from ecoute.collectors.limits import loads_bounded
from ecoute.errors import ParseError
from ecoute.domain import RATING_SCALES, Channel, nps_category

#: Answers that say nothing (kept out of the items).
EMPTY_ANSWERS = {"-", "--", ".", "n/a", "na", "nr", "none", "rien", "néant", "neant", "ras", "/"}
NPS_HINT = re.compile(r"\bnps\b|recommand|recommend|empfehl", re.I)
#: Question wordings that ask for a comment: a few short answers are then enough to tell.
OPEN_QUESTION_HINT = re.compile(
    r"comment|describe|décri|decri|remarque|suggest|pourquoi|\bwhy\b|précis|explain|expliqu|"
    r"avis|opinion|amélior|improv|other\]|autre\]|free text|texte libre|beschreib|warum", re.I)
SAMPLE_RESPONSES = 200


def _looks_like_free_text(values: list[str], label: str) -> bool:
    texty = [v for v in values if re.search(r"[^\W\d_]{2}", v) and not v.startswith(("{", "["))
             and parse_datetime(v) is None]
    if not values or len(texty) < len(values) / 2:
        return False
    if OPEN_QUESTION_HINT.search(label):
        return True
    mean_length = sum(map(len, texty)) / len(texty)
    if len(values) >= 5:
        return len(set(texty)) / len(texty) >= 0.7 and mean_length >= 12
    return mean_length >= 8 and any(" " in v for v in texty)


def _answer_id(respondent: str, key: str) -> str:
    ident = f"{respondent}:{key}"
    return ident if len(ident) <= 300 else f"{respondent}:{hashlib.sha1(key.encode()).hexdigest()}"


class SurveyFileCollector(Collector):
    """Survey exports (LimeSurvey, Qualtrics, KoboToolbox, Google Forms, CSV/XLSX/JSON)."""

    kind = "survey_file"
    channel = Channel.SURVEY
    default_schedule = "every 1 hour"
    dedupe_by_content = False  # two respondents may well write the same short answer

    class Options(FileSourceOptions):
        format: Literal["auto", "qualtrics", "qualtrics_legacy", "limesurvey", "kobo",
                        "google_forms", "generic"] = Field(
            "auto", description="Export layout; `auto` recognises it from the header rows.")
        text_columns: list[str] = Field(
            default_factory=list, description="Columns holding free-text answers (header, "
            "question code, Qualtrics ImportId or question text); empty: detected.")
        ratings: dict[str, str] = Field(
            default_factory=dict, description="Rating columns and their scale: `1-5` (stars), "
            "`nps` (0-10 recommendation), `0-10`, `1-7` (CSAT), `1-10`, `0-5`, `1-4`, `yes/no`. "
            "Empty: NPS and KoBo yes/no questions are detected.")
        respondent_id_column: str | None = Field(
            None, description="Column identifying a response; empty: the tool's response id, "
            "else a hash of the row.")
        date_column: str | None = Field(
            None, description="Column holding the response date; empty: the tool's one.")
        site_column: str | None = Field(None, description="Column naming the site visited.")
        department_column: str | None = Field(
            None, description="Column naming the department concerned.")
        rating_only_items: bool = Field(
            True, description="A respondent with ratings but no comment still yields one item "
            "(text: the rated questions) so that scores and NPS count everyone.")
        min_text_length: int = Field(
            2, ge=1, description="Shorter answers (and `-`, `n/a`...) are not feedback.")
        lang: str | None = Field(None, description="Language of the answers, if known (fr, en).")

        @field_validator("ratings")
        @classmethod
        def _known_scales(cls, value: dict[str, str]) -> dict[str, str]:
            for column, scale in value.items():
                if scale not in RATING_SCALES:
                    raise ValueError(f"rating scale {scale!r} of {column!r} is not one of "
                                     f"{', '.join(RATING_SCALES)}")
            return value

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        return collect_files(ctx, self.options, lambda source: self._read(source, ctx))

    def _read(self, source: SourceFile, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        layout, responses = self._responses(source)
        sample = list(islice(responses, SAMPLE_RESPONSES))
        answered = [r for r in sample if isinstance(r, Response)]
        plan = _Plan.build(layout, answered, self.options, source)
        if answered and not plan.texts:
            # Otherwise a closed-question export (or one whose comment column was not
            # recognised) just gives no item, and nobody learns why.
            kept = ("only the ratings are kept" if plan.ratings and self.options.rating_only_items
                    else "nothing is collected from it")
            ctx.warn(f"{source.name}: no free-text answer column found among its "
                     f"{len(layout.columns)} columns, so {kept}; if a column holds comments, "
                     "name it in the text_columns option")
        for response in [*sample, *responses]:
            if isinstance(response, Rejected):
                yield response
            else:
                yield from plan.items(response, layout, self.options, source)

    def _responses(self, source: SourceFile) -> tuple[Layout, Iterator[Response | Rejected]]:
        kind = file_format(source.path)
        if kind in ("csv", "xlsx"):
            return table_responses(source, read_rows(source, self.options), self.options.format)
        form: dict[str, Any] = {}
        if kind == "json" and source.size <= JSON_MAX_BYTES:
            head = source.path.read_bytes()[:64].lstrip(b"\xef\xbb\xbf").lstrip()
            if head.startswith(b"{"):  # a formpack/KoBo document: read its form too
                try:
                    document = loads_bounded(source.path.read_bytes().decode("utf-8-sig"),
                                             source.limits.json_max_depth, what=source.name)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise ParseError(f"{source.name} is not valid JSON ({exc})") from exc
                form = document.get("content") or document.get("asset", {}).get("content") or {}
        layout = Layout("kobo" if form else "generic", kobo_form_columns(form) if form else {})

        def responses() -> Iterator[Response | Rejected]:
            for entry in read_json_records(source):
                if isinstance(entry, Rejected):
                    yield entry
                elif not isinstance(entry[1], dict):
                    yield Rejected(json.dumps(entry[1])[:2000], source.at(entry[0]),
                                   f"{source.name}, record {entry[0]}: not a JSON object")
                else:
                    answers = flatten(entry[1])
                    if "_uuid" in answers:
                        layout.format = "kobo"
                    for key in answers:
                        base = repeat_base(key)
                        if base not in layout.columns:
                            label = base.rsplit("/", 1)[-1]
                            layout.columns[base] = Column(base, label, {norm(base), norm(label)})
                    yield Response(source.at(entry[0]), entry[0], answers)

        return layout, responses()


@dataclass
class _Plan:
    """Which columns are text, ratings, id, date, site and department, for one file."""

    texts: set[str]
    ratings: dict[str, str]
    respondent: str | None
    date: str | None
    site: str | None
    department: str | None

    @classmethod
    def build(cls, layout: Layout, sample: list[Response], options: SurveyFileCollector.Options,
              source: SourceFile) -> _Plan:
        def mapped(name: str | None, option: str) -> str | None:
            if not name:
                return None
            column = layout.find(name)
            if column is None:
                known = ", ".join(c.label[:40] for c in list(layout.columns.values())[:15])
                raise ParseError(f"{source.name}: no column {name!r} (option {option})",
                                 hint=f"columns are: {known}...")
            return column.key

        def first_of(names: tuple[str, ...]) -> str | None:
            for name in names:
                if (column := layout.find(name)) is not None:
                    return column.key
            return None

        values: dict[str, list[str]] = {}
        for response in sample:
            for key, value in response.answers.items():
                values.setdefault(repeat_base(key), []).append(value)
        ratings = {mapped(c, "ratings") or c: s for c, s in options.ratings.items()}
        if not options.ratings:
            for column in layout.columns.values():
                seen = values.get(column.key, [])
                if column.kind == "yes/no":
                    ratings[column.key] = "yes/no"
                elif NPS_HINT.search(column.label) and seen and all(
                        parse_rating(v, "nps") is not None for v in seen):
                    ratings[column.key] = "nps"
        plan = cls(
            texts=set(), ratings=ratings,
            respondent=mapped(options.respondent_id_column, "respondent_id_column")
            or first_of(RESPONDENT_COLUMNS),
            date=mapped(options.date_column, "date_column") or first_of(DATE_COLUMNS),
            site=mapped(options.site_column, "site_column"),
            department=mapped(options.department_column, "department_column"),
        )
        if options.text_columns:
            plan.texts = {mapped(name, "text_columns") or name for name in options.text_columns}
            return plan
        taken = {plan.respondent, plan.date, plan.site, plan.department, *ratings}
        for column in layout.columns.values():
            if column.key in taken or column.is_metadata:
                continue
            if layout.format == "qualtrics":
                is_text = column.key.endswith("_TEXT")
            elif column.kind is not None:
                is_text = column.kind == "text"
            else:
                is_text = _looks_like_free_text(values.get(column.key, []), column.label)
            if is_text:
                plan.texts.add(column.key)
        return plan

    def items(self, response: Response, layout: Layout, options: SurveyFileCollector.Options,
              source: SourceFile) -> Iterator[RawItem]:
        answers = response.answers
        respondent = answers.get(self.respondent or "") or "row-" + hashlib.sha1(
            json.dumps(sorted(answers.items())).encode()).hexdigest()[:16]
        ratings: dict[str, dict[str, Any]] = {}
        for key, scale in self.ratings.items():
            raw = answers.get(key)
            value = parse_rating(raw, scale) if raw else None
            if raw and value is not None:
                ratings[key] = {"value": value, "scale": scale, "raw": raw,
                                "norm": rating_norm(value, scale),
                                "question": layout.columns[key].label if key in layout.columns
                                else key}
        primary = next(iter(ratings.values()), None)
        extra: dict[str, Any] = {"respondent_id": respondent, "format": layout.format,
                                 "file": source.name, "line": response.line}
        version_key = None
        if ratings:
            extra["ratings"] = ratings
            # A respondent who edits a rating (KoboToolbox, LimeSurvey allow it) leaves the
            # answer text alone: hashing the ratings makes a re-export update the item.
            version_key = "|".join(
                f"{key}={rating['value']:g}" for key, rating in sorted(ratings.items()))
        if primary and primary["scale"] == "nps":
            extra["nps_category"] = nps_category(primary["value"])
        common: dict[str, Any] = dict(
            published_at=parse_datetime(answers.get(self.date or "", ""), options.timezone),
            author=respondent, lang=options.lang,
            rating_value=primary["value"] if primary else None,
            rating_scale=("0-10" if primary["scale"] == "nps" else primary["scale"])
            if primary else None,
            rating_norm=primary["norm"] if primary else None,
            site=answers.get(self.site or ""), department=answers.get(self.department or ""),
            version_key=version_key,
        )
        found = False
        for key, text in answers.items():
            base = repeat_base(key)
            if base not in self.texts or len(text) < options.min_text_length \
                    or norm(text) in EMPTY_ANSWERS:
                continue
            found = True
            column = layout.columns.get(base)
            label = column.label if column else base
            yield RawItem(external_id=_answer_id(respondent, key), text=text, title=label[:500],
                          extra={**extra, "question": label[:500], "question_key": key},
                          **common)
        if not found and ratings and options.rating_only_items:
            text = "; ".join(f"{r['question'][:200]}: {r['raw']}" for r in ratings.values())
            yield RawItem(external_id=_answer_id(respondent, "ratings"), text=text,
                          extra={**extra, "rating_only": True}, **common)
