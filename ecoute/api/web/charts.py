"""Charts drawn on the server as SVG: readable without JavaScript, styled by the stylesheet
(no inline style, which the content security policy forbids), escaped like any other text.

Every chart is decorative for assistive technologies (``aria-hidden``): the page states the
same figures in text or in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


def _svg(width: int, height: int, body: str, css: str) -> Markup:
    return Markup(
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-hidden="true" focusable="false" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _x(share: float, left: float, width: float) -> float:
    return round(left + max(0.0, min(1.0, share)) * width, 1)


def interval_bar(share: float | None, low: float | None, high: float | None, *,
                 sufficient: bool, width: int = 240) -> Markup:
    """The share as a dot on a 0–100 % scale, its 95 % interval as an error bar."""
    height, left, inner = 30, 8, width - 16
    body = [
        f'<line class="axis" x1="{left}" y1="22" x2="{left + inner}" y2="22"/>',
        *(f'<line class="tick" x1="{_x(t, left, inner)}" y1="19" x2="{_x(t, left, inner)}" '
          f'y2="25"/>' for t in (0, 0.25, 0.5, 0.75, 1)),
    ]
    state = "sufficient" if sufficient else "insufficient"
    if share is not None and low is not None and high is not None:
        x0, x1, xs = _x(low, left, inner), _x(high, left, inner), _x(share, left, inner)
        body += [
            f'<line class="interval {state}" x1="{x0}" y1="11" x2="{x1}" y2="11"/>',
            f'<line class="interval {state}" x1="{x0}" y1="6" x2="{x0}" y2="16"/>',
            f'<line class="interval {state}" x1="{x1}" y1="6" x2="{x1}" y2="16"/>',
            f'<circle class="share {state}" cx="{xs}" cy="11" r="4.5"/>',
        ]
    return _svg(width, height, "".join(body), "interval-bar")


def sentiment_bar(positive: int, neutral: int, negative: int, *, width: int = 320) -> Markup:
    """One bar split into positive, neutral and negative shares."""
    total = positive + neutral + negative
    height = 18
    if not total:
        return _svg(width, height, f'<rect class="empty" x="0" y="0" width="{width}" '
                    f'height="{height}"/>', "sentiment-bar")
    body, x = [], 0.0
    for css, count in (("positive", positive), ("neutral", neutral), ("negative", negative)):
        w = width * count / total
        if w:
            body.append(f'<rect class="{css}" x="{round(x, 1)}" y="0" width="{round(w, 1)}" '
                        f'height="{height}"/>')
        x += w
    return _svg(width, height, "".join(body), "sentiment-bar")


def volume_bar(count: int, largest: int, *, width: int = 200) -> Markup:
    """A bar as long as ``count`` is against the ``largest``."""
    w = round(width * count / largest, 1) if largest else 0
    return _svg(width, 14, f'<rect class="volume" x="0" y="0" width="{w}" height="14"/>',
                "volume-bar")


@dataclass(frozen=True)
class Point:
    label: str
    short: str  # under the axis
    share: float | None
    low: float | None
    high: float | None
    sufficient: bool
    href: str


def series_chart(points: Sequence[Point], *, width: int = 340, height: int = 150) -> Markup:
    """A series of shares with its 95 % interval as a band; insufficient points hollow.

    Points carry their drill-down address in ``data-href``: the page's script makes them
    clickable, the table beside the chart has the same links for keyboards and readers."""
    left, right, top, bottom = 34, 8, 8, 22
    inner_w, inner_h = width - left - right, height - top - bottom
    count = max(len(points), 1)

    def px(i: int) -> float:
        return round(left + (i + 0.5) * inner_w / count, 1)

    def py(share: float) -> float:
        return round(top + (1 - max(0.0, min(1.0, share))) * inner_h, 1)

    body = []
    for level in (0, 0.5, 1):
        body.append(f'<line class="grid" x1="{left}" y1="{py(level)}" x2="{width - right}" '
                    f'y2="{py(level)}"/>')
        body.append(f'<text class="y-label" x="{left - 4}" y="{py(level) + 4}" '
                    f'text-anchor="end">{int(level * 100)}</text>')
    shown = [(i, p) for i, p in enumerate(points)
             if p.share is not None and p.low is not None and p.high is not None]
    if shown:
        upper = " ".join(f"{px(i)},{py(p.high or 0)}" for i, p in shown)
        lower = " ".join(f"{px(i)},{py(p.low or 0)}" for i, p in reversed(shown))
        body.append(f'<polygon class="band" points="{upper} {lower}"/>')
        line = " ".join(f"{px(i)},{py(p.share or 0)}" for i, p in shown)
        body.append(f'<polyline class="line" points="{line}"/>')
    for i, p in shown:
        state = "sufficient" if p.sufficient else "insufficient"
        body.append(
            f'<circle class="point {state}" cx="{px(i)}" cy="{py(p.share or 0)}" r="4" '
            f'data-href="{escape(p.href)}"><title>{escape(p.label)}: '
            f'{round((p.share or 0) * 100)}</title></circle>')
    every = max(1, -(-count // 4))
    for i, p in enumerate(points):
        if (count - 1 - i) % every == 0:
            body.append(f'<text class="x-label" x="{px(i)}" y="{height - 6}" '
                        f'text-anchor="middle">{escape(p.short)}</text>')
    return _svg(width, height, "".join(body), "series")
