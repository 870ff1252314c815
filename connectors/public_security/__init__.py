"""Public security residence registrations (公安 居住登记), pulled from the department's database table."""

from connectors.public_security.connector import PublicSecurityConnector

__all__ = ["PublicSecurityConnector"]
