"""`central/openapi.yaml` as the one source of truth: routes, who may call them, parameters, bodies.

The server is built from this document: each operation's path, method and ``operationId`` make a
route, its ``security`` says which token it takes, its parameters and request body are validated
against their schemas before a handler runs, and (when asked) each response against the schema of
its status. Handlers only check what JSON Schema cannot say (see `central.records`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS31Validator

from central.jsonbody import join_path
from firmware.exc import DeskunitError

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
PREFIX = "/api/v1"

# Timestamps are checked by `central.records` (units send minutes-only offsets RFC 3339 refuses);
# the only format left to JSON Schema is the UUID.
_FORMATS = FormatChecker(formats=("uuid",))
_FAST_FORMATS = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "date-time": lambda _value: True,
    "date": lambda _value: True,
}


class Access(enum.Enum):
    """Which token an operation takes (its ``security`` in the spec)."""

    PUBLIC = "public"
    UNIT = "unitToken"
    MANAGEMENT = "managementToken"


class SpecError(DeskunitError, ValueError):
    """A value that does not match its schema; ``field`` is the path the error message names."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Parameter:
    """A query or path parameter and the validator of its schema."""

    name: str
    where: str
    required: bool
    schema: dict[str, Any]
    validator: OAS31Validator


@dataclass
class Operation:
    """One path + method of the spec."""

    operation_id: str
    method: str
    path: str
    access: Access
    parameters: list[Parameter] = field(default_factory=list)
    body: OAS31Validator | None = None
    responses: dict[int, OAS31Validator | None] = field(default_factory=dict)
    fast_body: Callable[[Any], Any] | None = None

    def query(self, raw: dict[str, str], path_params: dict[str, str]) -> dict[str, Any]:
        """The operation's parameters, converted to their schema's type and validated."""
        values: dict[str, Any] = {}
        for param in self.parameters:
            source = path_params if param.where == "path" else raw if param.where == "query" else None
            if source is None or param.name not in source:
                if param.required and source is not None:
                    raise SpecError(param.name, "required")
                if source is not None and "default" in param.schema:
                    values[param.name] = param.schema["default"]
                continue
            value: Any = source[param.name]
            if param.schema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    raise SpecError(param.name, f"{param.name} must be an integer") from None
            check(param.validator, value, param.name)
            values[param.name] = value
        return values

    def check_body(self, doc: Any) -> None:
        """Validate a request body: with the compiled validator (a 1000-record batch is checked in
        milliseconds), and only when it fails, again with jsonschema to name the best error."""
        if self.body is None:
            return
        if self.fast_body is not None:
            try:
                self.fast_body(doc)
                return
            except fastjsonschema.JsonSchemaValueException as err:
                check(self.body, doc, "")
                path = [int(p) if p.isdigit() else p for p in err.path[1:]]
                raise SpecError(join_path(path), "does not match the schema") from None
        check(self.body, doc, "")

    def check_response(self, status: int, doc: Any) -> None:
        if status not in self.responses:
            if status < 400:
                raise SpecError("response", f"status {status} is not documented for {self.operation_id}")
            validator: OAS31Validator | None = _error_validator()
        else:
            validator = self.responses[status]
        if validator is not None and doc is not None:
            check(validator, doc, "response")


