"""generate_delta: the departments' next delivery, on top of a generated folder.

About `fraction` of the population is touched: half of it existing people whose records change, half newcomers.
Public security updates rows in place (same JZDJBH, a later GXSJ; some in one batch, sharing a GXSJ) and inserts
new ones; human resources completes the pending file (its .ok appears) and drops a new day's file; statistics
publishes a new wave; health appends new versions and new items, later than everything before, so the files
stay sorted. truth.csv and delivered.csv are appended to (the pending rows become 'record').

The delivery happens on the manifest's `delivery_day`, which then moves one day on, so deltas can be chained.
Deltas add no structural corruption (the base generation exercises every kind); field noise is as configured.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from synthetic.context import FeedContext, iso_china, office_time, shuffled
from synthetic.generate import read_manifest, write_manifest
from synthetic.health import DEPARTMENT as HEALTH
from synthetic.health import HealthBatch, HealthWriter, Item, write_items
from synthetic.human_resources import DEPARTMENT as HR
from synthetic.human_resources import EnrolmentWriter, HrRow, file_name, write_day_file
from synthetic.ledger import Ledger, mark_taken, read_truth
from synthetic.mix import PopulationMix
from synthetic.places import mobile_phone, places, street_address
from synthetic.population import Person, Registration, build_arrivals, build_population
from synthetic.public_security import COLUMNS, PsRow, RegistrationWriter, TableWriter, read_rows, record_row, timestamp
from synthetic.public_security import DEPARTMENT as PS
from synthetic.statistics import Wave, next_wave_name, write_wave

Keys = dict[str, dict[str, list[str]]]  # department → person → source keys


def generate_delta(out_dir: Path, seed: int, fraction: float = 0.01) -> dict[str, Any]:
    """Append the next delivery of every department to `out_dir` (made by generate_feeds); returns counts."""
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    day = dt.date.fromisoformat(manifest["delivery_day"])
    number = len(manifest.get("delta_runs", [])) + 1
    rng = random.Random(f"{manifest['seed']}/delta{number}/{seed}")
    used_ids: set[str] = set()
    mix = PopulationMix.from_dict(manifest.get("mix"))
    population = _rebuild(manifest, used_ids, mix)
    arrivals = build_arrivals(round(len(population) * fraction / 2), rng, len(population), used_ids, day, mix)
    changed = rng.sample(population, min(len(population), round(len(population) * fraction / 2)))
    truth = read_truth(out_dir, {person.key for person in changed})  # the keys this delivery sends again
    keys = _keys_by_person(truth)
    if manifest.get("pending_file"):
        (out_dir / HR / (manifest["pending_file"] + ".ok")).write_bytes(b"")
        mark_taken(out_dir, manifest["pending_file"])
    with Ledger(out_dir, append=True, known=[(department, key) for department, key, _ in truth]) as ledger:
        ctx = FeedContext(out_dir, population + arrivals, seed, manifest["noise"], ledger, now=day + dt.timedelta(days=1), mix=mix)
        serials = manifest["next_serial"]
        counts: dict[str, Any] = {
            "day": day.isoformat(),
            "arrivals": len(arrivals),
            "changed": len(changed),
            "public_security": _public_security(ctx, rng, changed, arrivals, keys, serials, day),
            "human_resources": _human_resources(ctx, rng, changed, arrivals, keys, serials, day),
            "statistics": _statistics(ctx, rng, manifest),
            "health": _health(ctx, rng, changed, arrivals, keys, serials, day),
        }
        counts["delivered"] = sum(ledger.counts.values())
    manifest["delta_runs"] = [*manifest.get("delta_runs", []), {"seed": seed, "arrivals": len(arrivals)}]
    manifest.update(
        population=len(population) + len(arrivals),
        delivery_day=(day + dt.timedelta(days=1)).isoformat(),
        pending_file=None,
        last_wave=counts["statistics"]["wave"],
    )
    write_manifest(out_dir, manifest)
    return counts


def _rebuild(manifest: dict[str, Any], used_ids: set[str], mix: PopulationMix) -> list[Person]:
    """The population as the last delivery left it: the base people and every earlier delta's newcomers."""
    population = build_population(manifest["people"], manifest["seed"], used_ids, mix)
    day = dt.date.fromisoformat(manifest["delivery_day"]) - dt.timedelta(days=len(manifest.get("delta_runs", [])))
    for number, run in enumerate(manifest.get("delta_runs", []), start=1):
        rng = random.Random(f"{manifest['seed']}/delta{number}/{run['seed']}")
        population += build_arrivals(run["arrivals"], rng, len(population), used_ids, day, mix)
        day += dt.timedelta(days=1)
    return population


