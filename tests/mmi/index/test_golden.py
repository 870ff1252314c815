import datetime as dt
import json

import duckdb
import pyarrow as pa

from linkage.inputs import GOLDEN_ONLY_COLUMNS, LINKAGE_COLUMNS
from mmi.index.golden import GOLDEN_FIELDS, stage_golden_records

UTC = dt.UTC


def inputs(*records: dict[str, object]) -> duckdb.DuckDBPyConnection:
    """A golden-inputs table (linkage.inputs' shape) holding `records`, all in master M1."""
    columns = ["unique_id", "record_id", "department", "source_key", "version", *LINKAGE_COLUMNS, *GOLDEN_ONLY_COLUMNS]
    rows = [{column: record.get(column) for column in columns} for record in records]
    for row in rows:
        row["unique_id"] = f"{row['department']}|{row['source_key']}"
    duck = duckdb.connect()
    staged = pa.Table.from_pylist(rows)  # noqa: F841 - read by DuckDB
    duck.execute("CREATE TABLE golden_inputs AS SELECT * FROM staged")
    duck.execute("CREATE TABLE assignment AS SELECT unique_id, 'M1' AS master_id FROM golden_inputs")
    return duck


def golden_of(duck: duckdb.DuckDBPyConnection) -> tuple[str, int, dict[str, object], dict[str, object]]:
    stage_golden_records(duck, "golden_inputs", "assignment", "golden")
    [(master, count, values, lineage)] = duck.execute("SELECT master_id, record_count, golden_json, lineage FROM golden").fetchall()
    return master, count, json.loads(values), json.loads(lineage)


def base(department: str, key: str, updated: int, **values: object) -> dict[str, object]:
    return {
        "department": department,
        "source_key": key,
        "version": 1,
        "record_id": updated,
        "source_updated_at": dt.datetime(2026, 1, updated, tzinfo=UTC),
        "ingested_at": dt.datetime(2026, 2, 1, tzinfo=UTC),
        **values,
    }


def test_each_field_follows_its_rule_and_points_at_its_source() -> None:
    duck = inputs(
        base(
            "public_security",
            "P1",
            1,
            name="张伟",
            id_number="110105194912310021",
            id_valid=False,
            phone="13800000001",
            current_district="110105",
            residence_start=dt.date(2025, 3, 1),
        ),
        base(
            "health",
            "H1",
            5,
            name="張偉",
            id_number="11010519491231002X",
            id_valid=True,
            phone="13900000002",
            current_district="410102",
            health_record_no="JK1",
        ),
        base("human_resources", "R1", 3, name="张伟", employer="郑州某厂", insurance_status="active", phone=None),
    )
    master, count, values, lineage = golden_of(duck)
    assert master == "M1" and count == 3
    assert values["id_number"] == "11010519491231002X"  # a valid ID beats the more trusted department's typo
    assert values["name"] == "张伟"  # public security is trusted first for names
    assert values["phone"] == "13900000002" and values["current_district"] == "410102"  # most recent first
    assert values["employer"] == "郑州某厂" and values["health_record_no"] == "JK1"
    assert values["residence_start"] == "2025-03-01"
    assert values["ethnicity"] is None and lineage["ethnicity"] is None
    assert lineage["id_number"]["department"] == "health" and lineage["id_number"]["source_key"] == "H1"
    assert lineage["name"] == {
        "department": "public_security",
        "source_key": "P1",
        "version": 1,
        "record_id": 1,
        "rule": "trust public_security > human_resources > health > statistics; then most recent",
    }
    assert list(values) == list(GOLDEN_FIELDS) == list(lineage)


def test_ties_fall_the_same_way_whatever_the_row_order() -> None:
    first = base("health", "H2", 4, phone="13700000000")
    second = base("health", "H1", 4, phone="13600000000")
    chosen = {golden_of(inputs(*order))[2]["phone"] for order in ([first, second], [second, first])}
    assert chosen == {"13600000000"}  # same department and time: the smaller record key
