"""The digest's charts as PNG images (matplotlib's Agg canvas: no display, no pyplot state,
safe in the scheduler's threads), each with the alt text that says what it shows."""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ecoute.digest.compose import Digest
from ecoute.digest.wording import channel_label, determinant_labels, words

#: Displayed width in the e-mail (pixels); the image has twice as many for sharp screens.
WIDTH_PX = 600
_DPI = 100
_BLUE, _GREY, _LIGHT, _DARK = "#2b6cb0", "#a0aec0", "#bee3f8", "#1a202c"


@dataclass(frozen=True)
class Chart:
    name: str  # also its Content-ID's local part
    png: bytes
    alt: str
    width: int  # displayed size in pixels
    height: int


def content_id(chart: Chart) -> str:
    """The chart's Content-ID in an e-mail (without the angle brackets)."""
    return f"{chart.name}@digest.ecoute"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=_DPI * 2, metadata={"Software": None})
    return buffer.getvalue()


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def determinant_chart(digest: Digest, labels: dict[str, str]) -> Chart | None:
    """Share positive per determinant with its 95 % interval and the four-period average;
    None when no determinant has enough mentions."""
    lines = [f for f in digest.figures if f.sufficient]
    if not lines:
        return None
    w = words(digest.spec.locale)
    height_in = 0.42 * len(lines) + 0.9
    figure = Figure(figsize=(WIDTH_PX / _DPI, height_in), layout="constrained")
    ax = figure.add_subplot()
    names = [labels[f.determinant] for f in lines][::-1]
    shares = [(f.share or 0) * 100 for f in lines][::-1]
    # Clamped: at a share of 0 or 1 the Wilson bound and the share differ by rounding only.
    lows = [max(0.0, s - (f.interval.low * 100 if f.interval else s)) for s, f in
            zip(shares, lines[::-1], strict=True)]
    highs = [max(0.0, (f.interval.high * 100 if f.interval else s) - s) for s, f in
             zip(shares, lines[::-1], strict=True)]
    ax.barh(names, shares, color=_LIGHT, edgecolor=_BLUE, height=0.6)
    ax.errorbar(shares, names, xerr=[lows, highs], fmt="none", ecolor=_DARK, capsize=3,
                linewidth=1)
    averages = [(i, f.average * 100) for i, f in enumerate(lines[::-1]) if f.average is not None]
    if averages:
        ax.scatter([a for _, a in averages], [i for i, _ in averages], marker="D", s=18,
                   color=_GREY, zorder=3, label=w["average"].format(
                       periods=w[f"periods_{digest.spec.frequency}"]))
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f} %")
    ax.tick_params(labelsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    period = digest.period.key
    alt = w["chart_determinants"].format(period=period) + ": " + "; ".join(
        f"{labels[f.determinant]} {_percent(f.share or 0)}"
        + (f" ({_percent(f.interval.low)}–{_percent(f.interval.high)})" if f.interval else "")
        for f in lines) + "."
    return Chart("determinants", _png(figure), alt, WIDTH_PX, round(height_in * _DPI))


def volume_chart(digest: Digest) -> Chart | None:
    """Items per channel in the period beside the period before; None without any."""
    volumes = [v for v in digest.volumes if v.items or v.previous_items]
    if not volumes:
        return None
    locale = digest.spec.locale
    w = words(locale)
    height_in = 0.38 * len(volumes) + 0.9
    figure = Figure(figsize=(WIDTH_PX / _DPI, height_in), layout="constrained")
    ax = figure.add_subplot()
    names = [channel_label(v.channel, locale) for v in volumes][::-1]
    positions = list(range(len(volumes)))
    ax.barh([p + 0.2 for p in positions], [v.items for v in volumes][::-1], height=0.4,
            color=_BLUE, label=digest.period.key)
    ax.barh([p - 0.2 for p in positions], [v.previous_items for v in volumes][::-1],
            height=0.4, color=_GREY, label=w["previous"])
    ax.set_yticks(positions, names)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.tick_params(labelsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    alt = w["chart_volume"].format(period=digest.period.key) + ": " + "; ".join(
        f"{channel_label(v.channel, locale)} {v.items} ({v.previous_items})" for v in volumes) + "."
    return Chart("volume", _png(figure), alt, WIDTH_PX, round(height_in * _DPI))


def charts(digest: Digest, lexicon_labels: dict[str, str] | None = None) -> list[Chart]:
    labels = lexicon_labels or determinant_labels(None, digest.spec.locale)
    return [c for c in (determinant_chart(digest, labels), volume_chart(digest)) if c]
