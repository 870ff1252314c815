"""Synthetic feeds: a migrant population written out as the four departments' native feeds, with the truth.

For demos, tests and benchmarks. The feeds follow FEEDS.md and the samples exactly, real errors included
(noise.py lists them), and truth.csv says which source records are the same person.

    generate_feeds(out_dir, people, seed, noise=1.0)   the four feeds, truth.csv, delivered.csv, mmi.toml
    generate_delta(out_dir, seed, fraction=0.01)       the departments' next delivery, appended
    load_public_security(sqlite_path, target_url)      the ga_jzdj table into PostgreSQL (or any SQLAlchemy URL)
    load_sample_sql(sql_path, target_url)              the shared sample's .sql into any SQLAlchemy URL
    start_health_api(data_dir) / serve_health_api(...) the health department's HTTP API over the .jsonl files
"""

from synthetic.delta import generate_delta
from synthetic.generate import generate_feeds
from synthetic.health_api import HEALTH_TOKEN, serve_health_api, start_health_api
from synthetic.loaders import load_public_security, load_sample_sql

__all__ = [
    "HEALTH_TOKEN",
    "generate_delta",
    "generate_feeds",
    "load_public_security",
    "load_sample_sql",
    "serve_health_api",
    "start_health_api",
]
