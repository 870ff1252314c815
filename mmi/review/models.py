"""The review service's models: what the JSON API returns and the pages render (apart from the store's rows).

The field names follow the issue's contract (`GET /v1/review/queue`, `GET /v1/review/items/{id}`, the decision
routes); everything else an item carries is additional and optional for a client.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from mmi.bounds import MAX_NAME, BodyId, RecordKey

ItemKind = Literal["pair", "conflict", "cluster", "invalidated"]
DecisionKind = Literal["match", "not_match", "split"]
DecisionStatus = Literal["proposed", "accepted", "rejected", "superseded"]
ScoreBand = Literal["low", "middle", "high"]  # thirds of the review band; conflicts are all "high"
# (must_link|cannot_link, left_key, right_key). A list of three rather than a tuple: a tuple becomes `prefixItems`
# in the OpenAPI document, which schemathesis 4 cannot read in a response.
Constraint = Annotated[list[str], Field(min_length=3, max_length=3)]


class QueueFilters(BaseModel):
    kind: ItemKind | None = None
    district: str | None = Field(default=None, pattern=r"^[0-9]{1,6}$", description="district code prefix")
    department: str | None = Field(default=None, max_length=MAX_NAME)
    band: ScoreBand | None = None


class PriorityFactor(BaseModel):
    """One factor of an item's priority, for the page to say why an item sits where it does."""

    name: str = Field(description="kind, subscribers, services, uncertainty")
    value: float
    note: str = Field(description="the factor in words, e.g. 'delivered to 2 subscribers'")


class QueueItem(BaseModel):
    id: int
    kind: ItemKind
    records: list[str] = Field(description="department|source_key of each record the item is about")
    masters: list[str]
    match_probability: float | None
    priority: float
    reason: str = Field(description="why the item is in the queue, in words")
    factors: list[PriorityFactor] = Field(default_factory=list, description="what the priority is made of: harm x uncertainty")
    departments: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    decision_id: int | None = Field(default=None, description="invalidated items: the decision whose records changed")


class QueuePage(BaseModel):
    items: list[QueueItem]
    total: int


class RecordView(BaseModel):
    """One record of an item, as written (the department's raw payload) and as standardised."""

    key: str
    department: str
    source_key: str
    version: int
    master_id: str | None
    fields: dict[str, Any] = Field(description="the standardised (canonical) fields")
    raw: dict[str, Any] = Field(description="the row as the department delivered it")
    quality_flags: list[str]
    differing: list[str] = Field(default_factory=list, description="canonical fields whose values differ between the item's records")


class ComparisonWeight(BaseModel):
    name: str = Field(description="the comparison's output column name")
    level: str = Field(description="the level the pair fell in (its label)")
    comparison_vector_value: int
    weight: float = Field(description="log2 Bayes factor of the level, without term frequency")
    tf_weight: float = Field(description="the term-frequency adjustment's log2 Bayes factor (0 where none)")
    values: dict[str, Any] = Field(default_factory=dict, description="the compared values, left and right")


class Explanation(BaseModel):
    """Splink's waterfall for one pair: prior + each comparison's weight (and tf weight) = match weight."""

    prior_weight: float
    comparisons: list[ComparisonWeight]
    match_weight: float
    match_probability: float
    model_version: int
    left: str
    right: str


class GraphLink(BaseModel):
    left: str
    right: str
    match_probability: float
    match_weight: float
    constraint: Literal["must_link", "cannot_link"] | None = None
    bridge: bool = Field(default=False, description="removing this link alone would split the cluster")


class ClusterGraph(BaseModel):
    """A cluster's records and scored links, for a small graph: which links hold it together."""

    master_id: str
    nodes: list[str]
    links: list[GraphLink]
    density: float = Field(description="links present / pairs possible")
    weakest: GraphLink | None


class Preview(BaseModel):
    """What a decision would do, before it is made."""

    decision: DecisionKind
    constraints: list[Constraint] = Field(description="(must_link|cannot_link, left_key, right_key) it would add")
    kept: list[str] = Field(description="master IDs that stay (perhaps with fewer or more records)")
    created: list[str] = Field(description="new masters, named by the records they would hold (IDs are minted at the run)")
    retired: list[str]
    subscribers: list[str] = Field(description="subscribers that would receive events about the masters involved")
    published_to: list[str] = Field(description="subscribers already holding one of the masters")
    needs_approval: bool = Field(description="four eyes: the decision touches a published master")
    groups: list[list[str]] = Field(default_factory=list, description="the records' grouping after the decision")


class DecisionRequest(BaseModel):
    decision: DecisionKind
    reason: str = Field(min_length=1, max_length=2000)
    groups: list[Annotated[list[RecordKey], Field(max_length=1000)]] | None = Field(
        default=None, max_length=1000, description="split: the records in groups (every record of the cluster once)"
    )
    record: RecordKey | None = Field(default=None, description="split: take this one record out of the cluster (instead of groups)")

    @model_validator(mode="after")
    def _split_needs_groups(self) -> DecisionRequest:
        if self.decision == "split" and not self.groups and not self.record:
            raise ValueError("a split needs groups (lists of records) or the record to take out")
        if self.decision != "split" and (self.groups or self.record):
            raise ValueError("groups and record belong to a split")
        return self


class BatchDecisionRequest(DecisionRequest):
    items: list[BodyId] = Field(min_length=1, max_length=500, description="the items decided together, with one reason")


class DecisionCreated(BaseModel):
    id: int
    status: DecisionStatus
    item_id: int | None = None


class DecisionView(BaseModel):
    id: int
    item_id: int
    item_kind: ItemKind
    decision: DecisionKind
    status: DecisionStatus
    reason: str
    groups: list[list[str]]
    records: list[str]
    masters: list[str]
    constraints: list[Constraint]
    decided_by: str
    decided_at: dt.datetime
    model_version: int | None
    explanation: Explanation | None = Field(description="the explanation the steward was shown")
    values_sha256: str = Field(description="hash of the records' compared values when decided")
    record_versions: dict[str, int]
    published_to: list[str]
    needs_approval: bool
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None
    review_reason: str | None = None
    applied_run_id: int | None = Field(default=None, description="the link run that first honoured it")
    events: list[dict[str, Any]] = Field(default_factory=list, description="master events that run wrote for these records")
    superseded_by: int | None = None


class DecisionPage(BaseModel):
    items: list[DecisionView]
    total: int


class ItemDetail(BaseModel):
    """An item with everything a steward needs to decide it; `records` here are the records themselves."""

    id: int
    kind: ItemKind
    status: Literal["open", "resolved"]
    records: list[RecordView] = Field(description="each record with its fields, as written and as standardised")
    masters: list[str]
    match_probability: float | None
    priority: float
    reason: str
    factors: list[PriorityFactor] = Field(default_factory=list)
    decision_id: int | None = None
    explanation: Explanation | None = Field(description="pairs and conflicts: Splink's waterfall")
    published_to: list[str] = Field(description="subscribers that already hold one of the masters")
    graph: ClusterGraph | None = Field(default=None, description="clusters: records and scored links")
    conflict: dict[str, Any] | None = Field(default=None, description="conflicts: the rule and what it saw")
    decisions: list[DecisionView] = Field(default_factory=list, description="decisions taken on the item, newest first")


class RefreshReport(BaseModel):
    run_id: int | None
    opened: int
    resolved: int
    open: int
    by_kind: dict[str, int]
