"""Small server-side SVG charts for the staff console: no dependencies, no scripts.

Every public function returns a standalone ``<svg>`` as ``markupsafe.Markup`` so a Jinja
template can drop it in with ``{{ chart }}``. Labels and titles are escaped; the output is
deterministic (same input, same bytes). Negative and non-finite bar values are drawn as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

# Okabe-Ito: stays distinguishable under the common kinds of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, MUTED, GRID = "#222222", "#666666", "#dddddd"
CHAR_W = 6.2  # rough width of one 11px character, for fitting labels
NO_DATA = "No data yet"
TITLE_Y = 18


def _f(x: float) -> str:
    """A coordinate, rounded to 0.1 px, without a trailing '.0'."""
    s = f"{round(x, 1) or 0.0:.1f}"
    return s.removesuffix(".0")


def _num(x: float) -> str:
    """A plain number: 3, 2.5, 1,250."""
    return format(x, ",.12g")


def _clean(v: float | None) -> float:
    """A bar length: None, NaN, infinities and negatives become 0."""
    return v if v is not None and math.isfinite(v) and v > 0 else 0.0


def _clip(text: str, max_chars: int) -> str:
    """The text, cut to max_chars with an ellipsis if longer."""
    max_chars = max(max_chars, 2)
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "\u2026"


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", max_chars: int | None = None, **attrs
) -> str:
    """A <text>; a truncated one carries the full text as its tooltip."""
    shown = text if max_chars is None else _clip(text, max_chars)
    tip = f"<title>{escape(text)}</title>" if shown != text else ""
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{escape(shown)}{tip}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str) -> str:
    """A data bar with a hover tooltip."""
    return (
        f'<rect class="bar" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" '
        f'fill="{fill}"><title>{escape(tip)}</title></rect>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, cls: str) -> str:
    return (
        f'<line class="{cls}" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
        f'stroke="{stroke}" stroke-width="1"/>'
    )


def _svg(title: str, width: int, height: int, body: list[str]) -> Markup:
    """The outer <svg>: accessible name, visible title, then the body."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart" role="img" '
        f'aria-label="{escape(title)}" font-family="{FONT}" font-size="11" fill="{INK}">'
        f"<title>{escape(title)}</title>"
    )
    heading = _text(
        8,
        TITLE_Y,
        title,
        max_chars=int((width - 16) / (CHAR_W * 1.3)),
        class_="chart-title",
        font_size="14",
        font_weight="600",
    )
    return Markup(head + heading + "".join(body) + "</svg>")


def _empty(title: str, width: int, height: int) -> Markup:
    """The frame with a 'No data yet' message."""
    box_h = max(height - 36, 20)
    frame = (
        f'<rect class="frame" x="8" y="28" width="{width - 16}" height="{box_h}" '
        f'fill="none" stroke="{GRID}"/>'
    )
    msg = _text(width / 2, 32 + box_h / 2, NO_DATA, anchor="middle", class_="no-data", fill=MUTED)
    return _svg(title, width, height, [frame, msg])


def _ticks(top: float, *, integer: bool = False) -> list[float]:
    """0 plus 3-5 round, evenly spaced ticks reaching at least top (whole steps if integer)."""
    if not (math.isfinite(top) and top > 0):
        top = 1.0
    if integer:
        top = max(top, 4.0)
    mag = 10.0 ** math.floor(math.log10(top / 4))
    best: tuple[int, float, int] | None = None
    for m in (mag / 10, mag, mag * 10):
        for s in (1, 2, 2.5, 5):
            step = s * m
            if integer and step % 1:
                continue
            count = math.ceil(top / step - 1e-9)
            rank = {4: 0, 3: 1, 5: 2}.get(count)
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, step, count)
    _, step, count = best or (0, top / 4, 4)
    return [round(i * step, 10) for i in range(count + 1)]


def _y_axis(ticks: list[float], fmt, left: float, right: float, top: float, bottom: float):
    """Horizontal gridlines with labels; returns (parts, value -> y)."""

    def y_of(v: float) -> float:
        return bottom - min(max(v, 0.0), ticks[-1]) / ticks[-1] * (bottom - top)

    parts = []
    for t in ticks:
        y = y_of(t)
        parts.append(_line(left, y, right, y, MUTED if t == 0 else GRID, "grid"))
        parts.append(_text(left - 6, y + 4, fmt(t), anchor="end", class_="tick", fill=MUTED))
    return parts, y_of


