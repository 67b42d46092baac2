"""The platform's one identity rule (shared/identity.py): addresses, keys, pseudonyms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shared.identity import (
    EmailAddress,
    InvalidAddress,
    check_address,
    display_name,
    email_key,
    person_key,
)


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("camille.martin", "il manque le signe @"),
        ("@cc-exemple.fr", "avant le signe @"),
        ("camille@", "après le signe @"),
        ("camille@localhost", "nom de domaine"),
        ("camille..martin@cc-exemple.fr", "deux points à la suite"),
        ("camille martin@cc-exemple.fr", "caractères non autorisés"),
        ("camille@cc-exemple.local", "réservé"),
    ],
)
def test_an_invalid_address_is_explained_in_french(address, fragment):
    refusal = check_address(address)
    assert isinstance(refusal, InvalidAddress)
    assert refusal.detail.startswith(f"L'adresse électronique « {address} » n'est pas valide")
    assert fragment in refusal.detail


def test_addresses_are_compared_whole_and_case_insensitively_but_kept_as_given():
    first = check_address("Camille.Martin@CC-Exemple.fr")
    second = check_address("  camille.martin@cc-exemple.FR ")
    assert isinstance(first, EmailAddress)
    assert isinstance(second, EmailAddress)
    assert first.key == second.key
    assert first.given == "Camille.Martin@CC-Exemple.fr"


def test_addresses_differing_only_by_a_dot_or_a_plus_are_different_people():
    addresses = [
        "camille.martin@cc-exemple.fr",
        "camillemartin@cc-exemple.fr",
        "camille.martin+pat@cc-exemple.fr",
    ]
    keys = {
        address.key
        for address in map(check_address, addresses)
        if isinstance(address, EmailAddress)
    }
    assert len(keys) == 3


local_parts = st.from_regex(r"[a-z][a-z0-9._-]{0,20}[a-z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)


@hypothesis_settings(deadline=None)  # the first call loads IDNA tables; CPU is shared
@given(local=local_parts, flips=st.lists(st.booleans(), min_size=40, max_size=40))
def test_any_casing_of_an_address_has_the_same_key_and_tag(local, flips):
    address = f"{local}@cc-exemple.fr"
    shouted = "".join(c.upper() if flip else c for c, flip in zip(address, flips, strict=False))
    shouted += address[len(shouted) :]
    original, variant = check_address(address), check_address(shouted)
    assert isinstance(original, EmailAddress)
    assert isinstance(variant, EmailAddress)
    assert original.key == variant.key
    assert person_key(address) == person_key(shouted) == original.person
    assert original.key not in original.person  # a hash: "@" never appears in hex


@hypothesis_settings(deadline=None)  # the first call loads IDNA tables; CPU is shared
@given(text=st.text(max_size=300))
def test_any_text_is_either_an_address_or_a_french_refusal(text):
    outcome = check_address(text)
    if isinstance(outcome, InvalidAddress):
        assert outcome.detail.startswith("L'adresse électronique")
        assert len(outcome.detail) <= 500
    else:
        assert "@" in outcome.key
    assert person_key(text).startswith("p-")


def test_special_use_domains_are_refused_but_test_which_the_stack_uses():
    assert isinstance(check_address("camille@cc-exemple.local"), InvalidAddress)
    assert isinstance(check_address("camille@exemple.invalid"), InvalidAddress)
    assert isinstance(check_address("coordination@caprural.test"), EmailAddress)


def test_the_key_is_the_same_for_any_unicode_form_and_casing():
    composed, decomposed = "andr\u00e9@cc-exemple.fr", "andre\u0301@cc-exemple.fr"
    assert email_key(composed) == email_key(decomposed.upper()) == email_key(f"  {composed} ")
    assert person_key(composed) == person_key(decomposed)


def test_a_display_name_is_what_is_known_of_it_bounded():
    assert display_name("Camille", "Martin") == "Camille Martin"
    assert display_name("Camille", None) == "Camille"
    assert len(display_name("C" * 80, "M" * 80)) == 100
