"""Health platform persons and service events (卫生计生), pulled from its paged HTTP JSON API."""

from connectors.health.client import HealthSettings
from connectors.health.connector import HealthConnector, UpdatedSinceCursor
from connectors.source import Source

SOURCE = Source("health", HealthSettings, HealthConnector, UpdatedSinceCursor, typical_share=4, trust=2)

__all__ = ["SOURCE", "HealthConnector", "HealthSettings", "UpdatedSinceCursor"]
