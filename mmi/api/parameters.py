"""The parameter types every route takes its integers and strings as: each bounded, so bad input is a 422.

A number beyond the store's 64-bit integers used to reach the database driver and overflow there (a 500). Every
integer a route reads is therefore bounded by `MAX_ID` (mmi.bounds) or a page size, every string by a length; a
value outside is refused by FastAPI before the route runs, with the parameter named in the 422's `detail`. The
JSON API and the pages use the same types; request bodies use mmi.bounds' types.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from mmi.bounds import MAX_ID, MAX_NAME, MAX_SEQ

__all__ = [
    "MAX_ID",
    "MAX_NAME",
    "MAX_SEQ",
    "ChangesetSeq",
    "OptionalSeq",
    "DistrictPrefix",
    "Name",
    "OptionalPosition",
    "PageSize",
    "Position",
    "ReviewPageSize",
    "RowId",
]
MAX_PAGE = 1000

# A path parameter naming a stored row by its integer key (a change set's seq, an item's or a decision's ID).
RowId = Annotated[int, Path(ge=0, le=MAX_ID, description=f"an integer key, 0 to {MAX_ID}")]
# A change set's number for its subscriber, in the path and as `after`.
ChangesetSeq = Annotated[int, Path(ge=0, le=MAX_SEQ, description=f"a change set's number, 0 to {MAX_SEQ}")]
OptionalSeq = Annotated[int | None, Query(ge=0, le=MAX_SEQ)]
# A position in a sequence (a change-set number, an offset into a list).
Position = Annotated[int, Query(ge=0, le=MAX_ID)]
OptionalPosition = Annotated[int | None, Query(ge=0, le=MAX_ID)]
Name = Annotated[str | None, Query(min_length=1, max_length=MAX_NAME)]
DistrictPrefix = Annotated[str | None, Query(pattern=r"^[0-9]{1,6}$", max_length=6, description="district code prefix")]
# How many rows a page of a list holds.
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE)]
ReviewPageSize = Annotated[int, Query(ge=1, le=500)]
