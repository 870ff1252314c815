"""The review queue: items of four kinds, ordered by harm x uncertainty, refreshed after every link run."""

from __future__ import annotations

from sqlalchemy import Engine

from mmi.principal import Principal
from mmi.review.models import QueueFilters, QueuePage, RefreshReport


def queue_page(engine: Engine, principal: Principal, filters: QueueFilters | None = None, *, limit: int = 50,
               offset: int = 0) -> QueuePage:
    """Open items the caller may see (its jurisdiction), by priority, highest first."""
    raise NotImplementedError


def refresh_queue(engine: Engine) -> RefreshReport:
    """Bring the queue in line with the index: new items arrive, resolved ones leave, priorities follow."""
    raise NotImplementedError
