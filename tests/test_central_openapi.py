"""`central/openapi.yaml` is a valid OpenAPI 3.1 document and describes what the server really does."""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_every_operation_has_a_handler_and_every_handler_an_operation(spec: dict[str, Any]) -> None:
    api = Api(store=None, admin_token="x")  # type: ignore[arg-type]  (routes come from the spec)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    documented = {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in ids}
    handlers = {
        name for name, value in inspect.getmembers(api, inspect.iscoroutinefunction)
        if not name.startswith("_") and name != "__call__"
    }  # fmt: skip
    assert handlers == documented


def test_a_response_the_spec_does_not_allow_is_a_500_when_checking(tmp_path: Path, monkeypatch) -> None:
    """In-process servers check every answer against the spec, so a drift between them fails tests."""
    from central.api import Response

    async def wrong(self, call):  # noqa: ANN001 - stands in for Api.get_time
        return Response(200, {"now": 5})

    monkeypatch.setattr(Api, "get_time", wrong)
    with CentralServer(tmp_path / "c.db", admin_token=ADMIN) as srv:
        reply = call(srv.url, "GET", "/api/v1/time")
    assert reply.status == 500 and "does not match the spec" in reply.body["message"]


def test_the_spec_covers_forward_due(spec: dict[str, Any]) -> None:
    from jsonschema.exceptions import ValidationError

    _validator(spec, "Appeal").validate(make_appeal(forward_to="Суд", forward_due="2025-03-05T17:00+02:00"))
    with pytest.raises(ValidationError):
        _validator(spec, "Appeal").validate(make_appeal(forward_due=5))


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


@pytest.mark.parametrize(
    ("schema", "key", "enum"),
    [
        ("CallRecord", "greeting", "Greeting"),
        ("CallRecord", "outcome", "Outcome"),
        ("CallRecord", "line_worst", "Verdict"),
        ("Appeal", "kind", "AppealKind"),
        ("Appeal", "send_info_via", "SendVia"),
    ],
)
def test_the_spec_and_the_units_vocabulary_name_the_same_values(spec: dict[str, Any], schema, key, enum) -> None:
    """The wire contract's enums are the unit's (firmware/vocabulary.py): a new member needs both."""
    import firmware.vocabulary as vocabulary

    prop = spec["components"]["schemas"][schema]["properties"][key]
    values = prop.get("enum") or prop["type"]
    assert {v for v in values if v is not None} == {str(m) for m in getattr(vocabulary, enum)}


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8), st.sampled_from(["morning", "answered", "good", "complete", "sms", "", "7"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
_RECORD_KEYS = ["id", "unit", "operator", "started_at", "ended_at", "language", "greeting", "outcome",
                "hold_total_s", "hold_max_s", "line_worst", "events"]  # fmt: skip
_APPEAL_KEYS = ["full_name", "residence", "essence", "kind", "phone", "email", "forward_to", "forward_due",
                "send_info_via", "callback_ring_s"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    record_changes=st.dictionaries(st.sampled_from(_RECORD_KEYS), _VALUES, max_size=3),
    appeal_changes=st.dictionaries(st.sampled_from(_APPEAL_KEYS), _VALUES, max_size=3),
    drop=st.lists(st.sampled_from(_RECORD_KEYS), max_size=2),
)
def test_the_compiled_validator_and_jsonschema_agree(record_changes, appeal_changes, drop) -> None:
    """Bodies are checked by a compiled validator and explained by jsonschema: they must agree."""
    from central import spec as central_spec

    op = next(o for o in central_spec.operations() if o.operation_id == "postRecordBatch")
    record = make_record("unit-1", appeal=make_appeal(**appeal_changes))
    record.update(record_changes)
    for key in drop:
        record.pop(key, None)
    body = {"records": [make_record("unit-1"), record]}
    try:
        op.fast_body(body)
        fast_ok = True
    except Exception:  # noqa: BLE001 - fastjsonschema's own exception type
        fast_ok = False
    slow_ok = next(op.body.iter_errors(body), None) is None
    assert fast_ok == slow_ok
