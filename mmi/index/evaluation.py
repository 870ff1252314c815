"""`mmi evaluate`: the index's clusters against a truth file, as figures a reader can check.

Truth is a CSV `department,source_key,person` (the generator writes one). Records the index has not linked, and
truth rows for records the store does not hold, are left out of both sides, and counted in the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from linkage.blocking import load_truth_pairs
from linkage.evaluate import evaluate_clusters
from mmi.store.index_tables import master_xref
from schemas.errors import LinkageError


def evaluate_index(engine: Engine, truth_csv: Path, worst: int = 0) -> dict[str, Any]:
    """Pairwise precision, recall and F1, and the share of true people clustered exactly, of the index's xref;
    with `worst`, also that many of the worst false merges and false splits (mmi.index.worst_errors)."""
    from mmi.index.worst_errors import worst_errors

    if not truth_csv.exists():
        raise LinkageError(f"no truth file at {truth_csv}: give a CSV with department,source_key,person")
    with engine.connect() as connection:
        rows = connection.execute(select(master_xref.c.department + "|" + master_xref.c.source_key, master_xref.c.master_id)).all()
    if not rows:
        raise LinkageError("the index is empty: run `mmi link` first")
    duck = duckdb.connect()
    clusters = pa.table({"unique_id": [key for key, _ in rows], "cluster_id": [master for _, master in rows]})  # noqa: F841
    duck.execute("CREATE TABLE clusters AS SELECT * FROM clusters")
    load_truth_pairs(duck, str(truth_csv), table="clusters")
    [(truth_rows,)] = duck.execute(f"SELECT count(*) FROM read_csv('{truth_csv}', header = true, all_varchar = true)").fetchall()
    [(evaluated,)] = duck.execute("SELECT count(*) FROM truth").fetchall()
    duck.execute("DELETE FROM clusters WHERE unique_id NOT IN (SELECT unique_id FROM truth)")  # no truth, no verdict
    accuracy = evaluate_clusters(duck, "clusters")
    errors = worst_errors(engine, duck, worst) if worst > 0 else {}
    return {
        "records_in_index": len(rows),
        "records_in_truth": truth_rows,
        "records_evaluated": evaluated,
        "masters": len({master for _, master in rows}),
        **accuracy.as_dict(),
        **errors,
    }
