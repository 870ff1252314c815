"""A local stand-in for the health platform's HTTP API (FEEDS.md section 4), serving persons.jsonl and services.jsonl.

    GET /api/v1/persons?updated_since=<ISO-8601>&page_token=<opaque>&page_size=<1..1000>
    GET /api/v1/services?...
    → {"items": [...], "next_page_token": "<opaque>" | null}

Items are ordered by (updated_at, key) and filtered by updated_at >= updated_since, compared as timezone-aware
times (a time without an offset is China time). The page token is the position of the last item served, so
paging stays correct when the files grow in between (they are reloaded when they change on disk). A line that
is not JSON is served as a JSON string item, in its place: the client sees it and must quarantine it.

For tests, faults can be injected: every Nth request rate-limited (429, Retry-After: 1), every Mth failing
(503), the first K failing (500). Standard library only (http.server), so it runs anywhere the tests do.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import datetime as dt
import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HEALTH_TOKEN = "mmi-demo-health-7c1e4b9a2f"  # the default bearer token; mmi.toml of generated data carries it
STREAMS = {"persons": "person_id", "services": "event_id"}  # path → the key items are ordered by
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
_CHINA = dt.timezone(dt.timedelta(hours=8))
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)

SortKey = tuple[dt.datetime, str, int]  # updated_at, key, position among items sharing both


class BadRequest(ValueError):
    """A query parameter the API rejects with 400."""


def parse_time(text: str) -> dt.datetime:
    """ISO-8601 to an aware datetime; no offset means China time. A '+' decoded to ' ' by a URL is restored."""
    moment = dt.datetime.fromisoformat(text.strip().replace(" ", "+") if "T" in text else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=_CHINA)


@dataclass
class ItemFile:
    """One .jsonl file, parsed and ordered; reloaded when its size or modification time changes."""

    path: Path
    key_field: str
    items: list[str] = field(default_factory=list)  # each item as JSON text
    keys: list[SortKey] = field(default_factory=list)
    _stamp: tuple[int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> tuple[list[str], list[SortKey]]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (0, 0)
        with self._lock:
            if stamp != self._stamp:
                self._load()
                self._stamp = stamp
            return self.items, self.keys

    def _load(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        entries: list[tuple[SortKey, str]] = []
        previous: SortKey = (_EARLIEST, "", -1)
        for line in lines:
            if not line.strip():
                continue
            text, key = self._parse(line)
            if key is None or key[:2] == previous[:2]:  # no order of its own, or a tie: keep file order
                key = (*previous[:2], previous[2] + 1)
            entries.append((key, text))
            previous = key
        entries.sort(key=lambda entry: entry[0])
        self.keys = [key for key, _ in entries]
        self.items = [text for _, text in entries]

    def _parse(self, line: str) -> tuple[str, SortKey | None]:
        try:
            item = json.loads(line)
        except ValueError:
            return json.dumps(line, ensure_ascii=False), None
        if not isinstance(item, dict):
            return line.strip(), None
        try:
            updated = parse_time(str(item["updated_at"]))
        except (KeyError, ValueError):
            return line.strip(), None
        return line.strip(), (updated, str(item.get(self.key_field) or ""), 0)

    def page(self, since: dt.datetime | None, after: SortKey | None, size: int) -> tuple[list[str], SortKey | None]:
        """Up to `size` items from `since` on, after the item `after`; and the last one's key if more follow."""
        items, keys = self.current()
        start = bisect.bisect_left(keys, (since,)) if since else 0
        if after is not None:
            start = max(start, bisect.bisect_right(keys, after))
        end = min(start + size, len(items))
        return items[start:end], (keys[end - 1] if end < len(items) else None)


def encode_token(key: SortKey) -> str:
    text = json.dumps([key[0].isoformat(), key[1], key[2]], ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_token(token: str) -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        moment, key, position = json.loads(raw.decode("utf-8"))
        return parse_time(moment), str(key), int(position)
    except (ValueError, TypeError) as error:
        raise BadRequest(f"page_token is not one this API issued: {error}") from None


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: dict[str, Any], **headers: str) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)


@dataclass
class Faults:
    """Injected failures, counted over all requests: fail_first, then rate_limit_every, then error_every."""

    rate_limit_every: int = 0
    error_every: int = 0
    fail_first: int = 0
    _requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Response | None:
        with self._lock:
            self._requests += 1
            number = self._requests
        if number <= self.fail_first:
            return json_response(500, {"error": "internal_error", "message": "injected failure"})
        if self.rate_limit_every and number % self.rate_limit_every == 0:
            return json_response(429, {"error": "rate_limited", "message": "retry later"}, **{"Retry-After": "1"})
        if self.error_every and number % self.error_every == 0:
            return json_response(503, {"error": "unavailable", "message": "injected outage"})
        return None


