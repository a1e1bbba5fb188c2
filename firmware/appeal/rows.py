"""The appeal form drawn for the LCD: a label row with the field's position or typing mode, the value
(the end of it while typing, so the cursor stays in sight), and a hint or the form's message.

The form holds one value per field, so ``len(form.values)`` is the number of fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from firmware.appeal.multitap import MultiTap
from firmware.appeal.text import text


class AppealForm(Protocol):
    """What drawing reads of :class:`firmware.appeal.form.AppealForm` (which draws itself with it)."""

    language: str
    values: dict[str, Any]
    index: int
    editor: MultiTap | None
    choice: int | None
    message: str | None
    court_bodies: list[dict[str, Any]]
    offices: list[dict[str, Any]]

    @property
    def field(self) -> str: ...

    def label(self, name: str) -> str: ...

    def options(self, name: str) -> list[Any]: ...

    def entry(self, entries: list[dict[str, Any]], entry_id: str | None) -> Mapping[str, Any] | None: ...

OFFICE_FACTS = ("ramp", "wide_door", "lift")


def _t(form: AppealForm, key: str, **fields: Any) -> str:
    return text(form.language, key, **fields)


def describe(form: AppealForm, name: str, value: Any) -> str:
    """A field's value in words, as the screen shows it."""
    if name == "kind":
        return _t(form, f"kind.{value}") if value else _t(form, "empty")
    if name == "send_info_via":
        return _t(form, f"via.{value or 'none'}")
    if name == "needs_more_time":
        return _t(form, "yes" if value else "no")
    if name == "forward_to":
        if value is None:
            return _t(form, "forward.none")
        body = form.entry(form.court_bodies, value)
        return body["name"] if body else str(value)
    if name == "accessible_office":
        if value is None:
            return _t(form, "office.none")
        office = form.entry(form.offices, value)
        if office is None:
            return str(value)
        facts = [_t(form, f"office.{fact}") for fact in OFFICE_FACTS if office.get(fact)]
        parts = [office["name"], ", ".join(facts) or _t(form, "office.no_facts"), office.get("address", "")]
        return "; ".join(p for p in parts if p)
    return value if value else _t(form, "empty")

def office_facts(form: AppealForm, office_id: str) -> str:
    """An office's access facts in short words (``пандус двері ліфт``), for the label row."""
    office = form.entry(form.offices, office_id) or {}
    facts = [_t(form, f"office.short.{fact}") for fact in OFFICE_FACTS if office.get(fact)]
    return " ".join(facts) or _t(form, "office.no_facts")

def form_rows(form: AppealForm, cols: int, rows: int, show: Callable[[str], str] = str) -> list[str]:
    """Exactly ``rows`` rows of at most ``cols`` characters: label, value, then a hint or message.

    ``show`` turns text into what the glass shows (romanised on A00/A02 ROMs, maybe longer) before it
    is laid out."""
    name = form.field
    label = form.label(name)
    if form.editor is not None:
        tag, hint = form.editor.mode_tag, _t(form, "hint.text")
        value = _chunks(show(form.editor.display()), cols)
        tail = True  # keep the cursor in sight
    elif form.choice is not None:
        options = form.options(name)
        tag, hint = f"{form.choice + 1}/{len(options)}", _t(form, "hint.choice")
        value, tail = _wrap(show(describe(form, name, options[form.choice])), cols), False
        if name == "accessible_office" and options[form.choice] is not None:
            label = office_facts(form, options[form.choice])  # R24: what the caller asks about first
    else:
        tag, hint = f"{form.index + 1}/{len(form.values)}", _t(form, "hint.browse")
        value, tail = _wrap(show(describe(form, name, form.values[name])), cols), False
    label, hint = show(label), show(hint)
    # the field's position is dropped before its name is cut; the typing mode is always shown
    head = _label_row(label, tag, cols, keep_tag=form.editor is not None)
    if rows <= 2:
        if form.message:
            out = _wrap(show(form.message), cols)[:rows]
        else:
            out = [head, *_pick(value, rows - 1, tail)] if rows == 2 else _pick(value, 1, tail)
    else:
        bottom = _wrap(show(form.message), cols)[: rows - 2] if form.message else [hint]
        room = rows - 1 - len(bottom)
        shown = _pick(value, room, tail)
        out = [head, *shown, *[""] * (room - len(shown)), *bottom]
    out = [row[:cols] for row in out]
    return (out + [""] * rows)[:rows]


def _wrap(text_: str, cols: int) -> list[str]:
    """Word-wrap for reading; words longer than a row are cut into row-sized pieces."""
    rows: list[str] = []
    for word in text_.split():
        while len(word) > cols:
            if rows and len(rows[-1]) < cols - 1:
                room = cols - len(rows[-1]) - 1
                rows[-1] += " " + word[:room]
                word = word[room:]
            else:
                rows.append(word[:cols])
                word = word[cols:]
        if not word:
            continue
        if rows and len(rows[-1]) + 1 + len(word) <= cols:
            rows[-1] += " " + word
        else:
            rows.append(word)
    return rows or [""]


def _chunks(text_: str, cols: int) -> list[str]:
    """Hard wrap for typing: the text fills every cell, so each key moves the cursor by one."""
    return [text_[i : i + cols] for i in range(0, len(text_), cols)] or [""]


def _pick(rows: list[str], count: int, tail: bool) -> list[str]:
    if count <= 0:
        return []
    return rows[-count:] if tail else rows[:count]


def _label_row(label: str, tag: str, cols: int, keep_tag: bool) -> str:
    room = cols - len(tag) - 1
    if room < 1 or (len(label) > room and not keep_tag):
        return label[:cols]
    return f"{label[:room]:<{room}} {tag}"
