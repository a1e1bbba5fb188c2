"""The central server's API for one unit (``central/openapi.yaml``), over HTTPS.

:class:`SyncClient` turns every way a request can go wrong into a :class:`firmware.exc.SyncError`
whose ``kind`` says what to do about it. It holds no unit state and touches nothing but its socket.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from firmware.exc import InsecureURL, SyncError, SyncErrorKind
from firmware.sync.settings import MAX_BATCH, ServerSettings
from firmware.version import user_agent

DEFAULT_API_PATH = "/api/v1"
_RECORD_INDEX = re.compile(r"records\[(\d+)\]\.?(.*)")


@dataclass(frozen=True)
class BatchOutcome:
    """What the server said about one batch: ids it now holds, and ids it holds differently (409)."""

    delivered: list[str]
    conflicts: list[str]


@dataclass(frozen=True)
class TimeReading:
    """The server's clock, estimated for the moment the answer arrived (half the round trip added)."""

    epoch: float
    rtt_s: float

    def as_datetime(self, tz: Any) -> datetime:
        return datetime.fromtimestamp(self.epoch, tz)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SyncClient:
    """The central server's API for one unit: records, config and time, over HTTPS.

    ``url`` is the API base (``https://host/api/v1``; a bare ``https://host`` gets ``/api/v1``).
    Plain ``http://`` is refused unless the host is loopback (the simulator, tests). Certificates
    are verified against ``ca_file`` when given, else the system's CAs. One persistent connection is
    kept and reopened after any error. Not thread-safe: one worker thread owns it.

        >>> client = SyncClient("https://central.example.org/api/v1", "token", timeout_s=10)
        >>> client.post_batch([record]).delivered
        ['0b9f...']
    """

    def __init__(self, url: str, token: str, *, ca_file: str | None = None, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server.url: must be an http(s) URL (got {url!r})")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise InsecureURL(
                f"server.url: plain http:// is only allowed to a loopback host; use https:// for {parts.hostname}"
            )
        self.url = url
        self.host = parts.hostname
        self.port = parts.port
        self.https = parts.scheme == "https"
        self.base_path = parts.path.rstrip("/") or DEFAULT_API_PATH
        self.token = token
        self.timeout_s = float(timeout_s)
        self._context: ssl.SSLContext | None = None
        if self.https:
            self._context = ssl.create_default_context(cafile=ca_file or None)
            self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def from_settings(cls, server: ServerSettings) -> SyncClient:
        return cls(server.url, server.token, ca_file=server.ca_file, timeout_s=server.timeout_s)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> SyncClient:
        """From the ``[server]`` table: url, token, ca_file, timeout_s."""
        return cls.from_settings(ServerSettings.from_config(cfg))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- transport
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.https:
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s,
                                                         context=self._context)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        return self._conn

    def _request(self, method: str, path: str, body: Any = None,
                 headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request; retries once on a fresh connection when a kept-alive one turns out closed.

        Every request the worker makes is safe to repeat (reads, and idempotent record posts).
        """
        send = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "User-Agent": user_agent(),
                **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            send["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._connection()
            try:
                conn.request(method, self.base_path + path, body=data, headers=send)
                resp = conn.getresponse()
                raw = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw
            except ssl.SSLCertVerificationError as e:
                self.close()
                raise SyncError(SyncErrorKind.AUTH, f"server certificate not trusted: {e.verify_message}") from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection
                raise SyncError(SyncErrorKind.RETRY, f"connection lost: {type(e).__name__}") from None
            except TimeoutError:
                self.close()
                raise SyncError(SyncErrorKind.RETRY, f"timed out after {self.timeout_s:g} s") from None
            except http.client.IncompleteRead:
                self.close()
                raise SyncError(SyncErrorKind.RETRY, "truncated response") from None
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise SyncError(SyncErrorKind.RETRY, f"network: {type(e).__name__}: {e}") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _json(raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SyncError(SyncErrorKind.RETRY, "malformed JSON in response") from None

    @staticmethod
    def _fail(status: int, raw: bytes) -> SyncError:
        """The error for a non-success status. The server's message may quote values: never logged."""
        field_name = None
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and isinstance(doc.get("field"), str):
                field_name = doc["field"]
        except (ValueError, UnicodeDecodeError):
            pass
        if status >= 500 or status in (408, 425, 429):
            return SyncError(SyncErrorKind.RETRY, f"server answered {status}", status)
        index = None
        if field_name:
            m = _RECORD_INDEX.match(field_name)
            if m:
                index, field_name = int(m.group(1)), m.group(2) or None
        if status == 400:
            return SyncError(SyncErrorKind.INVALID, f"server refused a record (400, field {field_name or '?'})", status,
                             index=index, field=field_name)
        if status == 403 and index is not None:
            # a record naming another unit: a problem of that record, not of our token
            return SyncError(SyncErrorKind.INVALID, f"server refused a record (403, field {field_name})", status,
                             index=index, field=field_name)
        if status in (401, 403):
            return SyncError(SyncErrorKind.AUTH, f"server refused the unit's token ({status})", status)
        return SyncError(SyncErrorKind.CLIENT, f"server answered {status}", status)

    # -- API
    def post_batch(self, records: list[dict[str, Any]]) -> BatchOutcome:
        """POST /records/batch. Created and duplicate both count as delivered; conflicts are listed."""
        if not 1 <= len(records) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} records")
        status, _, raw = self._request("POST", "/records/batch", {"records": records})
        if status != 200:
            raise self._fail(status, raw)
        doc = self._json(raw)
        results = doc.get("results") if isinstance(doc, dict) else None
        sent = [r["id"] for r in records]
        if not isinstance(results, list) or len(results) != len(sent):
            raise SyncError(SyncErrorKind.RETRY, "malformed batch result")
        delivered, conflicts = [], []
        for rid, item in zip(sent, results, strict=True):
            if not isinstance(item, dict) or str(item.get("id")) != rid:
                raise SyncError(SyncErrorKind.RETRY, "malformed batch result (ids out of order)")
            if item.get("status") in ("created", "duplicate"):
                delivered.append(rid)
            elif item.get("status") == "conflict":
                conflicts.append(rid)
            else:
                raise SyncError(SyncErrorKind.RETRY, "malformed batch result (unknown status)")
        return BatchOutcome(delivered, conflicts)

    def get_config(self, etag: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
        """GET /config. ``(doc, etag)``; ``(None, etag)`` when unchanged (304) or none exists (404)."""
        headers = {"If-None-Match": etag} if etag else {}
        status, hdrs, raw = self._request("GET", "/config", headers=headers)
        if status == 304:
            return None, hdrs.get("etag", etag)
        if status == 404:
            return None, None
        if status != 200:
            raise self._fail(status, raw)
        doc = self._json(raw)
        if not isinstance(doc, dict):
            raise SyncError(SyncErrorKind.RETRY, "malformed config document (not an object)")
        return doc, hdrs.get("etag")

    def get_time(self) -> TimeReading:
        """GET /time, with half the round trip added to the server's answer."""
        started = time.monotonic()
        status, _, raw = self._request("GET", "/time")
        rtt = time.monotonic() - started
        if status != 200:
            raise self._fail(status, raw)
        doc = self._json(raw)
        epoch = doc.get("epoch") if isinstance(doc, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int | float):
            raise SyncError(SyncErrorKind.RETRY, "malformed time answer")
        return TimeReading(float(epoch) + rtt / 2, rtt)
