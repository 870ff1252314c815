"""Geometry for the server-side drawings: the score's waterfall, a cluster's graph, the indicators' rates by area
(with their intervals and target) and their trends over month-ends.

Both are plain numbers for an SVG template (no script draws them, so they show with scripts off and under a CSP
without 'unsafe-inline'); each drawing sits beside a table of the same numbers for screen readers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from mmi.indicators.models import IndicatorFigure, TrendPoint
from mmi.review.models import ClusterGraph, Explanation

WATERFALL_WIDTH = 640
ROW_HEIGHT = 26
LABEL_WIDTH = 200


@dataclass(frozen=True)
class Bar:
    label: str
    level: str
    value: float
    start: float  # cumulative weight before the bar
    kind: str  # prior, up, down, tf-up, tf-down, total
    x: float
    width: float
    y: float


@dataclass(frozen=True)
class Waterfall:
    bars: list[Bar]
    zero_x: float
    height: int
    width: int


def waterfall(explanation: Explanation) -> Waterfall:
    """Bars from the prior through each comparison's weight and its term-frequency adjustment to the total."""
    steps: list[tuple[str, str, float, str]] = [("prior", "", explanation.prior_weight, "prior")]
    for comparison in explanation.comparisons:
        steps.append((comparison.name, comparison.level, comparison.weight, "up" if comparison.weight >= 0 else "down"))
        if comparison.tf_weight:
            steps.append((comparison.name, "tf", comparison.tf_weight, "tf-up" if comparison.tf_weight >= 0 else "tf-down"))
    running, spans = 0.0, []
    for label, level, value, kind in steps:
        spans.append((label, level, value, running, kind))
        running += value
    spans.append(("total", "", explanation.match_weight, 0.0, "total"))
    ends = [0.0] + [end for _label, _level, value, start, _kind in spans for end in (start, start + value)]
    low, high = min(ends), max(ends)
    span = (high - low) or 1.0
    plot = WATERFALL_WIDTH - LABEL_WIDTH - 60

    def x_of(weight: float) -> float:
        return LABEL_WIDTH + (weight - low) / span * plot

    bars = [
        Bar(
            label,
            level,
            value,
            start,
            kind,
            min(x_of(start), x_of(start + value)),
            max(abs(x_of(start + value) - x_of(start)), 1.5),
            8 + index * ROW_HEIGHT,
        )
        for index, (label, level, value, start, kind) in enumerate(spans)
    ]
    return Waterfall(bars, x_of(0.0), 16 + len(bars) * ROW_HEIGHT, WATERFALL_WIDTH)


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    x: float
    y: float
    label_x: float  # the label sits outside the circle, away from the links
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Edge:
    left: Node
    right: Node
    probability: float
    weight: float
    stroke: float
    kind: str  # link, bridge, weakest, must_link, cannot_link


@dataclass(frozen=True)
class GraphDrawing:
    nodes: list[Node]
    edges: list[Edge]
    size: int


def cluster_drawing(graph: ClusterGraph, size: int = 400) -> GraphDrawing:
    """The cluster's records on a circle, each scored link a line as thick as it is sure; bridges (links whose loss
    alone splits the cluster) and the weakest link are marked."""
    centre, radius = size / 2, size / 2 - 90  # room for the labels beside the circle
    count = max(len(graph.nodes), 1)
    nodes = {key: _node(key, 2 * math.pi * i / count - math.pi / 2, centre, radius) for i, key in enumerate(graph.nodes)}
    weakest = (graph.weakest.left, graph.weakest.right) if graph.weakest else None
    edges = []
    for link in graph.links:
        if link.left not in nodes or link.right not in nodes:
            continue
        kind = link.constraint or ("weakest" if (link.left, link.right) == weakest else "bridge" if link.bridge else "link")
        edges.append(
            Edge(
                nodes[link.left],
                nodes[link.right],
                link.match_probability,
                link.match_weight,
                1 + 5 * max(0.0, min(1.0, link.match_probability)),
                kind,
            )
        )
    return GraphDrawing(list(nodes.values()), edges, size)


