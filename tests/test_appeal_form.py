"""The appeal form driven by keys alone, as the operator uses it (docs/rules.md, "The appeal form")."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.appeal import FIELDS, KINDS, AppealForm, load_directories
from firmware.appeal.validation import FIELD_LIMITS
from firmware.events import ALL_KEYS

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "appeal_by_keys_offline.toml"
KEY_GAP = 0.15  # docs/scenarios.md: `keys` are pressed 0.15 s apart


class Operator:
    """Presses keys on a form with a clock that moves on, like the scenario runner."""

    def __init__(self, form: AppealForm, now: float = 0.0) -> None:
        self.form = form
        self.now = now
        self.results = []

    def press(self, *keys: str, gap: float = 0.5):
        for key in keys:
            self.results.append(self.form.press(key, self.now))
            self.now += gap
        return self.results[-1]

    def keys(self, sequence: str):
        """Keypad keys 0.15 s apart; ``|`` waits past the multi-tap timeout."""
        for key in sequence:
            if key == "|":
                self.now += 1.2
            else:
                self.press(key, gap=KEY_GAP)
        self.now += 1.2

    def goto(self, field: str):
        while self.form.field != field:
            self.press("DOWN")

    def fill_text(self, field: str, sequence: str):
        self.goto(field)
        self.press("OK")
        self.keys(sequence)
        return self.press("OK")

    def choose(self, field: str, downs: int):
        self.goto(field)
        self.press("OK")
        for _ in range(downs):
            self.press("DOWN")
        return self.press("OK")


@pytest.fixture
def dirs():
    return load_directories()


@pytest.fixture
def op(dirs):
    return Operator(AppealForm("uk", dirs))


def fill_required(op: Operator):
    op.fill_text("full_name", "44|2222|555|6")  # Ігор
    op.fill_text("residence", "44444|4|444|222")  # Київ
    op.fill_text("essence", "66|44444|2|6|2222|2")  # Скарга
    op.choose("kind", 3)  # complaint
    op.fill_text("phone", "0671234567")


def test_opens_at_the_first_field(op):
    assert op.form.field == "full_name"
    assert not op.form.editing
    assert op.form.lines(20, 4)[0].startswith("ПІБ")


def test_the_scenario_key_sequence_registers_an_appeal(dirs):
    """appeal_by_keys_offline.toml's steps between the two APPEAL presses, at their own times."""
    scenario = tomllib.loads(SCENARIO.read_text("utf-8"))
    steps = scenario["step"]
    opened = next(i for i, s in enumerate(steps) if s.get("press") == "APPEAL")
    form = AppealForm("uk", dirs)
    result = None
    for step in steps[opened + 1 :]:
        if "press" in step:
            result = form.press(step["press"], step["at"])
            if step["press"] == "APPEAL":
                break
        elif "keys" in step:
            for i, key in enumerate(step["keys"]):
                form.press(key, step["at"] + i * KEY_GAP)
    assert result is not None and result.action == "saved"
    appeal = result.appeal
    expected = next(s["expect_record"] for s in steps if "expect_record" in s)
    assert appeal["phone"] == expected["phone"] == "+380671234567"
    assert appeal["full_name"] == "Бе"  # 2,2 = Б; 3,3 = е
    assert appeal["residence"] == "Ін"
    assert appeal["essence"] == "Сх"
    assert appeal["kind"] == "proposal"  # OK DOWN OK: one step past the first kind
    assert appeal["email"] is None