def _y_title(y_label: str, top: float, bottom: float) -> list[str]:
    if not y_label:
        return []
    cy = (top + bottom) / 2
    return [
        f'<text class="y-label" x="12" y="{_f(cy)}" text-anchor="middle" fill="{MUTED}" '
        f'transform="rotate(-90 12 {_f(cy)})">{escape(_clip(y_label, 40))}</text>'
    ]


def _left_margin(tick_labels: list[str], y_label: str) -> float:
    return max(30.0, max(len(t) for t in tick_labels) * CHAR_W + 12) + (16 if y_label else 0)


def _x_labels(labels: Sequence[str], left: float, slot: float, y: float) -> list[str]:
    """Category labels under the slots, thinned to about ten and truncated to fit."""
    longest = min(max(len(label) for label in labels), 14)
    step = max(1, math.ceil(len(labels) / 10), math.ceil((longest * CHAR_W + 6) / slot))
    max_chars = int((slot * step - 6) / CHAR_W)
    return [
        _text(
            left + slot * (i + 0.5),
            y,
            label,
            anchor="middle",
            max_chars=max_chars,
            class_="x-label",
        )
        for i, label in enumerate(labels)
        if i % step == 0
    ]


def _legend(names: list[str], left: float, y: float, width: int) -> tuple[list[str], float]:
    """Swatch + name per series, wrapping onto new rows; returns (parts, y below)."""
    parts, x = [], left
    for i, name in enumerate(names):
        w = 14 + len(_clip(name, 24)) * CHAR_W + 14
        if x > left and x + w > width - 8:
            x, y = left, y + 16
        parts.append(
            f'<g class="legend-item"><rect class="swatch" x="{_f(x)}" y="{_f(y)}" width="10" '
            f'height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f"{_text(x + 14, y + 9, name, max_chars=24)}</g>"
        )
        x += w
    return parts, y + 16


def _is_whole(values) -> bool:
    return all(float(v).is_integer() for v in values)


def stacked_bars(
    title: str,
    categories: list[str],
    series: dict[str, list[float]],
    *,
    width: int = 640,
    height: int = 260,
    y_label: str = "",
) -> Markup:
    """One bar per category, stacked by series, with legend, gridlines and tooltips."""
    if not categories or not series:
        return _empty(title, width, height)
    names = list(series)
    data = {n: [_clean(v) for v in list(series[n])[: len(categories)]] for n in names}
    data = {n: vals + [0.0] * (len(categories) - len(vals)) for n, vals in data.items()}
    totals = [sum(data[n][i] for n in names) for i in range(len(categories))]
    ticks = _ticks(max(totals), integer=_is_whole(totals))
    tick_labels = [_num(t) for t in ticks]

    left = _left_margin(tick_labels, y_label)
    right = width - 12
    legend, legend_bottom = _legend(names, left, 28, width)
    top, bottom = legend_bottom + 14, max(height - 24, legend_bottom + 40)
    parts, y_of = _y_axis(ticks, _num, left, right, top, bottom)
    parts += _y_title(y_label, top, bottom)
    parts += legend

    slot = (right - left) / len(categories)
    bar_w = min(slot * 0.7, 60)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        base = 0.0
        for j, name in enumerate(names):
            v = data[name][i]
            if v:
                y_top = y_of(base + v)
                parts.append(
                    _rect(
                        x,
                        y_top,
                        bar_w,
                        y_of(base) - y_top,
                        PALETTE[j % len(PALETTE)],
                        f"{name}, {category}: {_num(v)}",
                    )
                )
                base += v
        label = _num(totals[i])
        if len(label) * CHAR_W <= slot:
            parts.append(
                _text(
                    x + bar_w / 2,
                    y_of(totals[i]) - 4,
                    label,
                    anchor="middle",
                    class_="total",
                    fill=MUTED,
                    font_size="10",
                )
            )
    parts += _x_labels(categories, left, slot, height - 8)
    return _svg(title, width, height, parts)