def _keys_by_person(truth: list[tuple[str, str, str]]) -> Keys:
    keys: Keys = {}
    for department, key, person in truth:
        keys.setdefault(department, {}).setdefault(person, []).append(key)
    return keys


def _public_security(
    ctx: FeedContext,
    rng: random.Random,
    changed: list[Person],
    arrivals: list[Person],
    keys: Keys,
    serials: dict[str, int],
    day: dt.date,
) -> dict[str, int]:
    """Updates of current registrations (a new phone or permit, or a move) and newcomers' registrations."""
    writer = RegistrationWriter(rng, ctx.noise(PS, rng), ctx.now, serials["public_security"])
    path = ctx.out_dir / PS / "ga_jzdj.sqlite"
    mine = {person.index: keys.get(PS, {}).get(person.key, []) for person in changed}
    stored = read_rows(path, [key for person_keys in mine.values() for key in person_keys])
    batch = office_time(rng, day).replace(hour=23, minute=30, second=0)  # tonight's correction run
    rows: list[PsRow] = []
    for person in changed:
        current = [stored[k] for k in mine[person.index] if k in stored and stored[k][COLUMNS.index("ZXBS")] == "0"]
        if current:
            rows += _update_registration(rng, writer, person, current[0], day, batch)
    for row in (row for person in arrivals if rng.random() < 0.91 for row in writer.rows(person)):
        row.values[COLUMNS.index("GXSJ")] = timestamp(office_time(rng, day))  # entered today, whatever JZKSRQ says
        rows.append(row)
    with TableWriter(path, create=False) as table:
        for row in rows:
            table.add(row.values)
    for row in rows:
        record_row(ctx, row)
    serials["public_security"] = writer.next_serial
    return {"rows": len(rows), "people": len({row.person.index for row in rows})}


def _update_registration(
    rng: random.Random,
    writer: RegistrationWriter,
    person: Person,
    values: list[str | None],
    day: dt.date,
    batch: dt.datetime,
) -> list[PsRow]:
    """The row again with a later GXSJ: a new phone, a permit issued, or cancelled for a move (plus the new one)."""
    values = list(values)
    column = COLUMNS.index
    roll = rng.random()
    if roll < 0.15:  # moved to another district of the city: this one is cancelled, a new one registered
        values[column("ZXBS")] = "1"
        district = places().district(rng, person.district[:4], other_than=person.district)
        person.previous = Registration(person.district, person.address, person.res_start, day)
        person.district, person.address, person.res_start = district, street_address(rng, district), day
        values[column("GXSJ")] = timestamp(office_time(rng, day))
        return [PsRow(values, person), writer.current_row(person)]
    if roll < 0.6 or values[column("JZZH")] is not None:
        values[column("LXDH")] = mobile_phone(rng)
    else:
        values[column("JZZH")] = f"{values[column('XZZ_XZQH')]}{rng.randrange(10**9):09d}"
    moment = batch if rng.random() < 0.2 else office_time(rng, day)
    values[column("GXSJ")] = timestamp(moment)
    return [PsRow(values, person)]