def test_full_form_by_keys_alone(op, dirs):
    op.fill_text("full_name", "555|444444|33|55|2|0|5555|33|666|6|33|55|44444|555")
    op.fill_text("residence", "44444|4|444|222")  # Київ
    op.fill_text("essence", "66|44444|2|6|2222|2|1|0|5|33|666|555")  # Скарга. Мето
    op.choose("kind", 3)
    op.fill_text("phone", "0501112233")
    op.goto("email")
    op.press("OK")
    op.keys("666|555|33|66|2|1|88|55|777|11|66|33|8")  # olena@ukr.net
    op.press("OK")
    op.choose("forward_to", 3)
    op.choose("send_info_via", 1)
    op.choose("accessible_office", 2)
    op.choose("needs_more_time", 1)
    result = op.press("APPEAL")
    assert result.action == "saved", result
    appeal = result.appeal
    assert appeal == {
        "full_name": "Олена Петренко",
        "residence": "Київ",
        "essence": "Скарга. Мето",
        "kind": "complaint",
        "phone": "+380501112233",
        "email": "olena@ukr.net",
        "forward_to": dirs["court_bodies"][2]["name"],
        "send_info_via": "sms",
        "accessible_office": dirs["offices"][1]["name"],
        "callback_ring_s": 60,
    }
    json.dumps(appeal)  # goes into the record as JSON


def test_email_typed_on_latin_keys(op):
    op.goto("email")
    op.press("OK")
    # o=666 l=555 e=33 n=66 a=2 @=1 u=88 k=55 r=777 .=11 n=66 e=33 t=8
    op.keys("666|555|33|66|2|1|88|55|777|11|66|33|8")
    result = op.press("OK")
    assert result.action == "confirmed"
    assert op.form.values["email"] == "olena@ukr.net"


def test_missing_required_fields_are_named_in_form_order(op):
    result = op.press("APPEAL")
    assert (result.action, result.field, result.message) == ("missing", "full_name", "Не заповнено: ПІБ")
    op.fill_text("full_name", "44")
    op.fill_text("essence", "44")
    result = op.press("APPEAL")
    assert (result.field, result.message) == ("residence", "Не заповнено: Місце проживання")
    assert op.form.field == "residence"  # the form waits on the field to fill
    assert "Не заповнено: Місце проживання" in " ".join(op.form.lines(20, 4))
    op.fill_text("residence", "44")
    assert op.press("APPEAL").message == "Не заповнено: Вид звернення"
    op.choose("kind", 0)
    result = op.press("APPEAL")
    assert (result.field, result.message) == ("phone", "Не заповнено: телефон або e-mail")


def test_email_alone_is_enough_contact(op):
    op.fill_text("full_name", "44")
    op.fill_text("residence", "44")
    op.fill_text("essence", "44")
    op.choose("kind", 0)
    op.goto("email")
    op.press("OK")
    op.keys("2|1|2|11|222|2")  # a@a.ca
    op.press("OK")
    result = op.press("APPEAL")
    assert result.action == "saved"
    assert result.appeal["phone"] is None and result.appeal["email"] == "a@a.ca"


def test_sending_by_email_needs_an_email(op):
    fill_required(op)
    op.choose("send_info_via", 3)  # none, sms, messenger, email
    result = op.press("APPEAL")
    assert (result.action, result.field) == ("missing", "email")
    assert result.message == "Для «e-mail» потрібно: E-mail"


def test_missing_message_in_russian_and_english(dirs):
    for language, message in (("ru", "Не заполнено: ФИО"), ("en", "Missing: Full name")):
        result = AppealForm(language, dirs).press("APPEAL", 0.0)
        assert result.message == message


def test_appeal_while_editing_confirms_the_field_first(op):
    fill_required(op)
    op.goto("phone")
    op.press("OK")
    op.press("*")  # 067123456: too short
    result = op.press("APPEAL")
    assert result.action == "invalid"
    assert result.message == "Закороткий номер: потрібно 10 цифр, напр. 0671234567"
    assert op.form.editing
    op.press("7")
    result = op.press("APPEAL")
    assert result.action == "saved" and result.appeal["phone"] == "+380671234567"


def test_bad_phone_stays_in_edit_with_the_message(op):
    op.goto("phone")
    op.press("OK")
    op.keys("0171234567")
    result = op.press("OK")
    assert (result.action, result.message) == ("invalid", "Невірний код оператора чи міста: 017")
    assert op.form.editing and op.form.values["phone"] is None
    assert op.form.editor.text == "0171234567"  # nothing lost: fix it in place
    op.press("*", "*", "*", "*", "*", "*", "*", "*", "*")
    op.keys("671234567")
    assert op.press("OK").action == "confirmed"
    assert op.form.values["phone"] == "+380671234567"


