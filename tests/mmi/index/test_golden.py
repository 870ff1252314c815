import datetime as dt

import duckdb
import pyarrow as pa

from linkage.inputs import GOLDEN_ONLY_COLUMNS, LINKAGE_COLUMNS
from mmi.index.golden import GOLDEN_FIELDS, golden_records

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


def base(department: str, key: str, updated: int, **values: object) -> dict[str, object]:
    return {"department": department, "source_key": key, "version": 1, "record_id": updated,
            "source_updated_at": dt.datetime(2026, 1, updated, tzinfo=UTC), "ingested_at": dt.datetime(2026, 2, 1, tzinfo=UTC), **values}


def test_each_field_follows_its_rule_and_points_at_its_source() -> None:
    duck = inputs(
        base("public_security", "P1", 1, name="张伟", id_number="110105194912310021", id_valid=False, phone="13800000001",
             current_district="110105", residence_start=dt.date(2025, 3, 1)),
        base("health", "H1", 5, name="張偉", id_number="11010519491231002X", id_valid=True, phone="13900000002",
             current_district="410102", health_record_no="JK1"),
        base("human_resources", "R1", 3, name="张伟", employer="郑州某厂", insurance_status="active", phone=None),
    )
    [(master, golden)] = golden_records(duck, "golden_inputs", "assignment").items()
    assert master == "M1" and golden.record_count == 3
    assert golden.values["id_number"] == "11010519491231002X"  # a valid ID beats the more trusted department's typo
    assert golden.values["name"] == "张伟"  # public security is trusted first for names
    assert golden.values["phone"] == "13900000002" and golden.values["current_district"] == "410102"  # most recent first
    assert golden.values["employer"] == "郑州某厂" and golden.values["health_record_no"] == "JK1"
    assert golden.values["residence_start"] == dt.date(2025, 3, 1)
    assert golden.values["ethnicity"] is None and "ethnicity" not in golden.lineage
    assert golden.lineage["id_number"]["department"] == "health" and golden.lineage["id_number"]["source_key"] == "H1"
    assert golden.lineage["name"] == {"department": "public_security", "source_key": "P1", "version": 1, "record_id": 1,
                                      "rule": "trust public_security > human_resources > health > statistics; then most recent"}
    assert set(golden.values) == set(GOLDEN_FIELDS)


def test_ties_fall_the_same_way_whatever_the_row_order() -> None:
    first = base("health", "H2", 4, phone="13700000000")
    second = base("health", "H1", 4, phone="13600000000")
    chosen = {golden_records(inputs(*order), "golden_inputs", "assignment")["M1"].values["phone"] for order in ([first, second], [second, first])}
    assert chosen == {"13600000000"}  # same department and time: the smaller record key
