"""Server-drawn SVG charts: one mark per non-zero value, labels escaped, round axis steps."""

from markupsafe import escape

from web.pages import charts


def test_stacked_bars_draw_one_rect_per_value_and_escape_labels():
    series = charts.colored(["terminées", "<b>vers S5</b>"], [[1, 0, 2], [0, 3, 1]])
    svg = str(charts.stacked_bars("Fins <par> semaine", ["01/06", "08/06", "15/06"], series))
    assert svg.count("<rect") == 4  # zeros are not drawn
    assert "<b>" not in svg and "&lt;b&gt;vers S5&lt;/b&gt;" in svg
    assert 'aria-label="Fins &lt;par&gt; semaine"' in svg


def test_given_colors_are_kept_and_the_others_differ_from_them():
    series = charts.colored(["terminées", "vers S2", "vers S3"], [[1], [1], [1]], {"terminées": "#1e7b34"})
    colors = [s.color for s in series]
    assert colors[0] == "#1e7b34" and len(set(colors)) == 3


def test_axis_steps_are_round_and_reach_the_top():
    assert charts._ticks(7) == [0, 2, 4, 6, 8]
    assert charts._ticks(0) == [0, 1]
    assert charts._ticks(1234)[-1] >= 1234


def test_bars_mark_the_ninetieth_percentile():
    svg = str(charts.bars("Durées", ["S1 — terminées"], charts.colored(["médiane"], [[4]]), marks=[9]))
    assert 'class="chart-mark"' in svg and "S1 — terminées" in svg


def test_a_row_name_longer_than_the_chart_is_cut_and_whole_on_hover():
    long = "S2 — Précontentieux : commandement de payer — vers « S3 — Contentieux : assignation » <b>"
    svg = str(charts.bars("Durées", [long, "S1 — terminées"], charts.colored(["médiane"], [[4, 2]])))
    assert len(long) > charts.ROW_CHARS
    shown = long[: charts.ROW_CHARS - 1].rstrip()
    assert f"<title>{escape(long)}</title>{escape(shown)}…</text>" in svg
    assert "<title>S1 — terminées</title>S1 — terminées</text>" in svg
