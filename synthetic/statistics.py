"""The statistics bureau's floating population survey: one Avro file per wave, deflate, the bureau's schema.

Statistics law limits what the bureau discloses: a masked ID (region and last four kept, or none), the birth
year-month and the phone's last four digits. Waves are written with the sample's schema, except one written
with the bureau's next schema version (an extra optional field), so that a reader must use the schema in the
file. Blocks are kept small (sync_interval) so a file has several; one extra wave was cut short by the transfer
in the middle of its last block: the records of the complete blocks are readable, the rest are not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
from dataclasses import dataclass
from typing import Any

from fastavro.write import Writer

from synthetic.context import FeedContext, random_day, shuffled
from synthetic.ledger import QUARANTINE, RECORD
from synthetic.noise import Noise
from synthetic.places import province_name
from synthetic.population import Person

DEPARTMENT, STREAM = "statistics", "tj_ldrk"
# The bureau's schema exactly as the sample file's header has it.
SCHEMA_JSON = (
    '{"type": "record", "name": "cn.stats.ldrk.FloatingPopulationSurveyRecord", "fields": ['
    '{"name": "respondent_id", "type": "string"}, {"name": "name", "type": "string"}, '
    '{"default": null, "name": "id_number_masked", "type": ["null", "string"]}, '
    '{"name": "gender", "type": {"type": "enum", "name": "cn.stats.ldrk.Gender", "symbols": ["MALE", "FEMALE"]}}, '
    '{"name": "birth_year_month", "type": "string"}, {"name": "hukou_province", "type": "string"}, '
    '{"name": "current_district_code", "type": "string"}, {"name": "arrival_year", "type": "int"}, '
    '{"default": null, "name": "phone_tail", "type": ["null", "string"]}, {"name": "household_size", "type": "int"}, '
    '{"name": "survey_wave", "type": "string"}, '
    '{"name": "survey_date", "type": {"logicalType": "date", "type": "int"}}]}'
)
SCHEMA: dict[str, Any] = json.loads(SCHEMA_JSON)
SAMPLING = 0.06  # share of adult migrants interviewed in one wave
_EDUCATION = ("小学", "初中", "高中/中专", "大专", "本科及以上")


def evolved_schema() -> dict[str, Any]:
    """The bureau's next version: an optional 'education' field, inserted before household_size."""
    schema = json.loads(SCHEMA_JSON)
    at = next(i for i, f in enumerate(schema["fields"]) if f["name"] == "household_size")
    schema["fields"].insert(at, {"default": None, "name": "education", "type": ["null", "string"]})
    return schema


@dataclass(frozen=True)
class Wave:
    name: str  # '2026Q3'
    evolved: bool = False  # written with the next schema version
    cut: bool = False  # the transfer broke off inside the last block

    @property
    def file_name(self) -> str:
        return f"tj_ldrk_{self.name}.avro"

    def days(self, now: dt.date) -> tuple[dt.date, dt.date]:
        """First and last interview day: the quarter, but never on or after delivery."""
        year, quarter = int(self.name[:4]), int(self.name[-1])
        first = dt.date(year, 3 * quarter - 2, 1)
        after = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
        last = min(after, now) - dt.timedelta(days=1)
        return min(first, last), last  # a wave published ahead of its quarter is dated the day before delivery


def next_wave_name(name: str) -> str:
    year, quarter = int(name[:4]), int(name[-1])
    return f"{year + 1}Q1" if quarter == 4 else f"{year}Q{quarter + 1}"


def write_statistics(ctx: FeedContext) -> dict[str, Any]:
    """Three waves: 2026Q1 (cut short, when there is noise), 2026Q2 (sample schema), 2026Q3 (evolved schema)."""
    rng = ctx.rng(DEPARTMENT)
    noise = ctx.noise(DEPARTMENT, rng)
    waves = [Wave("2026Q1", cut=ctx.noise_level > 0), Wave("2026Q2"), Wave("2026Q3", evolved=True)]
    totals = {"rows": 0, "corrupt": 0, "people": 0}
    for wave in waves:
        counts = write_wave(ctx, rng, noise, wave, ctx.people)
        for name in totals:
            totals[name] += counts[name]
    return {**totals, "waves": [wave.name for wave in waves]}  # type: ignore[dict-item]


