"""SyncClient: TLS verification with a CA made in the test, plain HTTP only to loopback, failure
classes, and the pushed-config validator."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.server import CentralServer
from central.testing import make_record
from firmware.config import ConfigError
from firmware.sync import InsecureURL, SyncClient, SyncError, validate_pushed_config

UNIT, TOKEN = "unit-tls", "token-tls"


def _ca(name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca = _ca("deskunit test CA")
    _, other_ca = _ca("some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(_pem(ca))
    (d / "other.pem").write_bytes(_pem(other_ca))
    (d / "server.pem").write_bytes(_pem(cert))
    (d / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    server = CentralServer(certfile=d / "server.pem", keyfile=d / "server.key").start()
    server.add_unit(UNIT, TOKEN)
    yield d, server
    server.stop()


def test_https_with_the_right_ca_verifies_and_delivers(tls):
    d, server = tls
    assert server.url.startswith("https://")
    client = SyncClient(server.url + "/api/v1", TOKEN, ca_file=str(d / "ca.pem"))
    rec = make_record(UNIT)
    assert client.post_batch([rec]).delivered == [rec["id"]]
    assert client.post_batch([rec]).delivered == [rec["id"]]  # duplicate counts as delivered
    assert client.get_time().epoch > 0
    client.close()


def test_https_with_a_wrong_ca_is_refused(tls):
    d, server = tls
    for ca_file in (str(d / "other.pem"), None):  # another CA; the system CAs
        client = SyncClient(server.url + "/api/v1", TOKEN, ca_file=ca_file)
        with pytest.raises(SyncError) as err:
            client.post_batch([make_record(UNIT)])
        assert err.value.kind == "auth" and "certificate" in str(err.value)


def test_plain_http_only_to_loopback():
    for url in ("http://127.0.0.1:8080/api/v1", "http://localhost:1", "http://[::1]:80", "http://127.5.6.7"):
        SyncClient(url, "t")
    for url in ("http://central.example.org/api/v1", "http://10.0.0.5:8080", "http://192.168.1.1"):
        with pytest.raises(InsecureURL, match="https"):
            SyncClient(url, "t")
    with pytest.raises(ValueError):
        SyncClient("ftp://x", "t")


def test_base_path_defaults_to_api_v1():
    assert SyncClient("https://central.example.org", "t").base_path == "/api/v1"
    assert SyncClient("https://central.example.org/api/v1/", "t").base_path == "/api/v1"


def test_failure_classes():
    assert SyncClient._fail(503, b"").kind == "retry"
    assert SyncClient._fail(401, b'{"error":"unauthorized","message":"x"}').kind == "auth"
    assert SyncClient._fail(403, b'{"error":"forbidden","message":"x"}').kind == "auth"
    e = SyncClient._fail(400, b'{"error":"invalid","message":"x","field":"records[3].appeal.kind"}')
    assert (e.kind, e.index, e.field) == ("invalid", 3, "appeal.kind")
    e = SyncClient._fail(403, b'{"error":"forbidden","message":"x","field":"records[0].unit"}')
    assert (e.kind, e.index) == ("invalid", 0)
    assert SyncClient._fail(404, b"not json").kind == "client"


def test_connection_refused_is_retry():
    with CentralServer() as server:
        url = server.url
    client = SyncClient(url, "t", timeout_s=1)
    with pytest.raises(SyncError) as err:
        client.get_time()
    assert err.value.kind == "retry"


@pytest.mark.parametrize("doc,key", [
    ([], "pushed config"),
    ({"pins": {}}, "pins"),
    ({"operators": [{"number": 7}]}, "operators[0].name"),
    ({"operators": [{"number": 7, "name": "A"}, {"number": 7, "name": "B"}]}, "operators[1].number"),
    ({"phrases": {"de": {}}}, "phrases.de"),
    ({"phrases": {"uk": {"ui": {"idle": ""}}}}, "phrases.uk.ui.idle"),
    ({"phrases": {"uk": {"phrase": [{"id": "x", "title": "t"}]}}}, "phrases.uk.phrase[0].text"),
    ({"phrases": {"uk": {"phrase": [{"id": "x", "title": "t", "text": "y", "outcome": "done"}]}}},
     "phrases.uk.phrase[0].outcome"),
    ({"phrases": {"uk": {"phrase": [{"id": "x", "title": "t", "text": "y", "ends_call": "yes"}]}}},
     "phrases.uk.phrase[0].ends_call"),
    ({"directories": {"courts": []}}, "directories.courts"),
    ({"directories": {"offices": [{"id": "a", "name": "A", "address": "X", "ramp": "yes"}]}},
     "directories.offices[0].ramp"),
    # the appeal form keeps a court body by its id: one without an id is refused, as in the config file
    ({"directories": {"court_bodies": [{"name": "ДСА"}]}}, "directories.court_bodies[0].id"),
    ({"directories": {"court_bodies": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}},
     "directories.court_bodies[1].id"),
])
def test_bad_pushed_config_names_the_key(doc, key):
    with pytest.raises(ConfigError) as err:
        validate_pushed_config(doc)
    assert err.value.key == key


def test_good_pushed_config():
    doc = {"operators": [{"number": 7, "name": "Олена Петренко", "pin_hash": ""}],
           "phrases": {"en": {"greeting": {"morning": "Good morning"}, "phrase": [{"id": "a", "title": "T",
                                                                                  "text": "X"}]}},
           "directories": {"offices": [{"id": "o", "name": "N", "address": "A", "ramp": True, "wide_door": False,
                                        "lift": True}],
                           "court_bodies": [{"id": "dsa", "name": "ДСА"}]}}
    assert validate_pushed_config(doc) == doc
