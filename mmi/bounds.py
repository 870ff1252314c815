"""The largest values the store holds: what every parameter and body field is bounded by before it reaches it.

The store's keys are 64-bit (BIGINT on PostgreSQL, INTEGER on SQLite) or, for change-set numbers, 32-bit INTEGER on
PostgreSQL; its names are String(128). A value beyond them overflows in the database driver (an error of the
server) instead of being refused as bad input.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Within signed 64 bits with room to spare, and a power of two, so that it is exact as a JSON number read as a
# double (2**63 - 1 is not: a client reading the document as doubles would take it for 2**63 and send that).
MAX_ID = 2**62
# A change set's number (changeset.seq, subscriber_position.acknowledged_seq) is an INTEGER column: 32 bits on
# PostgreSQL. A billion change sets a subscriber is decades of hourly publishing.
MAX_SEQ = 2**31 - 1
MAX_NAME = 128  # subscribers' names, subjects, departments, record keys' parts
MAX_RECORD_KEY = 2 * MAX_NAME + 1  # department|source_key

# An integer key inside a request body (a list of item IDs), and a record's key.
BodyId = Annotated[int, Field(ge=0, le=MAX_ID)]
RecordKey = Annotated[str, Field(min_length=1, max_length=MAX_RECORD_KEY)]
