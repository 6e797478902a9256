"""Spanish addresses resolve to the same places as their English phrasing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.locations import StreetDirectory, address_text, unit_number

STREETS_CSV = Path(__file__).resolve().parents[2] / "data" / "streets.csv"


@pytest.fixture(scope="module")
def streets() -> StreetDirectory:
    return StreetDirectory.load(STREETS_CSV)


def found(streets: StreetDirectory, text: str, *, strict: bool) -> str | None:
    location = streets.find(address_text(text, language="es"), strict=strict, language="es")
    return location.location.address if location.location else None


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("calle Elm", "Elm Street"),
        ("la calle Elm 120", "120 Elm Street"),
        ("en el 120 de la calle Elm", "120 Elm Street"),
        ("Elm 120", "120 Elm Street"),
        ("calle Elm #120", "120 Elm Street"),
        ("calle Elm número 120", "120 Elm Street"),
        ("120 Elm St", "120 Elm Street"),
        ("avenida Maple", "Maple Avenue"),
        ("av. Maple", "Maple Avenue"),
        ("calle Maple 12", "12 Maple Avenue"),  # "calle" for a street that is an avenue
        ("en la calle Mapel", "Maple Avenue"),
        ("bulevar Washington", "Washington Boulevard"),
        ("esquina de Elm y Main", "Elm Street and Main Street"),
        ("en la esquina de Elm con Main", "Elm Street and Main Street"),
        ("Elm esquina con Main", "Elm Street and Main Street"),
        ("entre Elm y Oak", "Elm Street and Oak Avenue"),
        ("Elm y Main", "Elm Street and Main Street"),
        ("frente al 45 de Main", "45 Main Street"),
        ("en la calle tercera", "3rd Street"),
        ("la 3ra avenida", "3rd Avenue"),
        ("calle 5 120", "120 5th Street"),
        ("la calle Front 12", "12 Front Street"),
        ("hace 3 días que hay un bache en la calle Elm", "Elm Street"),
        ("el 3 de mayo en la calle Main", "Main Street"),
        ("calle Elm 120 apto 3B", "120 Elm Street"),
    ],
)
def test_spanish_addresses(streets, text, address, strict):
    assert found(streets, text, strict=strict) == address


@pytest.mark.parametrize(
    "text",
    [
        "la calle está inundada",
        "hay basura en el parque",
        "hay un bache en frente de mi casa",
        "se fue la luz en mi cuadra",
        "en la escuela",
        "el semáforo de la avenida no funciona",
        "hay un carro abandonado en la calle",
    ],
)
def test_everyday_spanish_is_no_street(streets, text):
    assert found(streets, text, strict=True) is None
    assert streets.find(text, strict=True, language="es").unknown_street is None


def test_unknown_street_is_named_and_the_fallback_keeps_the_residents_words(streets):
    assert streets.find("calle Foo 12", language="es").unknown_street == "Foo Street"
    loose = streets.find("hay basura en el parque", strict=False, language="es")
    assert loose.unknown_street == "hay basura en el parque"


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("calle Elm 120 apto 3B", "3B"),
        ("departamento 4", "4"),
        ("depto. 2", "2"),
        ("Apartamento #12", "12"),
        ("unidad 5a", "5A"),
        ("apt 4b", "4B"),
        ("calle Elm 120", None),
    ],
)
def test_spanish_units(text, unit):
    assert unit_number(text, language="es") == unit


def test_spanish_not_address_numbers():
    text = address_text("desde hace 3 semanas, a las 5 de la tarde, apto 4", language="es")
    assert not any(ch.isdigit() for ch in text)
    assert address_text("3 días") == "3 días"  # English leaves Spanish alone


def test_without_streets_in_spanish(streets):
    assert "Water" not in streets.without_streets("hay agua en la calle Water", language="es")
    assert "Water" not in streets.without_streets("agua en Water St", language="es")
    assert "agua" in streets.without_streets("hay agua en la calle Water", language="es")


def test_english_find_reads_no_spanish(streets):
    assert streets.find("elm y main").location is None
    assert streets.find("la calle Elm 120").location is None