def _human_resources(
    ctx: FeedContext,
    rng: random.Random,
    changed: list[Person],
    arrivals: list[Person],
    keys: Keys,
    serials: dict[str, int],
    day: dt.date,
) -> dict[str, Any]:
    """A new day's change file (complete, with .ok): status or employer changes, and new enrolments."""
    writer = EnrolmentWriter(rng, ctx.noise(HR, rng), serials["human_resources"])
    rows: list[HrRow] = []
    for person in changed:
        for key in keys.get(HR, {}).get(person.key, [])[:1]:
            rows.append(writer.row(key, person, day, change=True))
    for person in shuffled(rng, arrivals):
        if 16 <= person.age(ctx.now) <= 64 and rng.random() < 0.67:
            rows.append(writer.row(writer.new_key(), person, day))
    rows.sort(key=lambda row: row.key)
    write_day_file(ctx, ctx.out_dir / HR, day, rows, complete=True)
    serials["human_resources"] = writer.next_serial
    return {"rows": len(rows), "people": len(rows), "file": file_name(day)}


def _statistics(ctx: FeedContext, rng: random.Random, manifest: dict[str, Any]) -> dict[str, Any]:
    wave = Wave(next_wave_name(manifest["last_wave"]), evolved=True)
    counts = write_wave(ctx, rng, ctx.noise("statistics", rng), wave, ctx.people)
    return {**counts, "wave": wave.name}


def _health(
    ctx: FeedContext,
    rng: random.Random,
    changed: list[Person],
    arrivals: list[Person],
    keys: Keys,
    serials: dict[str, int],
    day: dt.date,
) -> dict[str, int]:
    """New versions of changed persons (a new phone, a record established) and newcomers with their services."""
    folder = ctx.out_dir / HEALTH
    wanted = {key: person for person in changed for key in keys.get(HEALTH, {}).get(person.key, [])}
    latest = _latest_items(folder / "persons.jsonl", set(wanted))
    numbers = {"person": serials["health_person"], "event": serials["health_event"]}
    writer = HealthWriter(ctx, rng, ctx.noise(HEALTH, rng), numbers, earlier_versions=False)
    batch = HealthBatch()
    for key, person in wanted.items():
        if key in latest:
            _update_person(rng, writer, batch, latest[key], person, day)
    for person in arrivals:
        if rng.random() < 0.7:
            guardian = ctx.person(person.guardian).id_number if person.guardian is not None else None
            writer.add_person(batch, person, guardian)
    for item in batch.persons + batch.services:  # whatever the service date, the platform has it since today
        item.replace({**item.data, "updated_at": iso_china(office_time(rng, day))})
    write_items(ctx, folder / "persons.jsonl", "persons", batch.persons, append=True)
    write_items(ctx, folder / "services.jsonl", "services", batch.services, append=True)
    serials["health_person"], serials["health_event"] = numbers["person"], numbers["event"]
    return {"persons": len(batch.persons), "services": len(batch.services)}


def _update_person(
    rng: random.Random, writer: HealthWriter, batch: HealthBatch, item: dict[str, Any], person: Person, day: dt.date
) -> None:
    """The person's item again: a new phone, and maybe the standardized health record established today."""
    data = {**item, "phone": mobile_phone(rng) if item["phone"] else None}
    if data["health_record_no"] is None and rng.random() < 0.4:
        record_no = f"{data['address_code']}{int(data['person_id'][8:]):011d}"  # as the base generation numbers
        data["health_record_no"], data["health_record_date"] = record_no, day.isoformat()
        event = ("HEALTH_RECORD", day, {"record_no": record_no}, office_time(rng, day))
        writer.service(batch, person, data["person_id"], event, district=data["address_code"])
    batch.persons.append(Item.of(data, person))


def _latest_items(path: Path, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The last version of each wanted person item in the file."""
    found: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if item.get("person_id") in keys:
                found[item["person_id"]] = item
    return found
