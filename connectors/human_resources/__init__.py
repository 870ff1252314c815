"""Human resources insurance enrolments (人社 参保登记): daily GB18030 CSV files dropped in a folder."""

from connectors.drop_folder import DropFolderSettings, FileCursor
from connectors.human_resources.connector import HumanResourcesConnector
from connectors.source import Source

SOURCE = Source(
    "human_resources", DropFolderSettings, lambda settings: HumanResourcesConnector(settings.drop_dir), FileCursor, typical_share=2, trust=1
)

__all__ = ["SOURCE", "HumanResourcesConnector"]
