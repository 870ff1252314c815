"""Connectors: one subpackage per department, each reading that department's native feed (FEEDS.md).

`connectors_for(settings)` builds the connectors the config names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Checkpoint, Connector, Delivery, Row, SourceState, TakenFile, Unreadable

if TYPE_CHECKING:
    from mmi.config import Settings

__all__ = ["Checkpoint", "Connector", "Delivery", "Row", "SourceState", "TakenFile", "Unreadable", "connectors_for"]


def connectors_for(settings: Settings, only: str | None = None) -> list[Connector]:
    from connectors.health import HealthConnector
    from connectors.human_resources import HumanResourcesConnector
    from connectors.public_security import PublicSecurityConnector
    from connectors.statistics import StatisticsConnector

    built: list[Connector] = []
    if settings.public_security and only in (None, "public_security"):
        built.append(PublicSecurityConnector(settings.public_security))
    if settings.human_resources and only in (None, "human_resources"):
        built.append(HumanResourcesConnector(settings.human_resources.drop_dir))
    if settings.statistics and only in (None, "statistics"):
        built.append(StatisticsConnector(settings.statistics.drop_dir))
    if settings.health and only in (None, "health"):
        built.append(HealthConnector(settings.health))
    return built
