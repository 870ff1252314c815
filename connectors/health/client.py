"""One page of the health API, with the retry rules of a polite client.

- 429: wait what `Retry-After` says (seconds or an HTTP date; capped), then ask again;
- 5xx, timeouts, dropped connections, a body that is not the documented JSON: back off exponentially with
  jitter, then ask again;
- 401/403: the token is wrong, which waiting will not fix: stop with an error that says so;
- after `max_attempts` the page is given up as a `TransientError`; the stream's cursor still points at the last
  page stored, so the next run resumes there.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.source import setting
from schemas.errors import SourceError, TransientError

DEPARTMENT = "health"


@dataclass(frozen=True)
class HealthSettings:
    base_url: str
    token: str = setting(env="MMI_HEALTH_TOKEN")
    page_size: int = 500
    max_attempts: int = 6
    backoff_seconds: float = 0.5
    max_retry_after_seconds: float = 120.0
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))  # paths are appended with their own '/'


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_page_token: str | None
    url: str


class HealthClient:
    def __init__(self, settings: HealthSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=settings.base_url,
            headers={"Authorization": f"Bearer {settings.token}", "Accept": "application/json"},
            timeout=settings.timeout_seconds,
        )
        self.retries = 0  # how many times a request was repeated, for the run report

    def close(self) -> None:
        self.http.close()

    def page(self, stream: str, updated_since: str | None, page_token: str | None) -> Page:
        params = {"page_size": str(self.settings.page_size)}
        if updated_since:
            params["updated_since"] = updated_since
        if page_token:
            params["page_token"] = page_token
        path = f"/api/v1/{stream}"
        last_problem = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                response = self.http.get(path, params=params)
            except httpx.TransportError as error:
                last_problem = f"{type(error).__name__}: {error}"
                self._back_off(attempt)
                continue
            if response.status_code in (401, 403):
                raise SourceError(
                    DEPARTMENT,
                    f"GET {path} answered {response.status_code}: the token was refused; set sources.health.token or MMI_HEALTH_TOKEN to a valid one",
                    location=str(response.request.url),
                )
            if response.status_code == 429:
                last_problem = "429 rate limited"
                self._wait(self._retry_after(response), attempt)
                continue
            if response.status_code >= 500:
                last_problem = f"{response.status_code} {response.reason_phrase}"
                self._back_off(attempt)
                continue
            if response.status_code != 200:
                raise SourceError(
                    DEPARTMENT,
                    f"GET {response.request.url} answered {response.status_code}: {response.text[:200]}",
                    location=str(response.request.url),
                )
            page = _parse_page(response)
            if page is not None:
                return page
            last_problem = "the body is not {'items': [...], 'next_page_token': ...}"
            self._back_off(attempt)
        raise TransientError(
            f"[health] GET {path} failed {self.settings.max_attempts} times (last: {last_problem}); the next run resumes from the last stored page",
            department=DEPARTMENT,
            location=f"GET {path} {params}",
        )

    def _retry_after(self, response: httpx.Response) -> float:
        value = response.headers.get("Retry-After", "")
        if value.strip().isdigit():
            return float(value)
        when = email.utils.parsedate_to_datetime(value) if value else None
        if when is not None:
            return max(0.0, when.timestamp() - time.time())
        return self.settings.backoff_seconds

    def _back_off(self, attempt: int) -> None:
        base = self.settings.backoff_seconds * 2 ** (attempt - 1)
        self._wait(base * random.uniform(0.5, 1.5), attempt)

    def _wait(self, seconds: float, attempt: int) -> None:
        if attempt < self.settings.max_attempts:
            self.retries += 1
            self.sleep(min(seconds, self.settings.max_retry_after_seconds))


def _parse_page(response: httpx.Response) -> Page | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return None
    token = body.get("next_page_token")
    return Page(body["items"], token if isinstance(token, str) and token else None, str(response.request.url))
