"""Charts drawn on the server as SVG: the pages stay plain HTML, print and load without a script.

Each function takes the figures already computed and labelled (by runtime/pilotage/ and the page) and
returns the markup of one chart; every text goes through escaping."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ["#1f5fbf", "#1e7b34", "#b07d00", "#7b3fa0", "#b3261e", "#0f7d8c", "#5b6475", "#c2185b", "#6d4c41"]
WIDTH, HEIGHT = 600, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30
# A bar's row name fits the chart's width up to this length (12 px bold); longer, it is cut, whole on hover.
ROW_CHARS = 78


@dataclass
class Series:
    label: str
    values: list[float]
    color: str


def colored(labels: Sequence[str], values: Sequence[list[float]], colors: dict[str, str] | None = None):
    """Series with the given color per label, the others in the palette's order (skipping given colors)."""
    colors = colors or {}
    free = [c for c in PALETTE if c not in colors.values()]
    found, n = [], 0
    for label, v in zip(labels, values, strict=True):
        if label not in colors:
            n += 1
        found.append(Series(label, list(v), colors.get(label) or free[(n - 1) % len(free)]))
    return found


def _ticks(top: float) -> list[float]:
    """About four round steps from 0 to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = int(-(-top // step))
    return [i * step for i in range(count + 1)]


def _legend(series: list[Series]) -> Markup:
    items = "".join(
        f'<li><span class="chart-key" style="background:{s.color}"></span>{escape(s.label)}</li>'
        for s in series
    )
    return Markup(f'<ul class="chart-legend">{items}</ul>')


def _frame(title: str, body: str, series: list[Series], fmt: Callable[[float], str], ticks: list[float]):
    plot_h = HEIGHT - TOP - BOTTOM
    grid = []
    for t in ticks:
        y = TOP + plot_h - plot_h * t / ticks[-1]
        grid.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(t))}</text>'
        )
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(grid)}{body}</svg>"
    )
    return Markup(svg) + _legend(series)


def _x_labels(categories: list[str], step_width: float) -> str:
    # Long periods: one label in a few, so they stay readable.
    every = max(1, int(-(-len(categories) * 44 // (WIDTH - LEFT - RIGHT))))
    labels = []
    for i, label in enumerate(categories):
        if i % every:
            continue
        x = LEFT + step_width * (i + 0.5)
        labels.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    return "".join(labels)


def stacked_bars(title: str, categories: list[str], series: list[Series], fmt=lambda v: f"{v:g}") -> Markup:
    """One bar per category (a week), its series stacked."""
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    ticks = _ticks(max(totals, default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(1, len(categories))
    bars = []
    for i, category in enumerate(categories):
        base = 0.0
        for s in series:
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / ticks[-1]
            y = TOP + plot_h - plot_h * base / ticks[-1] - h
            bars.append(
                f'<rect x="{LEFT + step * i + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{s.color}"><title>{escape(category)} — {escape(s.label)} : '
                f"{escape(fmt(value))}</title></rect>"
            )
            base += value
    return _frame(title, "".join(bars) + _x_labels(categories, step), series, fmt, ticks)


def lines(title: str, categories: list[str], series: list[Series], fmt=lambda v: f"{v:g}") -> Markup:
    """One line per series across the categories, a dot at each point."""
    ticks = _ticks(max((max(s.values, default=0) for s in series), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(1, len(categories))
    body = []
    for s in series:
        points = [
            (LEFT + step * (i + 0.5), TOP + plot_h - plot_h * v / ticks[-1]) for i, v in enumerate(s.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2.5"/>')
        body.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.color}"><title>{escape(categories[i])} — '
            f"{escape(s.label)} : {escape(fmt(s.values[i]))}</title></circle>"
            for i, (x, y) in enumerate(points)
        )
    return _frame(title, "".join(body) + _x_labels(categories, step), series, fmt, ticks)


def bars(
    title: str,
    rows: list[str],
    series: list[Series],
    fmt=lambda v: f"{v:g}",
    marks: list[float] | None = None,
) -> Markup:
    """Horizontal bars, one group per row (a role, a holder, a sequence's end), one bar per series;
    `marks`: a tick per row on the first series (e.g. the 90th percentile next to the median)."""
    row_h = 14 * len(series) + 22  # the row's name above its bars
    height = TOP + row_h * len(rows) + 24
    top_value = max([v for s in series for v in s.values] + (marks or []) + [0])
    ticks = _ticks(top_value)
    left, plot_w = 14, WIDTH - 14 - RIGHT - 40
    body = []
    for t in ticks:
        x = left + plot_w * t / ticks[-1]
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - 20}" class="chart-grid"/>'
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{escape(fmt(t))}</text>'
        )
    for r, row in enumerate(rows):
        y0 = TOP + r * row_h
        shown = row if len(row) <= ROW_CHARS else row[: ROW_CHARS - 1].rstrip() + "…"
        named = f"<title>{escape(row)}</title>{escape(shown)}"
        body.append(f'<text x="{left}" y="{y0 + 12}" class="chart-row">{named}</text>')
        for k, s in enumerate(series):
            value = s.values[r]
            w = plot_w * value / ticks[-1]
            y = y0 + 16 + 14 * k
            body.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="12" fill="{s.color}"><title>'
                f"{escape(row)} — {escape(s.label)} : {escape(fmt(value))}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{y + 10}">{escape(fmt(value))}</text>'
            )
        if marks and marks[r]:
            x = left + plot_w * marks[r] / ticks[-1]
            body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0 + 14}" y2="{y0 + 30}" class="chart-mark"/>')
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )
    return Markup(svg) + _legend(series)
