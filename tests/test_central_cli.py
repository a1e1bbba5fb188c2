"""`python -m central` (add-unit, set-config, serve) and serving over TLS."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("central") is None:  # until pyproject lists the `central` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central import CentralServer  # noqa: E402
from central.cli import main  # noqa: E402
from central.store import open_store  # noqa: E402
from central.testing import call, make_record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _enrol(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["add-unit", *args])
    out, err = capsys.readouterr()
    return code, out.strip(), err


def test_add_unit_and_set_config_then_a_server_uses_them(tmp_path: Path, capsys) -> None:
    db = tmp_path / "central.db"
    code, token, err = _enrol(capsys, "unit-9", "--name", "Desk 9", "--db", str(db))
    assert code == 0 and len(token) >= 40 and "shown once" in err
    doc = tmp_path / "fleet.json"
    doc.write_text('{"roster": [1, 2]}', encoding="utf-8")
    assert main(["set-config", str(doc), "--db", f"sqlite:///{db}"]) == 0
    with CentralServer(db) as srv:
        assert call(srv.url, "POST", "/api/v1/records", token, make_record("unit-9")).status == 201
        assert call(srv.url, "GET", "/api/v1/config", token).body == {"roster": [1, 2]}
    # Only the token's hash is kept.
    assert token.encode() not in db.read_bytes()


def test_add_unit_refuses_an_enrolled_id_unless_rotating(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "central.db")
    _code, first, _err = _enrol(capsys, "unit-1", "--db", db)
    code, out, err = _enrol(capsys, "unit-1", "--db", db)
    assert (code, out) == (1, "") and "already enrolled" in err and "--rotate" in err
    with CentralServer(db) as srv:
        assert call(srv.url, "GET", "/api/v1/config", first).status == 404  # still the first token's unit
    code, second, _err = _enrol(capsys, "unit-1", "--rotate", "--db", db)
    assert code == 0 and second != first
    with CentralServer(db) as srv:
        assert call(srv.url, "GET", "/api/v1/config", first).status == 401
        assert call(srv.url, "GET", "/api/v1/config", second).status == 404


def test_add_unit_takes_no_token_on_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["add-unit", "unit-1", "my-secret-token", "--db", str(tmp_path / "c.db")])


def test_migrate_reports_the_schema_version(tmp_path: Path, capsys) -> None:
    from central.migrations import LATEST

    assert main(["migrate", "--db", str(tmp_path / "c.db")]) == 0
    assert capsys.readouterr().out.strip() == f"schema version {LATEST} (sqlite)"


def test_set_config_refuses_what_is_not_a_json_object(tmp_path: Path, capsys) -> None:
    doc = tmp_path / "bad.json"
    doc.write_text("[1, 2", encoding="utf-8")
    assert main(["set-config", str(doc), "--db", str(tmp_path / "c.db")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_serve_needs_an_admin_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("DESKUNIT_CENTRAL_ADMIN_TOKEN", raising=False)
    assert main(["serve", "--db", str(tmp_path / "c.db")]) == 2
    assert "admin-token" in capsys.readouterr().err


def test_sqlite_url_without_a_path_is_refused() -> None:
    with pytest.raises(ValueError):
        open_store("sqlite://nowhere")


def test_python_m_central_serve_runs_as_a_process(tmp_path: Path) -> None:
    db = tmp_path / "central.db"
    port = _free_port()
    env = {**os.environ, "DESKUNIT_CENTRAL_ADMIN_TOKEN": "adm", "PYTHONPATH": str(REPO)}
    t1 = subprocess.run(
        [sys.executable, "-m", "central", "add-unit", "u1", "--db", str(db)], env=env, check=True,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                assert call(url, "GET", "/api/v1/health").status == 200
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.1)
        record = make_record("u1")
        assert call(url, "POST", "/api/v1/records", t1, record).status == 201
        assert len(call(url, "GET", "/api/v1/records", "adm").body["records"]) == 1
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "POST /api/v1/records 201 unit=u1" in out
    assert record["appeal"] is None and "Петренко" not in out


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_with_a_verified_certificate(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with CentralServer(tmp_path / "c.db", certfile=cert, keyfile=key) as srv:
        srv.add_unit("unit-1", "tok-1")
        assert srv.url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(cert))
        reply = call(srv.url, "POST", "/api/v1/records", "tok-1", make_record("unit-1"), context=trusting)
        assert reply.status == 201
        with pytest.raises(ssl.SSLCertVerificationError):
            call(srv.url, "GET", "/api/v1/health", context=ssl.create_default_context())
        # A failed handshake does not stop the server.
        assert call(srv.url, "GET", "/api/v1/health", context=trusting).status == 200
