"""The API under a careless or hostile client, over real HTTP against the real `mmi serve` (a process of its own):
numbers beyond 64 bits, a flood from one token, a revoked token (API and page session), the security headers,
TLS with a self-signed certificate, and what the access log writes. On SQLite and PostgreSQL (TLS: SQLite)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import delete, select

from devtools.served import Serving, mmi_serve
from mmi.api import api_settings, issue_token
from mmi.api.revocation import revoke
from mmi.audit.checkpoints import audit_settings, trusted_verifier
from mmi.audit.verify import verify_store
from mmi.config import load_settings
from mmi.store.audit_tables import audit_leaf
from mmi.store.database import open_store
from mmi.store.token_tables import token_revocation
from tests.conftest import fresh_postgres_schema
from tests.mmi.exchange.outbox import SUBSCRIBERS
from tests.mmi.web.server import csrf_of

MMI = str(Path(sys.executable).with_name("mmi"))
SUBSCRIBER = "zhengzhou-health"
RATE, BURST = 2.0, 12


def write_config(folder: Path, store_url: str) -> Path:
    """A config file for the real commands: the store, two subscriptions, a small rate limit, no deny-list cache."""
    lines = [
        f"[store]\nurl = {json.dumps(store_url)}\n",
        '[exchange]\nout_dir = "changesets"\n',
        *(
            f"[subscribers.{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in subscription.items())
            for name, subscription in SUBSCRIBERS.items()
        ),
        '[api]\nissuer = "mmi-test"\naudience = "hardening-test"\njwks = "keys/jwks.json"\nsigning_key = "keys/signing.pem"\n'
        f"rate_limit_per_second = {RATE}\nrate_limit_burst = {BURST}\nrevocation_cache_seconds = 0\n",
        '[audit]\nsigning_key = "keys/audit-log.pem"\npublic_key = "keys/audit-log.pub"\n',
    ]
    config = folder / "mmi.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def mmi(config: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MMI, *arguments, "--config", str(config)], capture_output=True, text=True, timeout=120)


@dataclass
class Server:
    config: Path
    serving: Serving
    store_url: str

    def token(self, role: str = "admin", subject: str = "ops") -> str:
        """A token as `mmi token` makes it (its function: the command's start-up costs seconds on a loaded machine)."""
        return issue_token(api_settings(load_settings(self.config)), role, subject)

    def token_from_the_command(self, role: str, subject: str) -> str:
        done = mmi(self.config, "token", "--role", role, "--subject", subject)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.serving.base_url, headers=headers, timeout=30, follow_redirects=False)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per backend for the module: each test uses tokens of its own, so budgets do not mix."""
    folder = tmp_path_factory.mktemp(f"hardening-{request.param}")
    with contextlib.ExitStack() as stack:
        store_url = f"sqlite:///{folder / 'mmi.db'}"
        if request.param == "postgresql":
            store_url = stack.enter_context(fresh_postgres_schema(request.getfixturevalue("postgres_problem")))
        config = write_config(folder, store_url)
        assert mmi(config, "keys").returncode == 0
        serving = stack.enter_context(mmi_serve(config, "--log-level", "info"))
        yield Server(config, serving, store_url)


def test_numbers_beyond_64_bits_and_overlong_names_are_422_never_500(server: Server) -> None:
    with server.client(server.token()) as client:
        for path in (
            f"/v1/changesets?subscriber={SUBSCRIBER}&after=15289582137093289984",
            f"/v1/changesets/18446744073709551617?subscriber={SUBSCRIBER}",
            f"/v1/changesets/18446744073709551617/ack?subscriber={SUBSCRIBER}",
            "/v1/review/items/18446744073709551617",
            "/v1/review/queue?offset=18446744073709551617",
            "/v1/audit/proof?leaf=0&size=18446744073709551617",
            f"/v1/changesets?subscriber={'x' * 5000}",
        ):
            response = client.post(path) if "/ack?" in path else client.get(path)
            assert response.status_code == 422, (path, response.status_code, response.text)
            assert response.json()["detail"][0]["loc"][-1] in {"after", "seq", "item_id", "offset", "size", "subscriber"}
        items = client.post("/v1/review/decisions", json={"decision": "match", "reason": "r", "items": [2**64]})
        assert items.status_code == 422 and items.json()["detail"][0]["loc"] == ["body", "items", 0]
        # change-set numbers are 32-bit on PostgreSQL: one beyond is refused; within the bounds, one not there is a 404
        assert client.get(f"/v1/changesets/{2**31}?subscriber={SUBSCRIBER}").status_code == 422
        assert client.get(f"/v1/changesets/{2**31 - 1}?subscriber={SUBSCRIBER}").status_code == 404
        assert client.get(f"/v1/review/items/{2**62}").status_code == 404


def test_a_flood_from_one_token_gets_429_with_retry_after_and_another_token_is_still_served(server: Server) -> None:
    flooding, other = server.token("subscriber", SUBSCRIBER), server.token("subscriber", SUBSCRIBER)
    with server.client(flooding) as client:
        statuses = [client.get("/v1/changesets").status_code for _ in range(4 * BURST)]
        refused = client.get("/v1/changesets")
    assert statuses[:BURST].count(200) >= BURST - 1  # the burst is served (a refill may add one)
    assert 429 in statuses and refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1 and "too many requests" in refused.json()["detail"]
    with server.client(other) as client:  # same subject, another token: a budget of its own
        assert client.get("/v1/changesets").status_code == 200


def test_a_revoked_token_is_refused_by_the_api_and_ends_its_page_session(server: Server) -> None:
    subscriber, steward = server.token("subscriber", SUBSCRIBER), server.token_from_the_command("steward", "li.steward")
    subscriber_jti = jwt.decode(subscriber, options={"verify_signature": False})["jti"]
    with server.client(subscriber) as api, server.client() as browser:
        assert api.get("/v1/changesets").status_code == 200
        csrf = csrf_of(browser.get("/ui/signin").text)
        assert browser.post("/ui/signin", data={"token": steward, "csrf_token": csrf}).status_code == 303
        assert browser.get("/ui/queue").status_code == 200
        for token_or_jti in (subscriber_jti, steward):  # by its jti, or the token itself
            command = [MMI, "token", "revoke", "--config", str(server.config), token_or_jti]  # as the operations guide says
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0 and "is revoked" in done.stdout, done.stderr
        refused = api.get("/v1/changesets")
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        page = browser.get("/ui/queue")
        assert page.status_code == 401 and "revoked" in page.text
        again = browser.post("/ui/signin", data={"token": steward, "csrf_token": csrf_of(browser.get("/ui/signin").text)})
        assert again.status_code == 401  # and the revoked token opens no new session
    assert revoke(open_store(server.store_url), subscriber, "ops").already  # the token itself names the same jti
    engine = open_store(server.store_url)
    try:
        with engine.connect() as connection:
            revoked = connection.execute(select(token_revocation.c.subject, token_revocation.c.role)).all()
            leaves = connection.execute(select(audit_leaf.c.kind).where(audit_leaf.c.table_name == "token_revocation")).scalars().all()
        assert sorted(revoked, key=str) == [("li.steward", "steward"), (None, None)]  # by jti alone: whose is not known
        assert leaves == ["revocation", "revocation"]  # once each, though revoked three times
        verified = mmi(server.config, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        with engine.begin() as connection:  # a revocation removed behind the service's back: the verifier names it
            connection.execute(delete(token_revocation).where(token_revocation.c.role == "steward"))
        settings = load_settings(server.config)
        tampered = verify_store(engine, trusted_verifier(audit_settings(settings)), None)
        assert any(problem.startswith("token_revocation ") and "missing" in problem for problem in tampered.problems), tampered.problems
    finally:
        engine.dispose()


def test_every_response_carries_the_security_headers_and_no_hsts_over_plain_http(server: Server) -> None:
    with server.client(server.token()) as client, server.client() as anonymous:
        responses = [
            client.get(f"/v1/changesets?subscriber={SUBSCRIBER}"),
            anonymous.get("/v1/changesets"),  # 401
            anonymous.get("/v1/health"),
            anonymous.get("/openapi.json"),
            anonymous.get("/no/such/route"),  # 404 from the router itself
            anonymous.get("/ui/signin"),
            anonymous.get("/ui/static/app.css"),
            anonymous.delete("/v1/review/decisions"),  # 405
            anonymous.get("/docs"),
        ]
    assert [response.status_code for response in responses] == [200, 401, 200, 200, 404, 200, 200, 405, 404]
    assert set(responses[7].headers["Allow"].split(", ")) == {"GET", "POST"}  # every method the path takes
    for response in responses:
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers
    assert responses[0].headers["Cache-Control"] == "no-store" and "no-store" not in responses[6].headers.get("Cache-Control", "")
    assert responses[3].json()["paths"]  # the document stays at /openapi.json; Swagger UI (inline scripts) is off:
    assert responses[8].status_code == 404


def test_the_access_log_writes_requests_but_no_token_and_no_sign_in_code(server: Server) -> None:
    token = server.token()
    with server.client(token) as client:
        assert client.get(f"/v1/changesets?subscriber={SUBSCRIBER}").status_code == 200
        assert client.get("/v1/changesets?subscriber=nobody").status_code == 404
    code = "c0de" * 8
    with server.client() as browser:
        assert browser.get(f"/ui/login?code={code}").status_code == 401
        assert browser.get(f"/v1/health?access_token={token}").status_code == 200  # a token put in a query by mistake
    log = server.serving.log.read_text(encoding="utf-8")
    assert f"GET /v1/changesets?subscriber={SUBSCRIBER} HTTP/1.1" in log and "/ui/login?code=[redacted]" in log
    assert token not in log and code not in log
    assert token.split(".")[2] not in log  # not even the signature


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "tls.crt", folder / "tls.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert, private


def test_mmi_serve_over_tls_with_a_self_signed_certificate_sends_hsts(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'mmi.db'}")
    cert, key = _self_signed(tmp_path)
    assert mmi(config, "keys").returncode == 0
    with mmi_serve(config, "--tls-cert", str(cert), "--tls-key", str(key), https=True) as serving:
        token = Server(config, serving, "").token()
        with httpx.Client(base_url=serving.base_url, verify=ssl.create_default_context(cafile=str(cert)), timeout=30) as client:
            response = client.get(f"/v1/changesets?subscriber={SUBSCRIBER}", headers={"Authorization": f"Bearer {token}"})
            page = client.get("/ui/signin")
        with pytest.raises(httpx.HTTPError):  # and plain HTTP on that port is not served
            httpx.get(serving.base_url.replace("https://", "http://") + "/v1/health", timeout=5)
    assert response.status_code == 200 and response.json()["subscriber"] == SUBSCRIBER
    for answer in (response, page):
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_twenty_first_acknowledgements_at_once_all_succeed_and_move_the_position_once(server: Server) -> None:
    """Concurrent first acknowledgements once made PostgreSQL answer 500 (both inserted the position row)."""
    from concurrent.futures import ThreadPoolExecutor

    from mmi.exchange import publish
    from tests.mmi.exchange.outbox import Outbox, golden

    engine = open_store(server.store_url)
    try:
        outbox = Outbox(engine)
        for number in range(2):
            outbox.add("create", f"ACK{number}", after=golden(name=f"人{number}", current_district="440305"))
        publish(load_settings(server.config), engine)
        tokens = [server.token("subscriber", "guangdong-police") for _ in range(20)]

        def acknowledge(token: str) -> int:
            with server.client(token) as client:
                return client.post("/v1/changesets/1/ack").status_code

        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(acknowledge, tokens))
        assert statuses == [200] * 20
        with engine.connect() as connection:
            leaves = connection.execute(
                select(audit_leaf.c.kind).where(audit_leaf.c.kind == "acknowledgement", audit_leaf.c.row_key == '["guangdong-police"]')
            ).all()
        assert len(leaves) == 1  # the position moved once, and was logged once
    finally:
        engine.dispose()
