"""Health platform persons and service events (卫生计生), pulled from its paged HTTP JSON API."""

from connectors.health.connector import HealthConnector

__all__ = ["HealthConnector"]
