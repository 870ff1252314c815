"""Human resources' insurance enrolments: daily change files rs_cbdj_YYYYMMDD.csv, GB18030, CRLF.

Each row is a change record; the same 个人编号 comes back in later files when the status, employer or insurance
type changes. A file is complete once its .ok marker exists; the last day's file has none yet. Structural faults,
each quarantined by a correct pipeline: a row with the wrong number of columns (an employer name holding an
unquoted comma, or a missing field), a row whose bytes are not GB18030 (a double-byte character cut in half), a
row with an empty 个人编号, and one file cut short in the middle of its last row.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from synthetic.context import FeedContext, random_day, shuffled
from synthetic.ledger import PENDING, QUARANTINE, RECORD
from synthetic.noise import Noise
from synthetic.places import employer, hukou_place
from synthetic.population import Person, truth_key

DEPARTMENT, STREAM = "human_resources", "rs_cbdj"
HEADER = "个人编号,姓名,公民身份号码,性别,出生日期,户籍所在地,参保地,单位名称,险种,参保状态,手机号码,变更日期"
DAYS = 30
COVERAGE = 0.67  # share of working-age migrants enrolled
CORRUPTIONS = ("wrong_columns", "bad_bytes", "empty_key")
_INSURANCE = ("养老", "医疗", "失业", "工伤", "生育")
_STATUS = ("参保缴费", "暂停缴费", "终止")


@dataclass(slots=True)
class HrRow:
    """A change row, kept as its CSV text (a month of rows is held until each day's file is written)."""

    key: str
    person: int  # the truth: the person's index
    text: str
    corruption: str | None = None

    @property
    def fields(self) -> list[str]:
        return self.text.split(",")

    def encode(self) -> bytes:
        """The row's bytes as the department's export writes them (faults included)."""
        if self.corruption is None:
            return self.text.encode("gb18030") + b"\r\n"
        fields = self.fields
        if self.corruption == "empty_key":
            fields[0] = ""
        if self.corruption == "wrong_columns":
            fields = _wrong_columns(fields)
        line = ",".join(fields).encode("gb18030")
        if self.corruption == "bad_bytes":  # the name's last character loses its trail byte
            start = len(fields[0].encode("gb18030")) + 1
            end = start + len(fields[1].encode("gb18030"))
            line = line[: end - 1] + line[end:]
        return line + b"\r\n"


def _wrong_columns(fields: list[str]) -> list[str]:
    if fields[0][-1:] in ("1", "3", "5", "7", "9"):  # drop the phone column
        return fields[:10] + fields[11:]
    return fields[:7] + [fields[7], "第二分公司"] + fields[8:]  # '…有限公司,第二分公司', unquoted


class EnrolmentWriter:
    """Turns people into change rows; also used by the follow-up delivery."""

    def __init__(self, rng: random.Random, noise: Noise, next_serial: int = 1) -> None:
        self.rng, self.noise = rng, noise
        self.next_serial = next_serial

    def new_key(self) -> str:
        key = f"RS{self.next_serial:09d}"
        self.next_serial += 1
        return key

    def row(self, key: str, person: Person, day: dt.date, previous: HrRow | None = None, change: bool = False) -> HrRow:
        """A change row; a later change keeps the identity as first written (HR stores it once), mostly.
        `change` marks a later change whose earlier row is not at hand (its identity is written anew)."""
        rng, noise = self.rng, self.noise
        change = change or previous is not None
        if previous is not None and rng.random() < 0.9:
            identity = previous.fields[1:7]
        else:
            identity = [
                noise.name(person.surname, person.given),
                noise.person_id_number(person.id_number) or "",
                "男" if person.sex == "1" else "女",
                noise.hr_date(noise.birth_date(person.birth)),
                hukou_place(person.hukou),
                person.district,
            ]
        status = rng.choices(_STATUS, (50, 35, 15))[0] if change else _STATUS[0]
        job = previous.fields[7] if previous is not None and rng.random() < 0.4 else employer(rng, person.district)
        phone = noise.phone(person.phone, person.old_phone) or ""
        fields = [key, *identity, job, rng.choice(_INSURANCE), status, phone, day.isoformat()]
        return HrRow(key, person.index, ",".join(fields))


def write_human_resources(ctx: FeedContext) -> dict[str, int]:
    """Write the daily files of the 30 days up to the day before delivery; the last one without .ok."""
    rng = ctx.rng(DEPARTMENT)
    writer = EnrolmentWriter(rng, ctx.noise(DEPARTMENT, rng))
    days = [ctx.now - dt.timedelta(days=DAYS - i) for i in range(DAYS)]
    by_day: dict[dt.date, list[HrRow]] = {day: [] for day in days}
    enrolled = [p for p in shuffled(rng, ctx.people) if 16 <= p.age(ctx.now) <= 64 and rng.random() < ctx.mix.covered(COVERAGE)]
    for person in enrolled:
        _plan_changes(rng, writer, person, days, by_day)
    complete = [row for day in days[:-1] for row in sorted(by_day[day], key=lambda r: r.key)]
    for position, kind in ctx.corrupt_rows(rng, len(complete), CORRUPTIONS).items():
        complete[position].corruption = kind
    cut_day = _day_to_cut(rng, days[:-1], by_day) if ctx.noise_level > 0 else None
    folder = ctx.out_dir / DEPARTMENT
    folder.mkdir(parents=True, exist_ok=True)
    for day in days:
        rows = sorted(by_day[day], key=lambda r: r.key)
        write_day_file(ctx, folder, day, rows, complete=day != days[-1], cut=day == cut_day)
    return {
        "rows": sum(len(rows) for rows in by_day.values()),
        "corrupt": ctx.ledger.counts[DEPARTMENT, STREAM, QUARANTINE],
        "pending": len(by_day[days[-1]]),
        "files": len(days),
        "people": len(enrolled),
        "next_serial": writer.next_serial,
    }


def _plan_changes(
    rng: random.Random, writer: EnrolmentWriter, person: Person, days: list[dt.date], by_day: dict[dt.date, list[HrRow]]
) -> None:
    """A first row on some day, then maybe a change or two on later days."""
    key = writer.new_key()
    day = random_day(rng, max(person.res_start, days[0]), days[-1])  # not before they came
    row = writer.row(key, person, day)
    by_day[day].append(row)
    chance = 0.3
    while day < days[-1] and rng.random() < chance:
        day = random_day(rng, day + dt.timedelta(days=1), days[-1])
        row = writer.row(key, person, day, previous=row)
        by_day[day].append(row)
        chance = 0.2


def _day_to_cut(rng: random.Random, days: list[dt.date], by_day: dict[dt.date, list[HrRow]]) -> dt.date | None:
    """A completed file with at least two rows (else one with one row) that the transfer will cut short."""
    for least in (2, 1):
        candidates = [day for day in days if len(by_day[day]) >= least]
        if candidates:
            return rng.choice(candidates)
    return None


def file_name(day: dt.date) -> str:
    return f"rs_cbdj_{day:%Y%m%d}.csv"


def write_day_file(ctx: FeedContext, folder: Path, day: dt.date, rows: list[HrRow], complete: bool, cut: bool = False) -> None:
    """One day's file (and its .ok marker when `complete`); `cut` ends it inside the last row's name."""
    name = file_name(day)
    lines = [(HEADER + "\r\n").encode("gb18030")] + [row.encode() for row in rows]
    if cut and rows:
        name_start = lines[-1].index(b",") + 1
        lines[-1] = lines[-1][: name_start + 1]  # one byte into a double-byte character, no final newline
    (folder / name).write_bytes(b"".join(lines))
    ok_marker = folder / (name + ".ok")
    if complete:
        ok_marker.write_bytes(b"")
    else:
        ok_marker.unlink(missing_ok=True)
    for number, row in enumerate(rows, start=2):
        partial = cut and number == len(rows) + 1
        if not complete:
            expected = PENDING
        elif row.corruption or partial:
            expected = QUARANTINE
        else:
            expected = RECORD
        source_key = "" if row.corruption == "empty_key" else row.key
        ctx.ledger.delivered(DEPARTMENT, STREAM, source_key, f"{name}:{number}", expected)
        if expected != QUARANTINE:
            ctx.ledger.truth(DEPARTMENT, row.key, truth_key(row.person))
