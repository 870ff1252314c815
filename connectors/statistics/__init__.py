"""Statistics floating-population survey (统计 流动人口动态监测调查): one Avro file per survey wave."""

from connectors.statistics.connector import StatisticsConnector

__all__ = ["StatisticsConnector"]
