"""The master index: linking source records into masters, golden records, constraints, model versions, exports.

Entry points (each also an `mmi` command): `link_index` (mmi link), `train_and_store` (mmi train),
`add_constraint` (mmi constrain), `export_xref` and `evaluate_index` (mmi export xref, mmi evaluate).
"""

from mmi.index.constraints import add_constraint
from mmi.index.link import LinkReport, link_index
from mmi.index.model_versions import current_model, train_and_store

__all__ = ["LinkReport", "add_constraint", "current_model", "link_index", "train_and_store"]