def bars(
    title: str,
    labels: list[str],
    values: list[float],
    *,
    width: int = 640,
    height: int = 220,
    y_label: str = "",
    value_format: str = "{:g}",
) -> Markup:
    """A vertical bar chart with each value written above its bar."""
    if not labels:
        return _empty(title, width, height)
    raw = [v if v is not None else 0.0 for v in list(values)[: len(labels)]]
    raw += [0.0] * (len(labels) - len(raw))
    lengths = [_clean(v) for v in raw]
    ticks = _ticks(max(lengths), integer=_is_whole(lengths))
    tick_labels = [_num(t) for t in ticks]

    left = _left_margin(tick_labels, y_label)
    right, top, bottom = width - 12, 44, max(height - 24, 64)
    parts, y_of = _y_axis(ticks, _num, left, right, top, bottom)
    parts += _y_title(y_label, top, bottom)

    slot = (right - left) / len(labels)
    bar_w = min(slot * 0.7, 60)
    for i, (label, v, length) in enumerate(zip(labels, raw, lengths, strict=True)):
        x = left + slot * i + (slot - bar_w) / 2
        text = value_format.format(v)
        if length:
            parts.append(
                _rect(x, y_of(length), bar_w, bottom - y_of(length), PALETTE[0], f"{label}: {text}")
            )
        if len(text) * CHAR_W <= slot + 2:
            parts.append(
                _text(x + bar_w / 2, y_of(length) - 4, text, anchor="middle", class_="value")
            )
    parts += _x_labels(labels, left, slot, height - 8)
    return _svg(title, width, height, parts)


def hbars(
    title: str,
    labels: list[str],
    values: list[float | None],
    *,
    width: int = 640,
    value_format: str = "{:.1f}",
    unit: str = "",
) -> Markup:
    """Horizontal bars, one row per label (None shows 'n/a'); unit is appended verbatim."""
    row_h, top = 22, 30
    if not labels:
        return _empty(title, width, 100)
    vals = list(values)[: len(labels)]
    vals += [None] * (len(labels) - len(vals))
    height = top + row_h * len(labels) + 8
    texts = ["n/a" if v is None else value_format.format(v) + unit for v in vals]
    label_w = min(width * 0.4, max(len(label) for label in labels) * CHAR_W + 12)
    value_w = max(len(t) for t in texts) * CHAR_W + 8
    x0 = label_w + 6
    span = max(width - 8 - value_w - x0, 10)
    scale = max(_clean(v) for v in vals) or 1.0

    parts = [_line(x0, top, x0, top + row_h * len(labels), MUTED, "axis")]
    for i, (label, v, text) in enumerate(zip(labels, vals, texts, strict=True)):
        y = top + row_h * i
        parts.append(
            _text(
                label_w,
                y + row_h / 2 + 4,
                label,
                anchor="end",
                max_chars=int((label_w - 12) / CHAR_W),
                class_="y-label",
            )
        )
        w = _clean(v) / scale * span
        if w:
            parts.append(_rect(x0, y + 4, w, row_h - 8, PALETTE[0], f"{label}: {text}"))
        parts.append(
            _text(
                x0 + w + 4,
                y + row_h / 2 + 4,
                text,
                class_="value",
                fill=MUTED if v is None else INK,
            )
        )
    return _svg(title, width, height, parts)


def line(
    title: str,
    labels: list[str],
    values: list[float | None],
    *,
    width: int = 640,
    height: int = 220,
    y_max: float | None = None,
    value_format: str = "{:.0%}",
) -> Markup:
    """A line with dots over the labels, broken at None; meant for rates in 0..1."""
    vals = [v if v is not None and math.isfinite(v) else None for v in list(values)[: len(labels)]]
    vals += [None] * (len(labels) - len(vals))
    present = [v for v in vals if v is not None]
    if not present:
        return _empty(title, width, height)
    ticks = _ticks(y_max if y_max is not None else max(1.0, *present))
    tick_labels = [value_format.format(t) for t in ticks]

    left = _left_margin(tick_labels, "")
    right, top, bottom = width - 12, 34, max(height - 24, 54)
    parts, y_of = _y_axis(ticks, value_format.format, left, right, top, bottom)
    slot = (right - left) / len(labels)
    points = [None if v is None else (left + slot * (i + 0.5), y_of(v)) for i, v in enumerate(vals)]

    run: list[tuple[float, float]] = []
    for point in [*points, None]:
        if point is not None:
            run.append(point)
            continue
        if len(run) > 1:
            coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
            parts.append(
                f'<polyline class="series" points="{coords}" fill="none" stroke="{PALETTE[0]}" '
                f'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>'
            )
        run = []
    for label, v, point in zip(labels, vals, points, strict=True):
        if point is not None:
            parts.append(
                f'<circle class="dot" cx="{_f(point[0])}" cy="{_f(point[1])}" r="3" '
                f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(value_format.format(v))}'
                "</title></circle>"
            )
    parts += _x_labels(labels, left, slot, height - 8)
    return _svg(title, width, height, parts)