def test_bad_email_stays_in_edit(op):
    op.goto("email")
    op.press("OK")
    op.keys("2|2")  # "aa"
    result = op.press("OK")
    assert (result.action, result.message) == ("invalid", "E-mail має містити один знак @")
    assert op.form.editing


def test_phone_field_takes_digits_only(op):
    op.goto("phone")
    op.press("OK")
    op.keys("0#67")
    assert op.form.editor.text == "067"
    assert op.form.lines(20, 4)[0].endswith("123")


def test_phone_is_edited_in_its_international_form_with_00_for_the_plus(op):
    op.fill_text("phone", "0671234567")
    op.press("OK")
    assert op.form.editor.text == "00380671234567"
    op.press("OK")
    assert op.form.values["phone"] == "+380671234567"


def test_back_while_editing_leaves_the_field_unchanged(op):
    op.fill_text("full_name", "44|2222|555|6")
    op.press("OK")
    op.keys("*|*|2")
    assert op.press("BACK").action == "cancelled"
    assert op.form.values["full_name"] == "Ігор"
    assert not op.form.editing
    op.choose("kind", 1)
    op.press("OK", "DOWN", "DOWN", "BACK")
    assert op.form.values["kind"] == "proposal"


def test_back_while_browsing_closes_and_keeps_the_draft(op):
    op.fill_text("full_name", "44")
    op.press("DOWN")
    assert op.press("BACK").action == "closed"
    assert op.form.values["full_name"] == "І"
    op.form.open()
    assert op.form.field == "full_name" and op.form.values["full_name"] == "І"


def test_kind_cycles_both_ways_and_wraps(op):
    op.goto("kind")
    op.press("OK")
    seen = []
    for _ in range(len(KINDS)):
        seen.append(op.form.lines(20, 4)[1])
        op.press("DOWN")
    assert seen == ["зауваження", "пропозиція", "заява", "скарга", "прохання/вимога"]
    assert op.form.lines(20, 4)[1] == "зауваження"  # wrapped round
    op.press("UP")
    assert op.form.lines(20, 4)[1] == "прохання/вимога"
    op.press("OK")
    assert op.form.values["kind"] == "request"


def test_kind_labels_in_the_call_language(dirs):
    form = AppealForm("en", dirs)
    op = Operator(form)
    op.goto("kind")
    op.press("OK", "DOWN", "DOWN", "DOWN")
    assert form.lines(20, 4)[1] == "complaint"
    form.language = "ru"
    assert form.lines(20, 4)[1] == "жалоба"


def test_forward_to_offers_none_then_each_court_body(op, dirs):
    op.goto("forward_to")
    op.press("OK")
    assert op.form.lines(20, 4)[1] == "не передавати"
    op.press("DOWN")
    assert " ".join(op.form.lines(20, 4)[1:3]).startswith("Державна судова")
    op.press("OK")
    assert op.form.values["forward_to"] == "dsa"
    assert op.form.appeal()["forward_to"] == dirs["court_bodies"][0]["name"]


def test_accessible_office_shows_its_facts(op):
    op.goto("accessible_office")
    op.press("OK", "DOWN", "DOWN")  # Київський апеляційний суд: ramp, wide door, no lift
    screen = op.form.lines(20, 3)  # the unit's 20x4 with its status line
    assert screen[0].split()[:2] == ["пандус", "двері"] and "ліфт" not in screen[0]
    assert screen[1].startswith("Київський")
    assert "пандус, широкі двері" in " ".join(op.form.lines(40, 6))
    op.press("DOWN")  # Галицький: only the wide door
    assert op.form.lines(16, 2)[0].split()[0] == "двері"
    op.press("OK")
    assert op.form.appeal()["accessible_office"] == "Галицький районний суд м. Львова"


