"""Print the API's OpenAPI document, the contract kept in schemas/api/openapi.json:

.venv/bin/python -m mmi.api.openapi > schemas/api/openapi.json
"""

import json

from mmi.api.app import openapi_document

if __name__ == "__main__":
    print(json.dumps(openapi_document(), indent=2, ensure_ascii=False))
