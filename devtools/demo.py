"""`python -m devtools demo` (`make demo`): the whole flow on one machine, through the real Airflow DAGs, with nothing to set up.

1. Generate the four departments' feeds for a few thousand people, with a truth file.
2. Serve the health feed from a local HTTP server, as the department would.
3. Run the DAGs with Airflow (`airflow dags test`, SQLite metadata database under the demo folder): the four
   ingest DAGs, `link_master_index` (the first run trains the model and links everyone), `publish_change_sets`.
4. The departments' next delivery arrives: the same DAGs again, now linking only what changed.
5. Print what there is to see (store, index, accuracy against truth, change sets), write the exports, and serve
   the exchange API with tokens for a subscriber, a steward and an auditor.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from connectors.registry import DEPARTMENTS
from devtools import DAGS
from devtools.feeds import served_feeds
from mmi.airflow_local import LocalAirflow
from mmi.config import Settings
from mmi.exchange import exchange_settings
from mmi.principal import Principal
from mmi.store.database import open_store

INGEST_DAGS = tuple(f"ingest_{department}" for department in DEPARTMENTS)
FLOW = (*INGEST_DAGS, "link_master_index", "publish_change_sets")


def run_demo(out: Path, people: int, *, seed: int = 7, serve: bool = True, port: int = 8700) -> dict[str, Any]:
    """Run the demo into `out`; returns what it printed as figures (for tests). Serves until interrupted if `serve`."""
    from synthetic import generate_delta

    started = time.monotonic()
    out = out.resolve()
    feeds = out / "feeds"
    step(f"generating feeds for {people} people in {feeds}")
    for earlier in (feeds / "var", out / "airflow"):  # every demo starts from an empty store, index and Airflow
        shutil.rmtree(earlier, ignore_errors=True)
    with served_feeds(feeds, people=people, seed=seed, noise=1.0) as served:
        step(f"the health department's API is serving at {served.base_url}/api/v1/persons")
        settings = served.settings()
        engine = open_store(settings.store_url)
        step(f"preparing Airflow in {out / 'airflow'} (SQLite metadata database, the project's DAGs)")
        airflow = LocalAirflow.prepared(out / "airflow", DAGS)
        run_flow(airflow, served.config, engine, "first delivery")
        step("the departments' next delivery arrives (1% of people changed or new, a new survey wave)")
        generate_delta(feeds, seed=seed + 1, fraction=0.01)
        run_flow(airflow, served.config, engine, "next delivery: only what changed is linked")
    figures = summarise(settings, engine, out, feeds)
    step(f"batch part done in {time.monotonic() - started:.0f}s")
    if serve:
        serve_api(settings, engine, port)
    return figures


def run_flow(airflow: LocalAirflow, config: Path, engine: Engine, label: str) -> None:
    step(f"running the DAGs through Airflow: {label}")
    for dag_id in FLOW:
        began = time.monotonic()
        airflow.dags_test(dag_id, env={"MMI_CONFIG": str(config)})
        print(f"    {dag_id:<24} done in {time.monotonic() - began:4.0f}s   {progress(engine, dag_id)}", flush=True)


def progress(engine: Engine, dag_id: str) -> str:
    """One line on what the DAG left in the store."""
    from mmi.store.index_tables import linkage_run, master_record
    from mmi.store.tables import ingest_batch

    with engine.connect() as connection:
        if dag_id.startswith("ingest_"):
            department = dag_id.removeprefix("ingest_")
            batch = connection.execute(
                select(ingest_batch).where(ingest_batch.c.department == department).order_by(ingest_batch.c.id.desc()).limit(1)
            ).first()
            return (
                "nothing new"
                if batch is None
                else (f"delivered {batch.delivered}, new versions {batch.new_versions}, quarantined {batch.quarantined}")
            )
        if dag_id == "link_master_index":
            run = connection.execute(select(linkage_run).order_by(linkage_run.c.id.desc()).limit(1)).one()
            masters = connection.execute(
                select(func.count()).select_from(master_record).where(master_record.c.status == "active")
            ).scalar_one()
            return f"{run.mode} run: {run.records_changed} records scored, {run.events} events; {masters} masters"
    from mmi.store.exchange_tables import changeset

    with engine.connect() as connection:
        sets = connection.execute(select(func.count()).select_from(changeset)).scalar_one()
    return f"{sets} change sets in all"


def summarise(settings: Settings, engine: Engine, out: Path, feeds: Path) -> dict[str, Any]:
    from mmi.export import export_quarantine, export_records, export_review, export_xref
    from mmi.index.evaluation import evaluate_index
    from mmi.store.status import store_status

    exports = out / "exports"
    counts = {
        "records": export_records(engine, exports / "records.csv"),
        "quarantine": export_quarantine(engine, exports / "quarantine.csv"),
        "xref": export_xref(engine, exports / "xref.csv"),
        "review": export_review(engine, exports / "review.csv", settings.linkage.match_threshold),
    }
    accuracy = evaluate_index(engine, feeds / "truth.csv")
    status = store_status(engine)
    print(
        f"""
  store            {settings.store_url}
  source records   {json.dumps(status["source_records"])}
  master index     {accuracy["masters"]} masters from {accuracy["records_in_index"]} person records
  against truth    precision {accuracy["precision"]:.4f}  recall {accuracy["recall"]:.4f}  F1 {accuracy["f1"]:.4f}  (mmi evaluate)
  exports          {exports}/: records.csv ({counts["records"]}), quarantine.csv ({counts["quarantine"]}, each with its reason),
                   xref.csv ({counts["xref"]}: department,source_key,master_id), review.csv ({counts["review"]} pairs for stewards)
  change sets      {exchange_settings(settings).out_dir}/ (Avro, one folder per subscriber)
