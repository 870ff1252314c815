"""generate_feeds: one synthetic population, written out as the four departments' native feeds.

The same (people, seed, noise) gives byte-identical files: every random draw comes from generators seeded with
the seed and a fixed name, "today" is fixed (2026-11-01), and nothing iterates over a hash-ordered set.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from connectors.registry import DEPARTMENTS
from synthetic.context import FeedContext
from synthetic.health import write_health
from synthetic.health_api import HEALTH_TOKEN
from synthetic.human_resources import file_name, write_human_resources
from synthetic.ledger import Ledger
from synthetic.mix import DEFAULT_MIX, PopulationMix
from synthetic.population import TODAY, build_population
from synthetic.public_security import write_public_security
from synthetic.statistics import write_statistics

MANIFEST = "generator.json"  # what generate_delta needs to continue where the last delivery ended

MMI_TOML = f"""[store]
url = "sqlite:///var/mmi.db"

[sources.public_security]
url = "sqlite:///public_security/ga_jzdj.sqlite"
table = "ga_jzdj"

[sources.human_resources]
drop_dir = "human_resources"

[sources.statistics]
drop_dir = "statistics"

[sources.health]
base_url = "http://127.0.0.1:8701"
token = "{HEALTH_TOKEN}"

# The exchange: change sets per subscriber (see README, 'Exchange'). Keys for the API's tokens are made on
# demand by `mmi keys` or the first `mmi token`.
[exchange]
out_dir = "var/changesets"

[subscribers.zhengzhou-health]
department = "health"
jurisdiction = ["4101"]
fields = ["name", "id_number", "birth_date", "sex", "current_district", "residence_start", "health_record_no"]

[subscribers.guangdong-public-security]
department = "public_security"
jurisdiction = ["44"]
fields = ["name", "id_number", "birth_date", "sex", "phone", "current_district", "current_address", "residence_start", "permit_number"]

[subscribers.shanghai-human-resources]
department = "human_resources"
jurisdiction = ["3101"]
fields = ["name", "id_number", "current_district", "employer", "insurance_status"]

[api]
issuer = "mmi"
audience = "mmi-exchange"
jwks = "var/keys/jwks.json"
signing_key = "var/keys/signing.pem"
"""


def generate_feeds(out_dir: Path, people: int, seed: int, noise: float = 1.0, mix: PopulationMix = DEFAULT_MIX) -> dict[str, Any]:
    """Write the four feeds, truth.csv, delivered.csv, mmi.toml and the generator's manifest into `out_dir`.

    `noise` scales every field error and structural fault (0: clean feeds; 1: a few percent of records; 3: three
    times as many); `mix` how many twins, namesakes, families and records without an ID the population holds and
    how much of it each department covers (synthetic.mix). Earlier feed folders in `out_dir` are replaced. Returns counts per department and of noise.
    """
    out_dir = Path(out_dir)
    _clear(out_dir)
    population = build_population(people, seed, mix=mix)
    with Ledger(out_dir) as ledger:
        ctx = FeedContext(out_dir, population, seed, noise, ledger, mix=mix)
        counts: dict[str, Any] = {
            "people": people,
            "mix": mix.as_dict(),
            "public_security": write_public_security(ctx),
            "human_resources": write_human_resources(ctx),
            "statistics": write_statistics(ctx),
            "health": write_health(ctx),
        }
        counts["delivered"] = sum(ledger.counts.values())
        counts["expected"] = _expected_counts(ledger)
    counts["noise"] = {department: dict(sorted(c.items())) for department, c in ctx.noise_counts.items()}
    (out_dir / "mmi.toml").write_text(MMI_TOML, encoding="utf-8")
    (out_dir / "var").mkdir(exist_ok=True)
    write_manifest(out_dir, _manifest(people, seed, noise, counts) | {"mix": mix.as_dict()})
    for internal in ("next_serial", "next_person", "next_event"):  # the manifest's business, not the caller's
        for department in DEPARTMENTS:
            counts[department].pop(internal, None)
    return counts


def _clear(out_dir: Path) -> None:
    """Remove what an earlier generation wrote (only the generator's own folders and files)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for department in DEPARTMENTS:
        shutil.rmtree(out_dir / department, ignore_errors=True)
    for name in ("truth.csv", "delivered.csv", "mmi.toml", MANIFEST):
        (out_dir / name).unlink(missing_ok=True)


def _expected_counts(ledger: Ledger) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (_, _, expected), rows in sorted(ledger.counts.items()):
        totals[expected] = totals.get(expected, 0) + rows
    return totals


def _manifest(people: int, seed: int, noise: float, counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "people": people,
        "seed": seed,
        "noise": noise,
        "population": people,  # people in the population, including arrivals added by deltas
        "delta_runs": [],  # one entry per generate_delta: its seed and how many newcomers it added
        "delivery_day": TODAY.isoformat(),  # the first day on which no feed has anything yet
        "pending_file": file_name(TODAY - dt.timedelta(days=1)),  # the HR file still without its .ok
        "next_serial": {
            "public_security": counts["public_security"]["next_serial"],
            "human_resources": counts["human_resources"]["next_serial"],
            "health_person": counts["health"]["next_person"],
            "health_event": counts["health"]["next_event"],
        },
        "last_wave": counts["statistics"]["waves"][-1],
    }


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_manifest(out_dir: Path) -> dict[str, Any]:
    path = out_dir / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run generate_feeds on {out_dir} before generate_delta")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest
