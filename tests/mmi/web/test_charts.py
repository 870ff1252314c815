"""The drawings' geometry: the waterfall's bars follow each other and end at the match weight; the cluster graph
draws every link between its records and marks the weakest."""

from __future__ import annotations

import pytest

from mmi.review.models import ClusterGraph, ComparisonWeight, Explanation, GraphLink
from mmi.web.charts import LABEL_WIDTH, WATERFALL_WIDTH, cluster_drawing, waterfall


def _explanation() -> Explanation:
    comparisons = [
        ComparisonWeight(name="name", level="exact", comparison_vector_value=3, weight=6.5, tf_weight=-1.25),
        ComparisonWeight(name="id_number", level="all other", comparison_vector_value=0, weight=-9.0, tf_weight=0.0),
        ComparisonWeight(name="birth_date", level="exact", comparison_vector_value=2, weight=10.0, tf_weight=0.0),
    ]
    prior = -10.0
    total = prior + sum(c.weight + c.tf_weight for c in comparisons)
    return Explanation(
        prior_weight=prior,
        comparisons=comparisons,
        match_weight=total,
        match_probability=2**total / (1 + 2**total),
        model_version=1,
        left="health|A",
        right="statistics|B",
    )


def test_each_bar_starts_where_the_last_ended_and_the_total_is_the_match_weight() -> None:
    explanation = _explanation()
    chart = waterfall(explanation)
    steps = [bar for bar in chart.bars if bar.kind != "total"]
    assert [bar.kind for bar in steps] == ["prior", "up", "tf-down", "down", "up"]  # the tf adjustment is its own bar
    for before, after in zip(steps, steps[1:], strict=False):
        assert after.start == pytest.approx(before.start + before.value)
    assert steps[-1].start + steps[-1].value == pytest.approx(explanation.match_weight)
    total = chart.bars[-1]
    assert total.kind == "total" and total.value == pytest.approx(explanation.match_weight)
    scale = (total.width) / abs(total.value)
    for bar in chart.bars:  # one scale for every bar, all inside the drawing
        assert bar.width == pytest.approx(max(abs(bar.value) * scale, 1.5), rel=1e-6)
        assert bar.x >= LABEL_WIDTH and bar.x + bar.width <= WATERFALL_WIDTH


def test_the_graph_draws_every_link_and_marks_the_weakest() -> None:
    links = [
        GraphLink(left="a|1", right="b|2", match_probability=0.9995, match_weight=11.0),
        GraphLink(left="b|2", right="c|3", match_probability=0.9991, match_weight=10.1, bridge=True),
        GraphLink(left="a|1", right="c|3", match_probability=0.999, match_weight=10.0, constraint="cannot_link"),
    ]
    graph = ClusterGraph(master_id="M1", nodes=["a|1", "b|2", "c|3"], links=links, density=1.0, weakest=links[1])
    drawing = cluster_drawing(graph)
    assert [edge.kind for edge in drawing.edges] == ["link", "weakest", "cannot_link"]
    assert len({(node.x, node.y) for node in drawing.nodes}) == 3
    assert all(0 <= node.label_x <= drawing.size and 0 <= node.label_y <= drawing.size for node in drawing.nodes)
