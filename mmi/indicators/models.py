"""What the indicators service returns to the JSON API and the pages (published in /openapi.json).

An indicator report holds aggregates only: counts, rates and intervals per area, never a person. A worklist names
persons, so it has its own model and its own, narrower, readers (mmi.indicators.service).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["district", "city", "province"]


class IndicatorFigure(BaseModel):
    indicator: str
    area: str = Field(description="A district code (6 digits), city prefix (4), province prefix (2), or `all`")
    level: Literal["district", "city", "province", "all"]
    as_of: dt.date
    numerator: int = Field(description="Units served (persons, or reports for disease_report_timeliness)")
    denominator: int = Field(description="Units in the population")
    rate: float | None = Field(description="numerator / denominator; null when the denominator is 0")
    ci_low: float | None = Field(description="95% Wilson interval, lower bound")
    ci_high: float | None = Field(description="95% Wilson interval, upper bound")
    target: float | None
    meets_target: bool | None
    definition_version: str = Field(description="The indicator definitions' version (schemas/indicators/VERSION.toml)")
    rate_with_review_links: float | None = Field(description="The rate if the review band's links were added (linkage sensitivity)")
    rate_certain_links_only: float | None = Field(description="The rate with only the most certain links (linkage sensitivity)")
    chapman_estimate: float | None = Field(default=None, description="registration_completeness: the migrant population, Chapman")
    chapman_ci_low: float | None = None
    chapman_ci_high: float | None = None


class IndicatorReport(BaseModel):
    as_of: dt.date
    source: Literal["snapshot", "computed"] = Field(
        description="snapshot: read from the analytics table (the DAG compute_indicators); computed: no snapshot of that "
        "date, computed from the index now"
    )
    level: Level | None = Field(description="The level asked for; null: every level")
    area: str | None = Field(description="The area prefix asked for; null: every area the caller may see")
    jurisdiction: list[str] | None = Field(description="The caller's district prefixes; null: everywhere (then `all` is included)")
    figures: list[IndicatorFigure]


class TrendPoint(BaseModel):
    as_of: dt.date
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    denominator: int


class WorklistPerson(BaseModel):
    master_id: str
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    age: int | None
    district: str | None
    address: str | None
    phone: str | None
    residence_start: dt.date | None
    unmet: str = Field(description="What the person has not had, in the definition's words")
    due_since: dt.date | None = Field(description="Since when the service has been due; the list is ordered by it")
    record_keys: list[str] = Field(description="The person's source records, department|source_key")
    guardian_name: str | None
    guardian_phone: str | None


class Worklist(BaseModel):
    indicator: str
    area: str
    as_of: dt.date
    definition_version: str
    persons: list[WorklistPerson]
