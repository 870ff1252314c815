"""Why a pair scored as it did: Splink's own waterfall for the pair, with the model version that scored it."""

from __future__ import annotations

from sqlalchemy import Engine

from mmi.review.models import Explanation


def explain_pair(engine: Engine, left_key: str, right_key: str, model_version_id: int | None = None) -> Explanation:
    """The waterfall of the pair's current records under the model version (default: the current one)."""
    raise NotImplementedError