def write_wave(ctx: FeedContext, rng: random.Random, noise: Noise, wave: Wave, people: list[Person]) -> dict[str, int]:
    """Interview a sample of adults and write the wave's file; returns rows, corrupt rows and people."""
    first, last = wave.days(ctx.now)
    adults = [p for p in shuffled(rng, people) if 16 <= p.age(first) <= 70 and _arrival(p) <= first]
    sample = [p for p in adults if rng.random() < ctx.mix.covered(SAMPLING)]
    if wave.cut and len(sample) < 2:  # a cut file needs a complete block before the broken one
        sample = adults[:2]
    respondents = [(f"{wave.name}-{n:07d}", person) for n, person in enumerate(sample, start=1)]
    records = [_record(rng, noise, wave, key, person, random_day(rng, first, last)) for key, person in respondents]
    schema = evolved_schema() if wave.evolved else SCHEMA
    data, blocks = encode_wave(schema, records, hashlib.md5(f"{ctx.seed}/{wave.name}".encode()).digest())
    readable = len(records)
    if wave.cut and blocks:
        start, end, first_record = blocks[-1]
        data = data[: start + max(1, (end - start) // 2)]
        readable = first_record
    folder = ctx.out_dir / DEPARTMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / wave.file_name).write_bytes(data)
    for number, (key, person) in enumerate(respondents, start=1):
        good = number <= readable
        ctx.ledger.delivered(DEPARTMENT, STREAM, key, f"{wave.file_name}:{number}", RECORD if good else QUARANTINE)
        if good:
            ctx.ledger.truth(DEPARTMENT, key, person.key)
    return {"rows": len(records), "corrupt": len(records) - readable, "people": len(records)}


def _record(rng: random.Random, noise: Noise, wave: Wave, key: str, person: Person, day: dt.date) -> dict[str, Any]:
    number = noise.id_number(person.id_number)
    birth = noise.birth_date(person.birth)
    phone = noise.phone(person.phone, person.old_phone)
    old = person.previous
    district = old.district if old is not None and day < old.end else person.district  # surveyed before a move?
    record: dict[str, Any] = {
        "respondent_id": key,
        "name": noise.name(person.surname, person.given),
        "id_number_masked": None if rng.random() < 0.12 else f"{number[:6]}********{number[-4:]}",
        "gender": "MALE" if person.sex == "1" else "FEMALE",
        "birth_year_month": f"{birth.year}-{birth.month:02d}",
        "hukou_province": province_name(person.hukou),
        "current_district_code": district,
        "arrival_year": _arrival(person).year,
        "phone_tail": phone[-4:] if phone and rng.random() < 0.95 else None,
        "household_size": person.household + (person.guardian is None and rng.random() < 0.3),
        "survey_wave": wave.name,
        "survey_date": day,
    }
    if wave.evolved:
        record["education"] = rng.choice(_EDUCATION) if rng.random() < 0.9 else None
    return record


def _arrival(person: Person) -> dt.date:
    """When the person came to the city (a mover's first registration there)."""
    return person.previous.start if person.previous else person.res_start


def encode_wave(schema: dict[str, Any], records: list[dict[str, Any]], sync_marker: bytes) -> tuple[bytes, list[tuple[int, int, int]]]:
    """The Avro file's bytes and its blocks as (start offset, end offset, index of the block's first record).

    Blocks are cut by fastavro when the uncompressed block reaches sync_interval; the interval is set so a wave
    has about eight blocks (at least ~one record each), and the offsets are read off as the writer goes."""
    buffer = io.BytesIO()
    interval = max(100, min(64_000, len(records) * 110 // 8))
    writer = Writer(buffer, schema, codec="deflate", sync_interval=interval, sync_marker=sync_marker)
    blocks: list[tuple[int, int, int]] = []
    start, first = buffer.tell(), 0
    for number, record in enumerate(records, start=1):
        writer.write(record)
        if buffer.tell() != start:
            blocks.append((start, buffer.tell(), first))
            start, first = buffer.tell(), number
    writer.flush()
    if buffer.tell() != start:
        blocks.append((start, buffer.tell(), first))
    return buffer.getvalue(), blocks
