"""The equalization indicators and the service-gap worklists, computed from the master index.

Entry points take an Engine or Connection and parameters, and return typed rows, so the CLI, the DAG, the API and
the pages share them: `compute_indicators` (mmi indicators), `compute_worklist` (mmi worklist),
`snapshot_indicators` (the DAG compute_indicators, into `indicator_snapshot`) and `read_snapshot`. The
definitions are data (schemas/indicators/v1.toml, read by `load_definitions`).
"""

from mmi.indicators.compute import COLUMNS, IndicatorRow, compute_indicators
from mmi.indicators.definitions import Definitions, load_definitions
from mmi.indicators.snapshot import read_snapshot, snapshot_indicators, write_csv
from mmi.indicators.worklist import WORKLIST_COLUMNS, WorklistRow, compute_worklist

__all__ = [
    "COLUMNS",
    "WORKLIST_COLUMNS",
    "Definitions",
    "IndicatorRow",
    "WorklistRow",
    "compute_indicators",
    "compute_worklist",
    "load_definitions",
    "read_snapshot",
    "snapshot_indicators",
    "write_csv",
]