""",
        flush=True,
    )
    return {"accuracy": accuracy, "exports": counts}


def serve_api(settings: Settings, engine: Engine, port: int) -> None:
    from mmi.api.keys import ensure_keys, issue_token
    from mmi.api.serving import serve
    from mmi.api.settings import api_settings

    api = api_settings(settings)
    ensure_keys(api)
    subscriptions = exchange_settings(settings).subscriptions
    subscriber = "zhengzhou-health" if "zhengzhou-health" in subscriptions else next(iter(subscriptions), "zhengzhou-health")
    tokens = {
        role: issue_token(api, role, subject)
        for role, subject in (("subscriber", subscriber), ("steward", "demo-steward"), ("auditor", "demo-auditor"))
    }
    base = f"http://127.0.0.1:{port}"
    links = {
        role: _sign_in_link(settings, engine, base, Principal(subject, role, None))
        for role, subject in (("steward", "demo-steward"), ("auditor", "demo-auditor"), ("planner", "demo-planner"))
    }
    step(f"serving the exchange API and the pages (stewards', auditors', planners') at {base} (Ctrl-C to stop)")
    print(
        f"""
  OpenAPI          {base}/openapi.json
  tokens (1 hour)  subscriber {subscriber}: {tokens["subscriber"]}
                   steward:    {tokens["steward"]}
                   auditor:    {tokens["auditor"]}
  try              curl -H "Authorization: Bearer $TOKEN" "{base}/v1/changesets?after=0"
                   curl -H "Authorization: Bearer $TOKEN" -o 1.avro {base}/v1/changesets/1
                   curl -H "Authorization: Bearer $AUDITOR_TOKEN" {base}/v1/masters/M000000001
  more tokens      mmi token --config {settings.config_path} --role subscriber --subject {subscriber}
  pages            workbench  {links["steward"]}
                   auditors   {links["auditor"]}
                   planners   {links["planner"]}
                   (one-time sign-in links, each good once within minutes; a new one:
                    mmi login --config {settings.config_path} --role steward --subject demo-steward --url {base})
""",
        flush=True,
    )
    serve(settings, engine, "127.0.0.1", port)


def _sign_in_link(settings: Settings, engine: Engine, base: str, principal: Principal) -> str:
    """A one-time link that signs a browser in to the pages as `principal`, as `mmi login` prints it."""
    from dataclasses import replace

    from mmi.web.sessions import create_login_code, login_link
    from mmi.web.settings import web_settings

    web = replace(web_settings(settings), public_url=base)
    return login_link(web, create_login_code(engine, web, principal))


def step(message: str) -> None:
    print(f"==> {message}", flush=True)
