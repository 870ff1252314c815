"""Statistics floating-population survey (统计 流动人口动态监测调查): one Avro file per survey wave."""

from connectors.drop_folder import DropFolderSettings, FileCursor
from connectors.source import Source
from connectors.statistics.connector import StatisticsConnector

SOURCE = Source(
    "statistics", DropFolderSettings, lambda settings: StatisticsConnector(settings.drop_dir), FileCursor, typical_share=1, trust=3
)

__all__ = ["SOURCE", "StatisticsConnector"]
