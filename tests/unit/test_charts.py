"""The console's SVG charts: well-formed, accessible, faithful to the data, escaped."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup, escape

from console.charts import PALETTE, bars, hbars, line, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<b>&"


def parse(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    root = ET.fromstring(str(chart))  # raises if not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def find(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if cls is None or e.get("class") == cls]


def bar_rects(root: ET.Element) -> list[ET.Element]:
    return find(root, "rect", "bar")


def tip(el: ET.Element) -> str:
    title = el.find(f"{SVG}title")
    assert title is not None, f"{el.tag} has no tooltip"
    return title.text or ""


def shown(root: ET.Element, cls: str | None = None) -> list[str]:
    """The visible text of <text> elements (not their tooltips)."""
    return [t.text or "" for t in find(root, "text", cls)]


def num(attr: str | None) -> float:
    assert attr is not None
    return float(attr)


def view_height(root: ET.Element) -> float:
    return float(root.get("viewBox", "").split()[3])


DAYS = ["2026-11-26", "2026-11-27", "2026-11-28"]
SERIES = {"Pothole": [1, 0, 3], "Graffiti": [2, 2, 0]}


def test_stacked_bars_is_an_accessible_standalone_svg():
    root = parse(stacked_bars("Cases by day", DAYS, SERIES))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Cases by day"
    assert root.get("viewBox") == "0 0 640 260"
    assert tip(root) == "Cases by day"
    assert shown(root, "chart-title") == ["Cases by day"]
    assert "sans-serif" in root.get("font-family", "")


def test_stacked_bars_draws_one_rect_per_nonzero_segment_with_tooltips():
    root = parse(stacked_bars("Cases by day", DAYS, SERIES))
    rects = bar_rects(root)
    assert len(rects) == 4
    assert sorted(tip(r) for r in rects) == sorted(
        [
            "Pothole, 2026-11-26: 1",
            "Pothole, 2026-11-28: 3",
            "Graffiti, 2026-11-26: 2",
            "Graffiti, 2026-11-27: 2",
        ]
    )
    fills = {tip(r).split(",")[0]: set() for r in rects}
    for r in rects:
        fills[tip(r).split(",")[0]].add(r.get("fill"))
    assert all(len(f) == 1 for f in fills.values())
    assert fills["Pothole"] != fills["Graffiti"]


def test_stacked_segments_are_proportional_and_stack_upwards():
    root = parse(stacked_bars("Cases", DAYS, SERIES))
    by_tip = {tip(r): r for r in bar_rects(root)}
    one = by_tip["Pothole, 2026-11-26: 1"]
    three = by_tip["Pothole, 2026-11-28: 3"]
    assert num(three.get("height")) == pytest.approx(3 * num(one.get("height")), abs=0.3)
    two_on_top = by_tip["Graffiti, 2026-11-26: 2"]
    # the second series sits directly on top of the first in the same column
    assert num(two_on_top.get("x")) == num(one.get("x"))
    assert num(two_on_top.get("y")) + num(two_on_top.get("height")) == pytest.approx(
        num(one.get("y")), abs=0.2
    )


def test_stacked_bars_has_a_legend_entry_per_series_even_for_all_zero_series():
    series = {"Pothole": [1, 0, 3], "Graffiti": [0, 0, 0], "Noise": [2, 1, 1]}
    root = parse(stacked_bars("Cases", DAYS, series))
    items = find(root, "g", "legend-item")
    assert [shown(item)[0] for item in items] == ["Pothole", "Graffiti", "Noise"]
    swatches = [item.find(f"{SVG}rect").get("fill") for item in items]
    assert len(set(swatches)) == 3
    assert len(bar_rects(root)) == 5  # 2 + 0 + 3 non-zero segments


@pytest.mark.parametrize("peak", [1, 3, 7, 10, 17, 99, 1234, 0.37, 2.5])
def test_y_axis_has_four_to_six_round_evenly_spaced_ticks_covering_the_data(peak):
    root = parse(stacked_bars("Cases", ["a", "b"], {"x": [peak, peak]}))
    ticks = [float(t.replace(",", "")) for t in shown(root, "tick")]
    assert 4 <= len(ticks) <= 6
    assert ticks[0] == 0
    assert ticks[-1] >= peak
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    assert round(step / 10 ** math.floor(math.log10(step)), 9) in {1, 2, 2.5, 5}
    if float(peak).is_integer():  # counts never get fractional ticks
        assert all(t.is_integer() for t in ticks)


def test_stacked_bars_thins_x_labels_when_there_are_many_categories():
    days = [f"2026-11-{d:02d}" for d in range(1, 31)]
    root = parse(stacked_bars("Cases", days, {"Pothole": [1] * 30}))
    labels = shown(root, "x-label")
    assert 3 <= len(labels) <= 10
    assert labels[0] == "2026-11-01"
    assert set(labels) <= set(days)
    assert len(bar_rects(root)) == 30


def test_stacked_bars_shows_every_label_when_few():
    root = parse(stacked_bars("Cases", DAYS, SERIES))
    assert shown(root, "x-label") == DAYS


def test_stacked_bars_all_zeros_and_single_category_render_without_bars():
    root = parse(stacked_bars("Cases", ["2026-11-28"], {"Pothole": [0], "Noise": [0]}))
    assert bar_rects(root) == []
    assert len(find(root, "g", "legend-item")) == 2
    assert "No data yet" not in shown(root)
    assert shown(root, "tick")[0] == "0"

    single = parse(stacked_bars("Cases", ["2026-11-28"], {"Pothole": [4]}))
    assert [tip(r) for r in bar_rects(single)] == ["Pothole, 2026-11-28: 4"]


def test_stacked_bars_tolerates_short_series():
    root = parse(stacked_bars("Cases", DAYS, {"Pothole": [2]}))
    assert [tip(r) for r in bar_rects(root)] == ["Pothole, 2026-11-26: 2"]


@pytest.mark.parametrize(
    "chart",
    [
        lambda: stacked_bars("Empty", [], {}),
        lambda: stacked_bars("Empty", ["2026-11-28"], {}),
        lambda: bars("Empty", [], []),
        lambda: hbars("Empty", [], []),
        lambda: line("Empty", [], []),
        lambda: line("Empty", ["a", "b"], [None, None]),
    ],
    ids=["stacked", "stacked-no-series", "bars", "hbars", "line", "line-all-none"],
)
def test_empty_data_renders_the_frame_and_a_message(chart):
    root = parse(chart())
    assert shown(root, "no-data") == ["No data yet"]
    assert shown(root, "chart-title") == ["Empty"]
    assert len(find(root, "rect", "frame")) == 1
    assert bar_rects(root) == []
    assert find(root, "polyline") == []


def test_labels_and_titles_are_escaped_everywhere():
    charts = [
        stacked_bars(EVIL, [EVIL, "b"], {EVIL: [1, 2]}),
        bars(EVIL, [EVIL, "b"], [1, 2]),
        hbars(EVIL, [EVIL, "b"], [1, None]),
        line(EVIL, [EVIL, "b"], [0.5, 0.25]),
    ]
    for chart in charts:
        assert "<b>" not in str(chart)
        root = parse(chart)
        assert find(root, "b") == [] and list(root.iter("b")) == []
        assert root.get("aria-label") == EVIL
        assert shown(root, "chart-title") == [EVIL]
        assert EVIL in shown(root)  # the label round-trips as text
    stacked = parse(charts[0])
    assert shown(find(stacked, "g", "legend-item")[0]) == [EVIL]
    assert tip(bar_rects(stacked)[0]) == f"{EVIL}, {EVIL}: 1"
    assert tip(find(parse(charts[3]), "circle", "dot")[0]) == f"{EVIL}: 50%"


def test_charts_are_markup_that_jinja_embeds_verbatim():
    chart = bars("Cases", ["a"], [1])
    assert escape(chart) == chart
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(autoescape=True)
    assert env.from_string("{{ c }}").render(c=chart) == str(chart)


def test_very_long_labels_are_truncated_with_an_ellipsis_and_keep_a_tooltip():
    long = "Abandoned vehicle on a very long street name " * 5
    root = parse(bars("Cases", [long, "short"], [3, 4]))
    label = find(root, "text", "x-label")[0]
    assert label.text is not None and label.text.endswith("…")
    assert len(label.text) < len(long)
    assert long.startswith(label.text[:-1])
    assert tip(label) == long

    h = parse(hbars("Hours", [long], [2.0]))
    hl = find(h, "text", "y-label")[0]
    assert hl.text is not None and hl.text.endswith("…") and tip(hl) == long

    legend = parse(stacked_bars("Cases", ["a"], {long: [1]}))
    entry = shown(find(legend, "g", "legend-item")[0])[0]
    assert entry.endswith("…") and len(entry) <= 24

    title = parse(bars(long * 3, ["a"], [1]))
    assert shown(title, "chart-title")[0].endswith("…")
    assert title.get("aria-label") == long * 3


def test_bars_heights_follow_the_values_and_values_are_written_above():
    root = parse(bars("Per ward", ["W1", "W2", "W3", "W4"], [3, 7, 0, 1.5]))
    rects = bar_rects(root)
    assert len(rects) == 3  # the zero gets a label but no bar
    heights = {tip(r): num(r.get("height")) for r in rects}
    assert max(heights, key=heights.get) == "W2: 7"
    assert heights["W2: 7"] == pytest.approx(heights["W1: 3"] * 7 / 3, abs=0.3)
    assert shown(root, "value") == ["3", "7", "0", "1.5"]
    for r in rects:
        value = next(t for t in find(root, "text", "value") if t.text == tip(r).split(": ")[1])
        assert num(value.get("y")) < num(r.get("y"))  # above its bar


def test_bars_value_format_and_all_zeros():
    root = parse(bars("Share", ["a", "b"], [0.25, 0.5], value_format="{:.0%}"))
    assert shown(root, "value") == ["25%", "50%"]
    zeros = parse(bars("Zeros", ["a", "b"], [0, 0]))
    assert bar_rects(zeros) == []
    assert shown(zeros, "value") == ["0", "0"]


def test_hbars_shows_na_for_none_and_no_bar():
    root = parse(hbars("Hours to close", ["Pothole", "Noise", "Graffiti"], [4.5, None, 12.0]))
    rects = bar_rects(root)
    assert [tip(r) for r in rects] == ["Pothole: 4.5", "Graffiti: 12.0"]
    assert shown(root, "value") == ["4.5", "n/a", "12.0"]
    assert num(rects[1].get("width")) > num(rects[0].get("width"))
    assert num(rects[1].get("width")) == pytest.approx(num(rects[0].get("width")) * 12 / 4.5, 0.01)


def test_hbars_unit_and_height_growing_with_rows():
    root = parse(hbars("Hours", ["a", "b"], [1.25, 2], unit=" h", value_format="{:.2f}"))
    assert shown(root, "value") == ["1.25 h", "2.00 h"]
    many = parse(hbars("Hours", [f"s{i}" for i in range(12)], [float(i) for i in range(12)]))
    assert view_height(many) > view_height(root)
    assert len(bar_rects(many)) == 11  # the zero has no bar
    assert all(num(r.get("y")) + num(r.get("height")) <= view_height(many) for r in bar_rects(many))


def polylines(root: ET.Element) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, p.split(","))) for p in pl.get("points", "").split()]
        for pl in find(root, "polyline", "series")
    ]


def test_line_breaks_at_none_into_separate_polylines():
    labels = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    root = parse(line("Resolved within SLA", labels, [0.5, 0.75, None, 0.25, 1.0]))
    lines = polylines(root)
    assert [len(pl) for pl in lines] == [2, 2]
    assert max(x for x, _ in lines[0]) < min(x for x, _ in lines[1])
    dots = find(root, "circle", "dot")
    assert [tip(d) for d in dots] == ["Mon: 50%", "Tue: 75%", "Thu: 25%", "Fri: 100%"]
    cy = {tip(d): num(d.get("cy")) for d in dots}
    assert cy["Fri: 100%"] < cy["Tue: 75%"] < cy["Mon: 50%"] < cy["Thu: 25%"]
    assert shown(root, "tick")[0] == "0%" and shown(root, "tick")[-1] == "100%"


def test_line_without_gaps_is_one_polyline_and_lone_points_are_dots():
    assert len(polylines(parse(line("Rate", ["a", "b", "c"], [0.1, 0.2, 0.3])))) == 1
    lone = parse(line("Rate", ["a", "b", "c"], [None, 0.4, None]))
    assert polylines(lone) == []
    assert [tip(d) for d in find(lone, "circle", "dot")] == ["b: 40%"]


def test_line_y_max_and_values_above_one():
    root = parse(line("Rate", ["a", "b"], [0.1, 0.2], y_max=0.2))
    assert shown(root, "tick")[-1] == "20%"
    big = parse(line("Count", ["a", "b"], [3, 5], value_format="{:g}"))
    ticks = [float(t) for t in shown(big, "tick")]
    assert ticks[-1] >= 5


def test_output_is_deterministic_and_self_contained():
    def make() -> list[str]:
        return [
            str(stacked_bars("S", DAYS, SERIES, y_label="Cases")),
            str(bars("B", ["a", "b"], [1, 2], y_label="Count")),
            str(hbars("H", ["a", "b"], [1, None])),
            str(line("L", ["a", "b", "c"], [0.1, None, 0.3])),
        ]

    first = make()
    assert first == make()
    allowed = {"svg", "title", "text", "rect", "line", "g", "polyline", "circle"}
    for chart in first:
        root = ET.fromstring(chart)
        assert {e.tag.removeprefix(SVG) for e in root.iter()} <= allowed
        assert "href" not in chart and "<script" not in chart and "url(" not in chart
        assert re.findall(r"https?://[^\"]+", chart) == ["http://www.w3.org/2000/svg"]


def test_palette_has_eight_distinct_colours_used_in_order():
    assert len(set(PALETTE)) >= 8
    series = {f"s{i}": [1] for i in range(9)}
    root = parse(stacked_bars("Many", ["a"], series))
    fills = [r.get("fill") for r in bar_rects(root)]
    assert fills[:8] == list(PALETTE[:8])
    assert len(find(root, "g", "legend-item")) == 9
