"""The phrase banks: the seed's words verbatim, the same keys in every language, all of it displayable.

The word-for-word comparison reads the seed document from ../shared/seeds, so it runs only where
that folder is beside the repository (and says so when skipped); the rest needs nothing outside.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest
from conftest import SEEDS, shared_missing

from firmware.lcd import encode_screen
from firmware.phrases import LANGUAGES, Phrase, load_phrases

SEED_PATH = SEEDS / "000_dad2088bd8467ff8.txt"


def seed_quotes() -> list:
    if not SEED_PATH.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=shared_missing(SEED_PATH)), id="seed-missing")]
    return re.findall(r"«([^»]+)»", SEED_PATH.read_text(encoding="utf-8"))


def strings(data, prefix=""):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from strings(v, f"{prefix}{k}.")
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from strings(v, f"{prefix}{i}.")
    elif isinstance(data, str):
        yield prefix.rstrip("."), data


def bank(lang):
    return tomllib.loads(resources.files("deskunit_config").joinpath("phrases", f"{lang}.toml").read_text("utf-8"))


def test_every_language_has_the_same_keys_and_phrases():
    keys = {lang: {k for k, _ in strings(bank(lang)) if not k.startswith(("language", "label"))} for lang in LANGUAGES}
    assert keys["uk"] == keys["ru"] == keys["en"]
    ids = {lang: [p.id for p in load_phrases(lang).phrases] for lang in LANGUAGES}
    assert ids["uk"] == ids["ru"] == ids["en"]


@pytest.mark.parametrize("quote", seed_quotes())
def test_each_quoted_phrase_of_the_seed_is_in_the_ukrainian_bank_word_for_word(quote):
    quote = quote.replace("(назвати номер) та назвати своє повне ім’я", "{number} {name}")  # filled in live
    texts = [t for _, t in strings(bank("uk"))]
    assert any(quote in t for t in texts)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("rom", ["cyrillic", "A00", "A02"])
def test_every_phrase_shows_on_every_rom_without_a_blank_or_a_question_mark(lang, rom):
    for key, text in strings(bank(lang)):
        frame = encode_screen([text.format(number=7, name="Ім'я", what="x", due="17:00")[:40]], rom, cols=40)
        assert frame.unmapped == 0, (key, text, frame.text())


def test_what_showing_a_phrase_does_is_the_same_in_every_language():
    does = {lang: [(p.id, p.outcome, p.event, p.appendix, p.ends_call) for p in load_phrases(lang).phrases]
            for lang in LANGUAGES}
    assert does["uk"] == does["ru"] == does["en"]
    by_id = {p[0]: p[1:] for p in does["uk"]}
    assert by_id["outside_competence"][0] == "outside_competence" and by_id["abuse"][3] is True
    assert by_id["office"][2] == "offices" and by_id["apology"][1] == "apology_shown"


def test_a_phrase_with_an_unknown_outcome_is_refused_naming_the_phrase_and_the_value():
    with pytest.raises(ValueError, match=r"'abuse'.*outcome.*'finished'"):
        Phrase.from_dict({"id": "abuse", "title": "T", "text": "x", "outcome": "finished"})