def _message(error: ValidationError) -> str:
    """A short reason, naming the rule rather than echoing the value (which may be personal data)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "enum":
        return "must be one of " + ", ".join("null" if v is None else str(v) for v in schema["enum"])
    if kind == "type":
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return "must be " + " or ".join(str(t) for t in wanted)
    if kind == "required":
        return "required"
    if kind == "minLength":
        return "must not be empty" if schema["minLength"] == 1 else f"must be at least {schema['minLength']} long"
    if kind == "maxLength":
        return f"must be at most {schema['maxLength']} characters"
    if kind in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"must be between {low} and {high}"
        return f"must be at least {low}" if low is not None else f"must be at most {high}"
    if kind in ("minItems", "maxItems"):
        return f"must hold {schema.get('minItems', 0)} to {schema.get('maxItems', 'any number of')} items"
    if kind == "format":
        return f"not a valid {schema['format']}"
    if kind == "additionalProperties":
        return "has keys this schema does not allow"
    return f"does not match the schema ({kind})"


def _explain(error: ValidationError, prefix: str) -> SpecError:
    # An alternative that carries its own explanation (``x-error``) speaks for all its branches.
    chain: list[ValidationError] = []
    node: ValidationError | None = error
    while node is not None:
        chain.append(node)
        node = node.parent
    for node in reversed(chain):
        custom = node.schema.get("x-error") if isinstance(node.schema, dict) else None
        if custom and node.validator in ("anyOf", "oneOf"):
            path = [*node.absolute_path, custom["field"]]
            return SpecError(_prefixed(prefix, path), custom["message"])
    path = list(error.absolute_path)
    if error.validator == "required" and not path:
        # A missing top-level key is named by itself, deeper ones by the object that lacks them.
        missing = error.message.split("'")[1] if "'" in error.message else "body"
        path = [missing]
    return SpecError(_prefixed(prefix, path), _message(error))


def _prefixed(prefix: str, path: list[Any]) -> str:
    text = join_path(path) if path else ""
    if prefix and text:
        return f"{prefix}.{text}"
    return text or prefix or "body"


def check(validator: OAS31Validator, value: Any, prefix: str) -> None:
    """Raise `SpecError` for the most relevant violation of ``validator``'s schema, if any."""
    error = best_match(validator.iter_errors(value))
    if error is not None:
        raise _explain(error, prefix)


@cache
def document() -> dict[str, Any]:
    """The parsed spec (cached: the file ships with the package and does not change at run time)."""
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validator_for(schema: dict[str, Any]) -> OAS31Validator:
    """A validator for ``schema`` that resolves ``#/components/...`` references within the spec."""
    spec = document()
    return OAS31Validator({**schema, "components": spec["components"]}, format_checker=_FORMATS)


def compiled_for(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """The same schema compiled to Python by fastjsonschema (it reads it as draft 7; the spec uses
    nothing whose meaning differs between draft 7 and OpenAPI 3.1's 2020-12 here)."""
    spec = document()
    doc = {**schema, "components": spec["components"], "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(doc, formats=_FAST_FORMATS)


def _json_schema(spec: dict[str, Any], holder: dict[str, Any] | None) -> dict[str, Any] | None:
    if holder is None:
        return None
    holder = _resolve(spec, holder)
    content = holder.get("content", {}).get("application/json")
    return content.get("schema") if content else None


def _access(spec: dict[str, Any], op: dict[str, Any]) -> Access:
    security = op.get("security", spec.get("security", []))
    if not security:
        return Access.PUBLIC
    return Access(next(iter(security[0])))


def check_component(name: str, value: Any) -> None:
    """Validate ``value`` against ``#/components/schemas/<name>`` (e.g. ``Appeal``); raises `SpecError`."""
    check(validator_for({"$ref": f"#/components/schemas/{name}"}), value, "")


@cache
def _error_validator() -> OAS31Validator:
    return validator_for({"$ref": "#/components/schemas/Error"})


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the spec, in document order."""
    spec = document()
    found = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            params = []
            for raw in op.get("parameters", []):
                raw = _resolve(spec, raw)
                if raw["in"] not in ("query", "path"):
                    continue
                params.append(
                    Parameter(raw["name"], raw["in"], raw.get("required", False), raw["schema"],
                              validator_for(raw["schema"]))
                )  # fmt: skip
            body_schema = _json_schema(spec, op.get("requestBody"))
            responses: dict[int, OAS31Validator | None] = {}
            for status, response in op.get("responses", {}).items():
                schema = _json_schema(spec, response)
                responses[int(status)] = validator_for(schema) if schema else None
            found.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    access=_access(spec, op),
                    parameters=params,
                    body=validator_for(body_schema) if body_schema else None,
                    responses=responses,
                    fast_body=compiled_for(body_schema) if body_schema else None,
                )
            )
    return tuple(found)
