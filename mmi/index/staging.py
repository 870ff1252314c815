"""Every table of the DuckDB linkage workspace, declared once: what persists between runs, and what a run stages.

The index (mmi.index.link) runs in these tables; an engine other than DuckDB (Splink on Spark, the workspace as
Parquet or Delta tables) plugs in here: it provides these tables under these names, and the run's SQL stays.

Kept between runs (a cache of the store, see mmi.index.workspace):
- RECORDS, GOLDEN_INPUTS: the source versions the index last linked (linkage.inputs' two tables);
- PAIRS: every scored pair at or above the review threshold, as the store's `match_pair`;
- MASTER_OF: each record's master and linked version, as the store's `master_xref`;
- GOLDEN: each active master's golden record, as the store's `master_record` (plus its values as JSON);
- META: the run and model version the workspace is in step with;
- `model_tf_<column>_<model>`: each model version's frozen term frequencies (linkage.scoring names them).

Staged by a run, replaced by the next:
- CHANGED, CHANGED_GOLDEN: an incremental run's new and changed records (the same two shapes);
- PAIRS_NEXT: the pairs scored now; TOUCHED: the stored pairs they replace; PAIRS_REMOVED, PAIRS_ADDED: the
  difference, written to the store;
- AFFECTED: the records to recluster; CLUSTERS_NEXT, UNCHANGED_CLUSTERS: their clusters, and those identical to
  a previous master;
- ASSIGNMENT: each reclustered record's master; GOLDEN_NEXT: their golden records; GOLDEN_CHANGED: those new or
  changed; XREF_CHANGES: the master_xref rows to write; RETIRED: the masters retired.
"""

from __future__ import annotations

from mmi.index.golden import GOLDEN_TABLE_SQL

META, RECORDS, GOLDEN_INPUTS, PAIRS, MASTER_OF, GOLDEN = "meta", "records", "golden_inputs", "pairs", "master_of", "golden"
CHANGED, CHANGED_GOLDEN = "changed", "changed_golden"
PAIRS_NEXT, TOUCHED, PAIRS_REMOVED, PAIRS_ADDED = "pairs_next", "touched", "pairs_removed", "pairs_added"
AFFECTED, CLUSTERS_NEXT, UNCHANGED_CLUSTERS = "affected", "clusters_next", "unchanged_clusters"
ASSIGNMENT = "assignment_next"  # (unique_id, master_id) of every reclustered record
GOLDEN_NEXT = "golden_next"  # the golden records of the reclustered masters
GOLDEN_CHANGED = "golden_changed"  # those of them that are new or differ from GOLDEN
XREF_CHANGES = "xref_changes"  # the master_xref rows to write
RETIRED = "retired"
TERM_FREQUENCIES_PREFIX = "model_tf_"  # + column + model's SHA-256 prefix (linkage.scoring)

# The tables kept between runs whose columns do not come from the store's query (RECORDS and GOLDEN_INPUTS do).
PERSISTENT_DDL = f"""
    CREATE TABLE IF NOT EXISTS {META} (key VARCHAR PRIMARY KEY, value BIGINT);
    CREATE TABLE IF NOT EXISTS {PAIRS} (left_key VARCHAR, right_key VARCHAR, match_probability DOUBLE, match_weight DOUBLE);
    CREATE TABLE IF NOT EXISTS {MASTER_OF} (unique_id VARCHAR, master_id VARCHAR, version BIGINT);
    CREATE TABLE IF NOT EXISTS {GOLDEN} ({GOLDEN_TABLE_SQL});
"""