class HealthApi:
    """The API without the HTTP plumbing: a request line and an Authorization header in, a Response out."""

    def __init__(self, data_dir: Path, token: str = HEALTH_TOKEN, faults: Faults | None = None) -> None:
        self.token = token
        self.faults = faults or Faults()
        self.files = {stream: ItemFile(Path(data_dir) / f"{stream}.jsonl", key) for stream, key in STREAMS.items()}

    def handle(self, target: str, authorization: str | None) -> Response:
        injected = self.faults.next()
        if injected:
            return injected
        url = urlsplit(target)
        stream = url.path.rstrip("/").removeprefix("/api/v1/")
        if stream not in self.files or not url.path.startswith("/api/v1/"):
            return json_response(404, {"error": "not_found", "message": f"no such resource: {url.path}"})
        if authorization != f"Bearer {self.token}":
            message = "send Authorization: Bearer <token>" if not authorization else "the token is not valid"
            return json_response(401, {"error": "unauthorized", "message": message}, **{"WWW-Authenticate": "Bearer"})
        try:
            since, after, size = self._query(parse_qs(url.query, keep_blank_values=True))
        except BadRequest as error:
            return json_response(400, {"error": "bad_request", "message": str(error)})
        items, last = self.files[stream].page(since, after, size)
        token = json.dumps(encode_token(last) if last else None)
        body = f'{{"items": [{", ".join(items)}], "next_page_token": {token}}}'
        return Response(200, body.encode("utf-8"))

    @staticmethod
    def _query(query: dict[str, list[str]]) -> tuple[dt.datetime | None, SortKey | None, int]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        size_text, since_text, token = one("page_size"), one("updated_since"), one("page_token")
        try:
            size = int(size_text) if size_text is not None else DEFAULT_PAGE_SIZE
        except ValueError:
            raise BadRequest(f"page_size must be an integer 1..{MAX_PAGE_SIZE}, not {size_text!r}") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise BadRequest(f"page_size must be 1..{MAX_PAGE_SIZE}, not {size}")
        try:
            since = parse_time(since_text) if since_text else None
        except ValueError:
            raise BadRequest(f"updated_since must be an ISO-8601 time, not {since_text!r}") from None
        return since, (decode_token(token) if token else None), size


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: HealthApi, verbose: bool = False) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.verbose = verbose


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer
    protocol_version = "HTTP/1.1"  # keep-alive: a sync pages through thousands of requests
    disable_nagle_algorithm = True  # headers and body go out in two writes; do not wait 40 ms between them

    def do_GET(self) -> None:  # the name http.server dispatches to
        response = self.server.api.handle(self.path, self.headers.get("Authorization"))
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # the signature of the base class
        if self.server.verbose:
            super().log_message(format, *args)


def start_health_api(
    data_dir: Path,
    token: str = HEALTH_TOKEN,
    host: str = "127.0.0.1",
    port: int = 0,
    verbose: bool = False,
    *,
    rate_limit_every: int = 0,
    error_every: int = 0,
    fail_first: int = 0,
) -> tuple[HealthServer, str]:
    """Serve in a daemon thread (for tests); returns the server (call .shutdown()) and its base URL."""
    faults = Faults(rate_limit_every, error_every, fail_first)
    server = HealthServer((host, port), HealthApi(data_dir, token, faults), verbose)
    threading.Thread(target=server.serve_forever, args=(0.05,), name="health-api", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


def serve_health_api(
    data_dir: Path,
    token: str = HEALTH_TOKEN,
    host: str = "127.0.0.1",
    port: int = 8701,
    verbose: bool = False,
    *,
    rate_limit_every: int = 0,
    error_every: int = 0,
    fail_first: int = 0,
) -> None:
    """Serve until interrupted (for the command line)."""
    faults = Faults(rate_limit_every, error_every, fail_first)
    server = HealthServer((host, port), HealthApi(data_dir, token, faults), verbose)
    print(f"health API on http://{host}:{server.server_address[1]} serving {data_dir}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve persons.jsonl and services.jsonl as the health API.")
    parser.add_argument("data_dir", type=Path, help="folder holding persons.jsonl and services.jsonl")
    parser.add_argument("--token", default=HEALTH_TOKEN)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--rate-limit-every", type=int, default=0, help="answer every Nth request with 429")
    parser.add_argument("--error-every", type=int, default=0, help="answer every Mth request with 503")
    parser.add_argument("--fail-first", type=int, default=0, help="answer the first K requests with 500")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    serve_health_api(
        args.data_dir,
        args.token,
        args.host,
        args.port,
        args.verbose,
        rate_limit_every=args.rate_limit_every,
        error_every=args.error_every,
        fail_first=args.fail_first,
    )


if __name__ == "__main__":
    main()
