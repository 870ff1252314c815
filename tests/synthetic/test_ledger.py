"""truth.csv and delivered.csv say exactly what is in the feeds, and noise never changes who a record is."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro

from linkage.standardise.idnumber import parse_id_number
from synthetic.population import Person, build_population

PERSON_STREAMS = {"ga_jzdj", "rs_cbdj", "tj_ldrk", "persons"}


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def _physical_rows(out: Path) -> Counter[str]:
    """Rows and items actually in the files, by stream (HR and JSON lines, Avro records, table rows)."""
    counts: Counter[str] = Counter()
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        counts["ga_jzdj"] = connection.execute("SELECT count(*) FROM ga_jzdj").fetchone()[0]
    for path in (out / "human_resources").glob("*.csv"):
        counts["rs_cbdj"] += len([line for line in path.read_bytes().split(b"\r\n")[1:] if line])
    for path in (out / "statistics").glob("*.avro"):
        with open(path, "rb") as handle:
            header = fastavro.reader(handle)  # the cut wave's records are counted from the ledger below
            counts["tj_ldrk"] += sum(1 for _ in _until_broken(header))
    for stream in ("persons", "services"):
        counts[stream] = len((out / "health" / f"{stream}.jsonl").read_bytes().splitlines())
    return counts


def _until_broken(records: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from records
    except (EOFError, ValueError):
        return


def test_delivered_rows_are_the_physical_rows(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, counts = feeds
    delivered = _read_csv(out / "delivered.csv")
    by_stream = Counter(row[1] for row in delivered)
    physical = _physical_rows(out)
    cut_records = sum(1 for row in delivered if row[3].startswith("tj_ldrk_2026Q1") and row[4] == "quarantine")
    assert by_stream == physical + Counter({"tj_ldrk": cut_records})
    assert len(delivered) == counts["delivered"]
    assert len({row[3] for row in delivered}) == len(delivered)  # every location once
    pending = [row for row in delivered if row[4] == "pending"]
    assert pending and all(row[3].startswith("rs_cbdj_20261031.csv:") for row in pending)


def test_truth_covers_exactly_the_good_person_rows(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    truth = _read_csv(out / "truth.csv")
    keys = [(department, key) for department, key, _ in truth]
    assert len(keys) == len(set(keys))
    good = {(row[0], row[2]) for row in _read_csv(out / "delivered.csv") if row[1] in PERSON_STREAMS and row[4] != "quarantine"}
    assert set(keys) == good
    assert {department for department, _ in keys} == {"public_security", "human_resources", "statistics", "health"}


def test_every_corruption_kind_is_delivered_for_quarantine(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = feeds
    quarantined = Counter(row[1] for row in _read_csv(out / "delivered.csv") if row[4] == "quarantine")
    assert quarantined["ga_jzdj"] >= 2  # no GXSJ; nothing to link on
    assert quarantined["rs_cbdj"] >= 4  # columns, bytes, empty key, the cut row
    assert quarantined["tj_ldrk"] >= 1 and quarantined["persons"] >= 1 and quarantined["services"] >= 1
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM ga_jzdj WHERE GXSJ IS NULL").fetchone()[0] >= 1
        nameless = "SELECT count(*) FROM ga_jzdj WHERE XM IS NULL AND GMSFHM IS NULL AND CSRQ IS NULL"
        assert connection.execute(nameless).fetchone()[0] >= 1


def _id_records(out: Path) -> Iterator[tuple[str, str, str | None]]:
    """(department, source_key, ID number as written) of every person record that carries a full ID."""
    with sqlite3.connect(out / "public_security" / "ga_jzdj.sqlite") as connection:
        for key, number in connection.execute("SELECT JZDJBH, GMSFHM FROM ga_jzdj"):
            yield "public_security", key, number
    for path in sorted((out / "human_resources").glob("*.csv")):
        for line in path.read_bytes().split(b"\r\n")[1:]:
            try:
                fields = line.decode("gb18030").split(",")
            except UnicodeDecodeError:
                continue
            if len(fields) == 12:
                yield "human_resources", fields[0], fields[2]
    for text in (out / "health" / "persons.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(text)
        yield "health", item.get("person_id") or "", item["id_card"]


def _one_slip(written: str, true: str) -> bool:
    """Equal but for one mistyped character or one adjacent transposition."""
    diffs = [i for i in range(18) if written[i] != true[i]]
    if len(diffs) == 1:
        return True
    i = diffs[0] if len(diffs) == 2 else -1
    return diffs == [i, i + 1] and written[i] == true[i + 1] and written[i + 1] == true[i]


def _people(out: Path, count: int, seed: int) -> dict[str, Person]:
    return {person.key: person for person in build_population(count, seed)}


def test_ids_are_the_persons_but_for_the_noise(feeds: tuple[Path, dict[str, Any]]) -> None:
    out, counts = feeds
    people = _people(out, 150, 11)
    truth = {(d, k): p for d, k, p in _read_csv(out / "truth.csv")}
    failed: Counter[str] = Counter()
    for department, key, written in _id_records(out):
        if written is None or (department, key) not in truth:
            continue
        true = people[truth[department, key]].id_number
        number = parse_id_number(written)
        if number.valid:
            assert number.number == true, (department, key)
        else:
            failed[department] += 1
            assert number.number and _one_slip(number.number, true), (department, key, written, true)
    slips = {d: n.get("id_typo", 0) + n.get("id_transposed", 0) for d, n in counts["noise"].items()}
    assert failed["public_security"] <= slips["public_security"]
    assert failed["health"] <= slips["health"]  # guardians' IDs take slips too


def test_without_noise_every_id_is_valid_and_the_persons(clean_feeds: tuple[Path, dict[str, Any]]) -> None:
    out, _ = clean_feeds
    people = _people(out, 150, 11)
    truth = {(d, k): p for d, k, p in _read_csv(out / "truth.csv")}
    ids_of: dict[str, set[str]] = {}
    for department, key, written in _id_records(out):
        if written is not None:
            person = truth[department, key]
            assert written == people[person].id_number
            ids_of.setdefault(written, set()).add(person)
    assert all(len(persons) == 1 for persons in ids_of.values())  # no two people share an ID


def test_the_hard_cases_are_in_the_population() -> None:
    people = build_population(3000, seed=4)
    by_name_year_city = Counter((p.name, p.birth.year, p.district[:4]) for p in people)
    assert max(by_name_year_city.values()) >= 3  # namesakes
    twins = Counter((p.surname, p.birth, p.hukou, p.address) for p in people if p.guardian is None)
    assert max(twins.values()) >= 2
    assert sum(p.previous is not None for p in people) > 0  # movers
    children = [p for p in people if p.guardian is not None]
    assert children and all(p.age() <= 6 and people[p.guardian or 0].address == p.address for p in children)
    assert any("·" in p.name for p in people) and any(len(p.surname) == 2 for p in people)
    assert len({p.id_number for p in people}) == len(people)
    assert all(p.hukou[:4] != p.district[:4] for p in people)  # migrants live outside their hukou city
