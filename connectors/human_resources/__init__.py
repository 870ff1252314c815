"""Human resources insurance enrolments (人社 参保登记): daily GB18030 CSV files dropped in a folder."""

from connectors.human_resources.connector import HumanResourcesConnector

__all__ = ["HumanResourcesConnector"]
