"""The appeal form on the panel (R9, R11, R22, R24, R25): a state machine driven by key names.

docs/rules.md, "The appeal form": fields in a fixed order, UP/DOWN between them, OK to
edit and OK to confirm, BACK to leave a field unchanged, multi-tap letters in the call's language,
digits only for the phone, UP/DOWN to cycle a choice, APPEAL to save. The form holds no clock, does
no I/O and draws plain Unicode rows for any ``cols`` x ``rows`` LCD; the unit feeds it keys with
its monotonic time, shows :meth:`AppealForm.lines`, and saves :meth:`AppealForm.to_dict` as a draft.

    >>> form = AppealForm("uk", load_directories())
    >>> [form.press(k, 0.0).action for k in ("OK", "2", "OK")]
    ['editing', 'typed', 'confirmed']
    >>> form.values["full_name"]
    'А'
    >>> result = form.press("APPEAL", 1.0)
    >>> result.action, result.field, result.message
    ('missing', 'residence', 'Не заповнено: Місце проживання')
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from firmware.appeal.multitap import EMAIL_SYMBOLS, KEYPAD, MultiTap
from firmware.appeal.rows import form_rows
from firmware.appeal.text import explain, text
from firmware.appeal.validation import (
    FIELD_LIMITS,
    PHONE_TYPED_MAX,
    InvalidInput,
    check_name,
    normalize_email,
    normalize_phone,
)
from firmware.vocabulary import AppealKind, FormAction, SendVia

#: Field order on the panel. The first nine are the record's appeal keys; ``needs_more_time`` (R22) closes it.
FIELDS = (
    "full_name",
    "residence",
    "essence",
    "kind",
    "phone",
    "email",
    "forward_to",
    "send_info_via",
    "accessible_office",
    "needs_more_time",
)
#: Text fields and how their letters are capitalised (see :class:`firmware.appeal.multitap.MultiTap`).
TEXT_FIELDS = {"full_name": "words", "residence": "words", "essence": "sentence"}
CHOICE_FIELDS = ("kind", "forward_to", "send_info_via", "accessible_office", "needs_more_time")
KINDS: tuple[AppealKind, ...] = tuple(AppealKind)
SEND_INFO_VIA: tuple[SendVia, ...] = tuple(SendVia)
REQUIRED = ("full_name", "residence", "essence", "kind")
#: Which contact field a way of sending information needs (R25).
VIA_NEEDS = {SendVia.SMS: "phone", SendVia.MESSENGER: "phone", SendVia.EMAIL: "email"}
#: R22: how long a callback rings for a caller who needs more time, unless the unit says otherwise.
DEFAULT_LONG_RING_S = 60

FORMAT_VERSION = 1


def load_directories(path: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Court bodies and accessible offices from a TOML file (default: the shipped example)."""
    if path is None:
        data = resources.files("deskunit_config").joinpath("directories.toml").read_text("utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            data = f.read()
    parsed = tomllib.loads(data)
    return {"court_bodies": parsed.get("court_bodies", []), "offices": parsed.get("offices", [])}


@dataclass(frozen=True)
class FormResult:
    """What one key did to the form.

    ``action`` is a :class:`~firmware.vocabulary.FormAction`; ``missing`` names the ``field`` and
    the ``message``, ``invalid`` and ``refused`` the ``message``, ``saved`` carries the record's
    ``appeal``.
    """

    action: FormAction
    appeal: dict[str, Any] | None = None
    field: str | None = None
    message: str | None = None

    @property
    def handled(self) -> bool:
        return self.action != FormAction.IGNORED


class AppealForm:
    """One appeal being registered, browsed and edited field by field; see the module docstring.

    ``directories`` maps ``court_bodies`` and ``offices`` to lists of ``{"id", "name", ...}``; offices
    also carry ``address`` and the ``ramp`` / ``wide_door`` / ``lift`` facts. ``long_ring_s`` becomes
    the appeal's ``callback_ring_s`` when ``needs_more_time`` is answered yes (R22).

        >>> form = AppealForm("en", {"court_bodies": [], "offices": []})
        >>> form.lines(16, 2)
        ['Full name   1/10', '—']
    """

    def __init__(
        self,
        language: str = "uk",
        directories: Mapping[str, Any] | None = None,
        *,
        long_ring_s: float = DEFAULT_LONG_RING_S,
        needs_more_time: bool = False,
        default_country: str = "380",
    ) -> None:
        self.language = language
        self.default_country = default_country  # E.164 code for numbers typed without 00
        directories = directories or {}
        self.court_bodies: list[dict[str, Any]] = list(directories.get("court_bodies", []))
        self.offices: list[dict[str, Any]] = list(directories.get("offices", []))
        self.long_ring_s = long_ring_s
        self.values: dict[str, Any] = {name: None for name in FIELDS}
        self.values["needs_more_time"] = needs_more_time
        self.index = 0
        self.editor: MultiTap | None = None
        self.choice: int | None = None
        self.message: str | None = None
        #: R11: an appeal outside the center's competence must name the court body it goes to.
        self.needs_forward_to = False

    # ------------------------------------------------------------------ state
    @property
    def field(self) -> str:
        return FIELDS[self.index]

    @property
    def editing(self) -> bool:
        return self.editor is not None or self.choice is not None

    def has_typed(self) -> bool:
        """Whether the operator entered anything: a field's value, or letters in the field being typed."""
        if any(v for name, v in self.values.items() if name != "needs_more_time") or self.values["needs_more_time"]:
            return True
        return self.editor is not None and bool(self.editor.value.strip())

    def open(self) -> None:
        """Show the form at its first field (APPEAL opens it there), keeping what was entered."""
        self.cancel_edit()
        self.index = 0
        self.message = None

    def cancel_edit(self) -> None:
        self.editor = None
        self.choice = None

    def options(self, name: str) -> list[Any]:
        """The values a choice field cycles through, in order (``None``: not needed / none)."""
        if name == "kind":
            return list(KINDS)
        if name == "forward_to":
            return [None] + [body["id"] for body in self.court_bodies]
        if name == "send_info_via":
            return [None, *SEND_INFO_VIA]
        if name == "accessible_office":
            return [None] + [office["id"] for office in self.offices]
        if name == "needs_more_time":
            return [False, True]
        raise KeyError(name)

    def _t(self, key: str, **fields: Any) -> str:
        return text(self.language, key, **fields)

    def label(self, name: str) -> str:
        return self._t(f"field.{name}")

    # ------------------------------------------------------------------ keys
    def press(self, key: str, now: float) -> FormResult:
        """One key (panel key name or keypad key) at the unit's monotonic time ``now``."""
        self.message = None
        if key == "APPEAL":
            return self.save(now)
        if self.editor is not None:
            return self._text_key(key, now)
        if self.choice is not None:
            return self._choice_key(key)
        if key in ("UP", "DOWN"):
            self.index = (self.index + (1 if key == "DOWN" else -1)) % len(FIELDS)
            return FormResult(FormAction.MOVED)
        if key == "OK":
            self._start_edit()
            return FormResult(FormAction.EDITING)
        if key == "BACK":
            return FormResult(FormAction.CLOSED)
        if key in KEYPAD:
            self.message = self._t("hint.press_ok")
            return FormResult(FormAction.HINT, message=self.message)
        return FormResult(FormAction.IGNORED)

    def tick(self, now: float) -> bool:
        """Commit a multi-tap letter whose timeout passed; True when the screen should be redrawn."""
        return self.editor.tick(now) if self.editor is not None else False

    def _start_edit(self) -> None:
        name, value = self.field, self.values[self.field]
        if name in CHOICE_FIELDS:
            options = self.options(name)
            self.choice = options.index(value) if value in options else 0
        elif name == "phone":
            # the keypad has no "+": an international number is typed with 00
            self.editor = MultiTap(
                self.language, digits_only=True, max_len=PHONE_TYPED_MAX, text="00" + value[1:] if value else ""
            )
        elif name == "email":
            self.editor = MultiTap(
                "en", max_len=FIELD_LIMITS["email"], capitalize="none", symbols=EMAIL_SYMBOLS, text=value or ""
            )
        else:
            self.editor = MultiTap(
                self.language, max_len=FIELD_LIMITS[name], capitalize=TEXT_FIELDS[name], text=value or ""
            )

    def _text_key(self, key: str, now: float) -> FormResult:
        editor = self.editor
        assert editor is not None
        done = self._ok_or_back(key)
        if done is not None:
            return done
        if key in KEYPAD:
            if editor.press(key, now):
                return FormResult(FormAction.TYPED)
            if editor.full:
                self.message = self._t("full", max=editor.max_len)
                return FormResult(FormAction.REFUSED, field=self.field, message=self.message)
            return FormResult(FormAction.TYPED)  # nothing to delete, "#" in a phone: harmless
        if key in ("UP", "DOWN"):
            return FormResult(FormAction.TYPED)  # no cursor movement in a text field; swallow, do not leave it
        return FormResult(FormAction.IGNORED)

    def _ok_or_back(self, key: str) -> FormResult | None:
        """While editing, OK confirms the field and BACK leaves it unchanged; None for other keys."""
        if key == "OK":
            return self._confirm()
        if key == "BACK":
            self.cancel_edit()
            return FormResult(FormAction.CANCELLED)
        return None

    def _choice_key(self, key: str) -> FormResult:
        assert self.choice is not None
        if key in ("UP", "DOWN"):
            count = len(self.options(self.field))
            self.choice = (self.choice + (1 if key == "DOWN" else -1)) % count
            return FormResult(FormAction.CHANGED)
        done = self._ok_or_back(key)
        if done is not None:
            return done
        if key in KEYPAD:
            return FormResult(FormAction.TYPED)
        return FormResult(FormAction.IGNORED)

    def _confirm(self) -> FormResult:
        name = self.field
        if self.choice is not None:
            self.values[name] = self.options(name)[self.choice]
            self.cancel_edit()
            return FormResult(FormAction.CONFIRMED, field=name)
        assert self.editor is not None
        typed = " ".join(self.editor.commit().split())
        value: str | None = typed or None
        if value is not None and name in ("phone", "email", "full_name", "residence"):
            try:
                if name == "phone":
                    value = normalize_phone(value, self.default_country)
                elif name == "email":
                    value = normalize_email(value)
                else:
                    check_name(self.label(name), value)
            except InvalidInput as problem:
                self.message = explain(problem, self.language)
                return FormResult(FormAction.INVALID, field=name, message=self.message)
        self.values[name] = value
        self.cancel_edit()
        return FormResult(FormAction.CONFIRMED, field=name)

    # ------------------------------------------------------------------ saving
    def missing(self) -> tuple[str, str] | None:
        """The first field that keeps the form from saving and the message naming it, or None."""
        values = self.values
        for name in REQUIRED:
            if not values[name]:
                return name, self._t("missing", field=self.label(name))
        if not values["phone"] and not values["email"]:
            return "phone", self._t("missing", field=self._t("field.contact"))
        if self.needs_forward_to and not values["forward_to"]:
            return "forward_to", self._t("missing", field=self.label("forward_to"))
        via = values["send_info_via"]
        if via in VIA_NEEDS and not values[VIA_NEEDS[via]]:
            need = VIA_NEEDS[via]
            return need, self._t("missing_for", via=self._t(f"via.{via}"), field=self.label(need))
        return None

    def save(self, now: float = 0.0) -> FormResult:
        """APPEAL: confirm the field being edited, then return the appeal or name what is missing."""
        if self.editing:
            confirmed = self._confirm()
            if confirmed.action == FormAction.INVALID:
                return confirmed
        gap = self.missing()
        if gap is not None:
            name, self.message = gap
            self.index = FIELDS.index(name)
            return FormResult(FormAction.MISSING, field=name, message=self.message)
        return FormResult(FormAction.SAVED, appeal=self.appeal())

    def appeal(self) -> dict[str, Any]:
        """The appeal as the call record carries it (docs/record.md)."""
        v = self.values
        body = self.entry(self.court_bodies, v["forward_to"])
        office = self.entry(self.offices, v["accessible_office"])
        return {
            "full_name": v["full_name"],
            "residence": v["residence"],
            "essence": v["essence"],
            "kind": v["kind"],
            "phone": v["phone"],
            "email": v["email"],
            "forward_to": body["name"] if body else v["forward_to"],
            "send_info_via": v["send_info_via"],
            "accessible_office": office["name"] if office else v["accessible_office"],
            "callback_ring_s": self.long_ring_s if v["needs_more_time"] else None,
        }

    @staticmethod
    def entry(entries: list[dict[str, Any]], entry_id: str | None) -> dict[str, Any] | None:
        return next((e for e in entries if e.get("id") == entry_id), None) if entry_id is not None else None

    # ------------------------------------------------------------------ showing
    def lines(self, cols: int, rows: int, show: Callable[[str], str] = str) -> list[str]:
        """Exactly ``rows`` rows of at most ``cols`` characters: label, value, then a hint or message.

        ``show`` turns text into what the glass shows (romanised on A00/A02 ROMs, maybe longer) before
        it is laid out."""
        return form_rows(self, cols, rows, show)

    # ------------------------------------------------------------------ crash safety
    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (directories are not included: pass them to from_dict)."""
        return {
            "version": FORMAT_VERSION,
            "language": self.language,
            "long_ring_s": self.long_ring_s,
            "default_country": self.default_country,
            "values": dict(self.values),
            "index": self.index,
            "editor": self.editor.to_dict() if self.editor is not None else None,
            "choice": self.choice,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], directories: Mapping[str, Any] | None = None) -> AppealForm:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"appeal draft format {data.get('version')!r}, this unit reads {FORMAT_VERSION}")
        form = cls(data["language"], directories, long_ring_s=data["long_ring_s"],
                   default_country=str(data.get("default_country") or "380"))
        form.values.update({k: v for k, v in data["values"].items() if k in form.values})
        form.index = int(data["index"]) % len(FIELDS)
        form.editor = MultiTap.from_dict(data["editor"]) if data["editor"] is not None else None
        form.choice = data["choice"]
        if form.choice is not None and not 0 <= form.choice < len(form.options(form.field)):
            form.choice = 0  # the directory shrank since the draft was saved
        form.message = data["message"]
        return form

