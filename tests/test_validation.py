"""Phone and e-mail checks: the spellings callers dictate, and the message for each kind of mistake."""

from __future__ import annotations

import pytest

from firmware.appeal.text import TEXTS, explain
from firmware.appeal.validation import (
    FIELD_LIMITS,
    InvalidInput,
    check_length,
    check_name,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    "spoken",
    [
        "0671234567",
        "067 123 45 67",
        "067-123-45-67",
        "(067) 123-45-67",
        "380671234567",
        "+380671234567",
        "+380 67 123 45 67",
        "+38 (067) 123 45 67",
        "80671234567",
        "8 067 123 45 67",
        "8(067)1234567",
        "00380671234567",
        " 0671234567 ",
    ],
)
def test_usual_spellings_become_e164(spoken):
    assert normalize_phone(spoken) == "+380671234567"


def test_landline_kyiv():
    assert normalize_phone("044 123 45 67") == "+380441234567"


@pytest.mark.parametrize(
    ("raw", "code", "uk"),
    [
        ("", "phone.empty", "Введіть номер телефону"),
        ("  ", "phone.empty", "Введіть номер телефону"),
        ("067 12a 45 67", "phone.chars", "У номері лише цифри, пробіли, дужки, дефіси і + на початку"),
        ("067+1234567", "phone.chars", "У номері лише цифри, пробіли, дужки, дефіси і + на початку"),
        ("067 123 45", "phone.too_short", "Закороткий номер: потрібно 10 цифр, напр. 0671234567"),
        ("+38067123456", "phone.too_short", "Закороткий номер: потрібно 10 цифр, напр. 0671234567"),
        ("123", "phone.too_short", "Закороткий номер: потрібно 10 цифр, напр. 0671234567"),
        ("067 123 45 678", "phone.too_long", "Задовгий номер: потрібно 10 цифр, напр. 0671234567"),
        ("+3806712345678", "phone.too_long", "Задовгий номер: потрібно 10 цифр, напр. 0671234567"),
        ("671234567", "phone.trunk", "Номер починається з 0, напр. 0671234567"),
        ("4915112345678", "phone.country", "Номер іншої країни: наберіть 00 і код країни"),
        ("+0049151", "phone.intl_code", "Після 00 чи + іде код країни, не 0"),
        ("0048601", "phone.intl_short", "Закороткий номер: з кодом країни щонайменше 8 цифр"),
        ("+4915112345678901", "phone.intl_long", "Задовгий номер: з кодом країни не більше 15 цифр"),
        ("0171234567", "phone.code", "Невірний код оператора чи міста: 017"),
        ("0001234567", "phone.intl_code", "Після 00 чи + іде код країни, не 0"),  # 00: the international prefix
        ("+380271234567", "phone.code", "Невірний код оператора чи міста: 027"),
    ],
)
def test_wrong_numbers_say_why(raw, code, uk):
    with pytest.raises(InvalidInput) as caught:
        normalize_phone(raw)
    assert caught.value.code == code
    assert explain(caught.value, "uk") == uk
    assert str(caught.value) == uk


def test_messages_in_russian_and_english():
    with pytest.raises(InvalidInput) as caught:
        normalize_phone("0171234567")
    assert explain(caught.value, "ru") == "Неверный код оператора или города: 017"
    assert explain(caught.value, "en") == "Wrong operator or area code: 017"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("olena@ukr.net", "olena@ukr.net"),
        ("  Olena.Petrenko@UKR.NET ", "Olena.Petrenko@ukr.net"),
        ("o.petrenko+court@mail.gov.ua", "o.petrenko+court@mail.gov.ua"),
        ("ivan_1990@i.ua", "ivan_1990@i.ua"),
        ("info@суд.укр", "info@суд.укр"),
        ("a@b.xn--j1amh", "a@b.xn--j1amh"),
    ],
)
def test_good_emails(raw, normal):
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    ("raw", "code", "uk"),
    [
        ("", "email.empty", "Введіть e-mail"),
        ("olena petrenko@ukr.net", "email.spaces", "У e-mail не може бути пробілів"),
        ("olena.ukr.net", "email.at", "E-mail має містити один знак @"),
        ("olena@@ukr.net", "email.at", "E-mail має містити один знак @"),
        ("@ukr.net", "email.local", "Перед @ має бути ім'я скриньки (до 64 символів)"),
        ("o" * 65 + "@ukr.net", "email.local", "Перед @ має бути ім'я скриньки (до 64 символів)"),
        (".olena@ukr.net", "email.local_chars", "Недопустимі символи перед @: .olena"),
        ("ol..ena@ukr.net", "email.local_chars", "Недопустимі символи перед @: ol..ena"),
        ("олена@ukr.net", "email.local_chars", "Недопустимі символи перед @: олена"),
        ("olena@ukrnet", "email.domain_dot", "Після @ потрібен домен з крапкою, напр. ukr.net"),
        ("olena@", "email.domain_dot", "Після @ потрібен домен з крапкою, напр. ukr.net"),
        ("olena@ukr..net", "email.domain", "Невірний домен: ukr..net"),
        ("olena@-ukr.net", "email.domain", "Невірний домен: -ukr.net"),
        ("olena@ukr_net.ua", "email.domain", "Невірний домен: ukr_net.ua"),
        ("olena@ukr.n", "email.tld", "Невірна зона домену: n"),
        ("olena@ukr.123", "email.tld", "Невірна зона домену: 123"),
        ("o@" + "d" * 250 + ".ua", "email.too_long", "Задовгий e-mail: не більше 254 символів"),
    ],
)
def test_wrong_emails_say_why(raw, code, uk):
    with pytest.raises(InvalidInput) as caught:
        normalize_email(raw)
    assert caught.value.code == code
    assert explain(caught.value, "uk") == uk


@pytest.mark.parametrize(
    "spoken, e164",
    [
        ("+48 601 234 567", "+48601234567"),
        ("0048 601 234 567", "+48601234567"),
        ("00 49 151 1234 5678", "+4915112345678"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("+" + "4" * 15, "+" + "4" * 15),  # E.164's longest
        ("00380 67 123 45 67", "+380671234567"),  # Ukraine by the international route: checked as Ukrainian
    ],
)
def test_international_numbers_with_plus_or_00_become_e164(spoken, e164):
    assert normalize_phone(spoken) == e164


def test_numbers_without_a_prefix_are_in_the_configured_country():
    assert normalize_phone("0601234567", default_country="48") == "+48601234567"
    assert normalize_phone("0671234567") == "+380671234567"


def test_field_limits_are_data():
    assert FIELD_LIMITS == {"full_name": 60, "residence": 100, "essence": 500, "phone": 16, "email": 254}
    check_length("full_name", "я" * 60)
    with pytest.raises(InvalidInput) as caught:
        check_length("full_name", "я" * 61)
    assert explain(caught.value, "uk") == "Не більше 60 символів"


def test_a_name_of_digits_only_is_refused_with_the_field_named():
    with pytest.raises(InvalidInput) as caught:
        check_name("ПІБ", "1" * 60)
    assert explain(caught.value, "uk") == "У полі «ПІБ» мають бути літери (# - літери/цифри)"
    check_name("ПІБ", "Олена Петренко 2")


def test_every_language_has_every_message():
    keys = set(TEXTS["uk"])
    for language, words in TEXTS.items():
        assert set(words) == keys, language
