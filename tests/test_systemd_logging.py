"""Log lines for journald: key=value or JSON, syslog priority prefix on the journal stream, redaction."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest

from deskunit.logsetup import KeyValueFormatter, RedactFilter, redact, setup_logging, stdout_is_journal


@pytest.mark.parametrize("text", ["+380 44 123 45 67", "0441234567", "(044) 123-45-67", "+380441234567",
                                  "044.123.45.67", "+38 (044) 123 45 67"])
def test_phone_numbers_are_redacted(text):
    assert redact(f"caller {text} asked") == "caller [phone] asked"


def test_emails_are_redacted():
    assert redact("write to olena.p+court@example.com.ua now") == "write to [email] now"


@pytest.mark.parametrize("text", ["call 550e8400-e29b-41d4-a716-446655440000 saved",
                                  "call 12345678-1234-1234-1234-123456789012 saved",
                                  "2026-11-23T09:15:00+02:00", "2026-11-23 09:15:00", "record 123456 saved",
                                  "t=12.34 hold_total_s=180.0", "operator 7 signed in"])
def test_ids_times_and_counts_are_left_alone(text):
    assert redact(text) == text


def logger_to(stream, **kw):
    handler = setup_logging(stream=stream, **kw)
    return logging.getLogger("deskunit.test"), handler


def test_key_value_lines_with_redaction():
    out = io.StringIO()
    log, _ = logger_to(out)
    log.warning("appeal from %s saved", "olena@example.org")
    line = out.getvalue().strip()
    assert "level=warning" in line and "logger=deskunit.test" in line
    assert 'msg="appeal from [email] saved"' in line and "example.org" not in line


def test_json_lines_and_tracebacks_are_redacted_too():
    out = io.StringIO()
    log, _ = logger_to(out, fmt="json")
    try:
        raise ValueError("bad phone +380441234567")
    except ValueError:
        log.exception("failed for %s", "0441234567")
    doc = json.loads(out.getvalue().strip().splitlines()[0])
    assert doc["level"] == "error" and doc["msg"] == "failed for [phone]"
    assert "[phone]" in doc["exc"] and "380441234567" not in out.getvalue()


def test_priority_prefix_only_on_the_journal_stream(tmp_path, monkeypatch):
    path = tmp_path / "journal-stream"
    with open(path, "w") as fh:
        st = os.fstat(fh.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert stdout_is_journal(fh)
        log, handler = logger_to(fh)
        log.error("disk full")
        handler.flush()
    line = path.read_text().strip()
    assert line.startswith("<3>level=error") and "ts=" not in line
    monkeypatch.delenv("JOURNAL_STREAM")
    assert not stdout_is_journal(io.StringIO())


def test_filter_freezes_the_message_for_other_handlers():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("a@b.cz",), None)
    RedactFilter().filter(record)
    assert record.getMessage() == "to [email]"
    assert KeyValueFormatter().format(record).endswith('msg="to [email]"')


@pytest.fixture(autouse=True)
def _restore_root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