def _node(key: str, angle: float, centre: float, radius: float) -> Node:
    dx, dy = math.cos(angle), math.sin(angle)
    anchor = "middle" if abs(dx) < 0.3 else "start" if dx > 0 else "end"
    return Node(
        key,
        _short(key),
        centre + radius * dx,
        centre + radius * dy,
        centre + (radius + 14) * dx,
        centre + (radius + 14) * dy + 4 + 6 * dy,
        anchor,
    )


_DEPARTMENTS = {"public_security": "PS", "human_resources": "HR", "statistics": "ST", "health": "HE"}


def _short(key: str) -> str:
    department, _, source_key = key.partition("|")
    return f"{_DEPARTMENTS.get(department, department[:2].upper())}·{source_key[-8:]}"


RATE_WIDTH = 640
RATE_ROW = 24
RATE_LABEL = 90


@dataclass(frozen=True)
class RateBar:
    area: str
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    meets: bool | None
    y: float
    width: float  # the bar, from the plot's left edge
    low_x: float  # the Wilson interval's whisker
    high_x: float


@dataclass(frozen=True)
class RateChart:
    bars: list[RateBar]
    left: float
    right: float
    target_x: float | None
    ticks: list[tuple[float, str]]  # x and label of 0%, 25%, ... 100%
    width: int
    height: int


def rate_chart(figures: list[IndicatorFigure], target: float | None) -> RateChart:
    """One bar per area (its rate, 0-100%), its 95% interval as a whisker, the target as a vertical line."""
    left, right = float(RATE_LABEL), float(RATE_WIDTH - 20)

    def x_of(share: float | None) -> float:
        return left + (right - left) * max(0.0, min(1.0, share or 0.0))

    bars = [
        RateBar(
            figure.area,
            figure.rate,
            figure.ci_low,
            figure.ci_high,
            figure.meets_target,
            8 + index * RATE_ROW,
            x_of(figure.rate) - left,
            x_of(figure.ci_low),
            x_of(figure.ci_high),
        )
        for index, figure in enumerate(figures)
    ]
    ticks = [(x_of(share), f"{share:.0%}") for share in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return RateChart(bars, left, right, None if target is None else x_of(target), ticks, RATE_WIDTH, 28 + len(bars) * RATE_ROW)


TREND_WIDTH = 640
TREND_HEIGHT = 200


@dataclass(frozen=True)
class TrendMark:
    as_of: str
    rate: float | None
    x: float
    y: float


@dataclass(frozen=True)
class TrendChart:
    marks: list[TrendMark]
    line: str  # SVG polyline points of the rates
    band: str  # SVG polygon points of the intervals (empty: too few points)
    target_y: float | None
    ticks: list[tuple[float, str]]  # y and label of 0%, 50%, 100%
    width: int
    height: int


def trend_chart(points: list[TrendPoint], slots: list[dt.date], target: float | None) -> TrendChart:
    """The rate at each month-end slot that has a figure (a gap where one is missing), the interval as a band."""
    top, bottom, left, right = 12.0, float(TREND_HEIGHT - 28), 48.0, float(TREND_WIDTH - 16)
    step = (right - left) / max(len(slots) - 1, 1)
    by_day = {point.as_of: point for point in points}

    def y_of(share: float) -> float:
        return bottom - (bottom - top) * max(0.0, min(1.0, share))

    marks = [
        TrendMark(day.isoformat(), by_day[day].rate, left + index * step, y_of(by_day[day].rate or 0.0))
        for index, day in enumerate(slots)
        if day in by_day and by_day[day].rate is not None
    ]
    line = " ".join(f"{mark.x:.1f},{mark.y:.1f}" for mark in marks)
    with_interval = [
        (left + index * step, by_day[day])
        for index, day in enumerate(slots)
        if day in by_day and by_day[day].ci_low is not None and by_day[day].ci_high is not None
    ]
    upper = [f"{x:.1f},{y_of(point.ci_high or 0.0):.1f}" for x, point in with_interval]
    lower = [f"{x:.1f},{y_of(point.ci_low or 0.0):.1f}" for x, point in reversed(with_interval)]
    band = " ".join(upper + lower) if len(with_interval) > 1 else ""
    ticks = [(y_of(share), f"{share:.0%}") for share in (0.0, 0.5, 1.0)]
    return TrendChart(marks, line, band, None if target is None else y_of(target), ticks, TREND_WIDTH, TREND_HEIGHT)
