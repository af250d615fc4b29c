"""Pseudonyms: keyed, stable across spellings of one national number (and only of national numbers: any
other identifier is hashed as given), looked up under every key of a ring."""

from __future__ import annotations

import pytest

from agora.errors import InvalidInput
from agora.pseudonyms import KeyRing, key_ring, normalise_identifier

OLD, NEW = "a1" * 32, "b2" * 32


def test_one_person_has_one_pseudonym_whatever_the_spelling_of_their_national_number() -> None:
    ring = KeyRing.parse(f"k1:{OLD}")
    assert ring.pseudonym("1 85 05 75 123 456 78") == ring.pseudonym("1850575123456-78")
    assert ring.pseudonym("1.85.05.75.123.456.78") == ring.pseudonym(" 185057512345678 ")
    # Born in Corsica: department 2A or 2B in positions 6-7, in either case.
    assert ring.pseudonym("2 84 12 2a 108 042 36") == ring.pseudonym("284122A10804236")
    assert ring.pseudonym("185057512345678") != ring.pseudonym("185057512345679")


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("1 85 05 75 123 456 78", "185057512345678"),  # the demo NIRs: as before
        ("1850575123456-78", "185057512345678"),
        ("2 84 12 2b 108 042 36", "284122B10804236"),
        ("1 79 03 13 055 117 21", "179031305511721"),
        ("agora-rs", "agora-rs"),  # an OIDC `sub`: case and punctuation are part of it
        ("AbC.dEf-12", "AbC.dEf-12"),
        ("Alice.Martin@Example.org", "Alice.Martin@Example.org"),
        ("  f0e1-d2c3  ", "f0e1-d2c3"),  # only surrounding whitespace goes
        ("123 2A 45", "123 2A 45"),  # 2A elsewhere than in positions 6-7: not a national number
        ("   ", ""),
        (" - . ", ""),  # nothing but separators names nobody
    ],
)
def test_only_national_numbers_are_normalised(value: str, normalised: str) -> None:
    assert normalise_identifier(value) == normalised


def test_identifiers_that_differ_only_in_case_or_punctuation_are_different_people() -> None:
    ring = KeyRing.parse(f"k1:{OLD}")
    assert ring.pseudonym("ab-12") != ring.pseudonym("AB12")
    assert ring.pseudonym("Alice@example.org") != ring.pseudonym("alice@example.org")
    assert ring.pseudonym("aB3dE") != ring.pseudonym("Ab3De")  # case-sensitive `sub` values
    assert ring.pseudonym("a.b-c") != ring.pseudonym("abc")
    assert ring.pseudonym(" agora-rs ") == ring.pseudonym("agora-rs")


def test_the_identifier_is_not_in_the_pseudonym_and_the_key_matters() -> None:
    key_id, digest = KeyRing.parse(f"k1:{OLD}").pseudonym("185057512345678")
    assert key_id == "k1" and len(digest) == 64 and "185057512345678" not in digest
    assert KeyRing.parse(f"k1:{NEW}").pseudonym("185057512345678")[1] != digest


def test_a_rotated_ring_records_under_the_new_key_and_still_finds_the_old_rows() -> None:
    before = KeyRing.parse(f"k1:{OLD}")
    after = KeyRing.parse(f"k2:{NEW},k1:{OLD}")
    assert after.pseudonym("185057512345678")[0] == "k2"
    assert before.pseudonym("185057512345678") in after.all_pseudonyms("185057512345678")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "names no key"),
        ("k1", "id:hex"),
        ("k1:zz", "not hexadecimal"),
        ("k1:abcd", "shorter than 32 bytes"),
        (f"k1:{OLD},k1:{NEW}", "listed twice"),
        (f"bad id:{OLD}", "id:hex"),
    ],
)
def test_a_bad_key_ring_is_refused_with_a_clear_error(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        KeyRing.parse(value)


def test_without_configured_keys_one_key_is_derived_from_the_platform_secret() -> None:
    ring = key_ring({"AGORA_PSEUDONYM_KEYS": f"k9:{OLD}"})
    assert ring.current_id == "k9"
    derived = KeyRing.derived(bytes(32))
    assert derived.current_id == "k0" and derived.keys[0][1] != bytes(32)