def test_send_info_via_choices_cycle_from_the_current_value(op):
    values = []
    for _ in range(5):
        op.choose("send_info_via", 1)  # editing starts at the value already chosen
        values.append(op.form.values["send_info_via"])
    assert values == ["sms", "messenger", "email", None, "sms"]
    assert op.form.lines(20, 4)[1] == "SMS"


def test_needs_more_time_sets_the_longer_callback_ring(dirs):
    form = AppealForm("uk", dirs, long_ring_s=75)
    op = Operator(form)
    fill_required(op)
    assert op.press("APPEAL").appeal["callback_ring_s"] is None
    op.choose("needs_more_time", 1)
    assert op.form.lines(20, 4)[1] == "так"
    assert op.press("APPEAL").appeal["callback_ring_s"] == 75
    preset = AppealForm("uk", dirs, needs_more_time=True)
    assert preset.values["needs_more_time"] is True


def test_up_down_move_between_fields_and_wrap(op):
    op.press("UP")
    assert op.form.field == FIELDS[-1]
    op.press("DOWN", "DOWN")
    assert op.form.field == "residence"


def test_keypad_while_browsing_hints_to_press_ok(op):
    result = op.press("5")
    assert result.action == "hint"
    assert op.form.values["full_name"] is None
    assert "OK" in " ".join(op.form.lines(20, 4))


def test_hold_is_left_to_the_unit(op):
    assert not op.press("HOLD").handled
    op.press("OK")
    assert not op.press("HOLD").handled


def test_max_length_refusal_is_said(op):
    op.goto("full_name")
    op.press("OK")
    for _ in range(FIELD_LIMITS["full_name"]):
        op.press("2", gap=1.5)
    result = op.press("2", gap=1.5)
    assert (result.action, result.message) == ("refused", "Не більше 60 символів")
    assert "Не більше 60" in " ".join(op.form.lines(20, 4))
    op.press("OK")
    assert len(op.form.values["full_name"]) == 60


def test_text_is_trimmed_and_an_emptied_field_is_cleared(op):
    op.fill_text("full_name", "0|2|0|0|2|0")  # "  А  а " typed with spaces around
    assert op.form.values["full_name"] == "А А"
    op.press("OK")
    for _ in range(10):
        op.press("*")
    op.press("OK")
    assert op.form.values["full_name"] is None


def test_saved_appeal_matches_the_record_schema(op):
    fill_required(op)
    appeal = op.press("APPEAL").appeal
    from central.spec import check_component, document

    # Every key of the server's Appeal schema, in its order; ``forward_due`` comes only with a
    # ``forward_to`` (docs/record.md), and this appeal is not forwarded.
    schema_keys = list(document()["components"]["schemas"]["Appeal"]["properties"])
    assert appeal["forward_to"] is None
    assert list(appeal) == [k for k in schema_keys if k != "forward_due"]

    check_component("Appeal", appeal)  # the server's schema (central/openapi.yaml)


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(
        st.tuples(st.sampled_from(ALL_KEYS), st.sampled_from([0.05, 0.15, 0.5, 1.5])), min_size=1, max_size=120
    ),
    language=st.sampled_from(["uk", "ru", "en"]),
)
def test_random_key_sequences_never_raise_and_respect_limits(keys, language):
    directories = load_directories()
    form = AppealForm(language, directories)
    now = 0.0
    for key, gap in keys:
        now += gap
        result = form.press(key, now)
        form.tick(now)
        if result.action == "saved":
            assert all(result.appeal[f] for f in ("full_name", "residence", "essence", "kind"))
        for name, limit in FIELD_LIMITS.items():
            value = form.values[name]
            assert value is None or len(value) <= limit
        if form.editor is not None:
            assert len(form.editor.value) <= form.editor.max_len
        for cols, rows in ((20, 4), (16, 2), (20, 3)):
            screen = form.lines(cols, rows)
            assert len(screen) == rows and all(len(row) <= cols for row in screen)
    restored = AppealForm.from_dict(json.loads(json.dumps(form.to_dict())), directories)
    assert restored.to_dict() == form.to_dict()
