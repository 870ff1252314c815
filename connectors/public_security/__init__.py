"""Public security residence registrations (公安 居住登记), pulled from the department's database table."""

from connectors.public_security.connector import GxsjCursor, PublicSecurityConnector, PublicSecuritySettings
from connectors.source import Source

SOURCE = Source("public_security", PublicSecuritySettings, PublicSecurityConnector, GxsjCursor, typical_share=3, trust=0)

__all__ = ["SOURCE", "GxsjCursor", "PublicSecurityConnector", "PublicSecuritySettings"]
