import datetime as dt
import json

import duckdb
import pyarrow as pa

from linkage.inputs import GOLDEN_ONLY_COLUMNS, LINKAGE_COLUMNS
from mmi.index.golden import GOLDEN_FIELDS, stage_golden_records
from schemas.lineage import Source, compact_lineage, field_sources

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


def golden_of(duck: duckdb.DuckDBPyConnection) -> tuple[str, int, dict[str, object], dict[str, Source | None]]:
    master, count, values, lineage = golden_with_text(duck)
    return master, count, json.loads(values), field_sources(lineage)


def golden_with_text(duck: duckdb.DuckDBPyConnection) -> tuple[str, int, str, str]:
    stage_golden_records(duck, "golden_inputs", "assignment", "golden")
    [(master, count, values, lineage)] = duck.execute("SELECT master_id, record_count, golden_json, lineage FROM golden").fetchall()
    return master, count, values, lineage


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
    assert lineage["id_number"] == Source(
        "health", "H1", 1, 5, "valid ID first; trust public_security > human_resources > health > statistics; then most recent"
    )
    assert lineage["name"] == Source(
        "public_security", "P1", 1, 1, "trust public_security > human_resources > health > statistics; then most recent"
    )
    assert lineage["employer"] == Source(
        "human_resources", "R1", 1, 3, "trust human_resources > public_security > health > statistics; then most recent"
    )
    assert list(values) == list(GOLDEN_FIELDS) == list(lineage)


def test_lineage_is_stored_compactly_each_source_once() -> None:
    """Format 2 (schemas.lineage): the distinct source versions once, sorted, each field by position, the rule set
    by name; the very text schemas.lineage.compact_lineage writes for the same choices (a key that needs escaping
    and one that is not ASCII included)."""
    police = base("public_security", 'P"1', 1, name="张伟", sex="1", current_district="110105", current_address="北京市东城区")
    health = base("health", "卫1", 5, health_record_no="JK1", phone="13900000002")
    _, _, _, text = golden_with_text(inputs(police, health))
    from_police, from_health = ("public_security", 'P"1', 1, 1), ("health", "卫1", 1, 5)
    chosen = {"name": from_police, "sex": from_police, "current_district": from_police, "current_address": from_police}
    chosen |= {"health_record_no": from_health, "phone": from_health}
    assert text == compact_lineage({name: chosen.get(name) for name in GOLDEN_FIELDS})
    assert text.startswith('{"rules":"1","sources":[["health","卫1",1,5],["public_security","P\\"1",1,1]],"fields":{"name":1,')
    assert len(text.encode()) < 400


def test_ties_fall_the_same_way_whatever_the_row_order() -> None:
    first = base("health", "H2", 4, phone="13700000000")
    second = base("health", "H1", 4, phone="13600000000")
    chosen = {golden_of(inputs(*order))[2]["phone"] for order in ([first, second], [second, first])}
    assert chosen == {"13600000000"}  # same department and time: the smaller record key
