"""`central/openapi.yaml` is a valid OpenAPI 3.1 document and describes what the server really does."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

if importlib.util.find_spec("central") is None:  # until pyproject lists the `central` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central import CentralServer  # noqa: E402
from central.api import Api  # noqa: E402
from central.testing import call, make_appeal, make_record  # noqa: E402

SPEC_PATH = Path(__file__).resolve().parents[1] / "central" / "openapi.yaml"
ADMIN = "admin-secret-token"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def test_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_is_documented_and_nothing_else(spec: dict[str, Any]) -> None:
    api = Api(store=None, admin_token="x")  # type: ignore[arg-type]
    served = set()
    for method, pattern, _handler in api._routes:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.pattern)
        served.add((method.lower(), path))
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert served == documented


def _validator(spec: dict[str, Any], name: str):
    from openapi_schema_validator import OAS31Validator

    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return OAS31Validator(schema)


def test_real_responses_match_their_schemas(spec: dict[str, Any], tmp_path: Path) -> None:
    with CentralServer(tmp_path / "c.db", admin_token=ADMIN) as srv:
        srv.add_unit("unit-1", "tok-1")
        record = make_record("unit-1", appeal=make_appeal(forward_to="Господарський суд"), outcome="forwarded")
        _validator(spec, "CallRecord").validate(record)
        saved = call(srv.url, "POST", "/api/v1/records", "tok-1", record).body
        _validator(spec, "SaveResult").validate(saved)
        batch = call(srv.url, "POST", "/api/v1/records/batch", "tok-1", {"records": [record]}).body
        _validator(spec, "BatchResult").validate(batch)
        for item in call(srv.url, "GET", "/api/v1/notifications", ADMIN).body["notifications"]:
            _validator(spec, "Notification").validate(item)
        for item in call(srv.url, "GET", "/api/v1/forwards", ADMIN).body["forwards"]:
            _validator(spec, "Forward").validate(item)
        sent = call(srv.url, "POST", f"/api/v1/forwards/{record['id']}/sent", ADMIN).body
        _validator(spec, "Forward").validate(sent)
        for item in call(srv.url, "GET", "/api/v1/records", ADMIN).body["records"]:
            _validator(spec, "StoredRecord").validate(item)
        _validator(spec, "Time").validate(call(srv.url, "GET", "/api/v1/time").body)
        _validator(spec, "Health").validate(call(srv.url, "GET", "/api/v1/health").body)
        _validator(spec, "Error").validate(call(srv.url, "GET", "/api/v1/records", "bad").body)


def test_schema_rejects_an_appeal_without_phone_or_email(spec: dict[str, Any]) -> None:
    from jsonschema.exceptions import ValidationError

    with pytest.raises(ValidationError):
        _validator(spec, "Appeal").validate(make_appeal(phone=None, email=None))
