"""StreetDirectory against the city's real street list (data/streets.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.locations import Found, Location, StreetDirectory, street_from_name

STREETS_CSV = Path(__file__).resolve().parents[2] / "data" / "streets.csv"


@pytest.fixture(scope="module")
def streets() -> StreetDirectory:
    return StreetDirectory.load(STREETS_CSV)


def test_load_reads_every_row_with_coordinates(streets):
    rows = STREETS_CSV.read_text(encoding="utf-8").strip().splitlines()[1:]
    assert len(streets.streets) == len(rows)
    elm = next(s for s in streets.streets if s.name == "Elm Street")
    assert (elm.core, elm.suffix) == (("elm",), "street")
    assert (elm.lat, elm.long) == (42.10610, -72.59480)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(
    ("text", "address", "number"),
    [
        ("412 maple ave", "412 Maple Avenue", "412"),
        ("120 N Elm St", "120 Elm Street", "120"),
        ("pothole at 12 mapel", "12 Maple Avenue", "12"),
        ("100 Martin Luther King Jr Blvd", "100 Martin Luther King Jr Boulevard", "100"),
    ],
)
def test_house_number_and_street(streets, text, address, number, strict):
    location = streets.find(text, strict=strict).location
    assert location is not None
    assert (location.address, location.number, location.cross) == (address, number, None)
    assert location.precise


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(
    ("text", "street", "cross"),
    [
        ("elm and main", "Elm Street", "Main Street"),
        ("elm & main", "Elm Street", "Main Street"),
        ("corner of elm st and main st", "Elm Street", "Main Street"),
        ("3 ave and 5th st", "3rd Avenue", "5th Street"),
        ("the corner of first ave and elm", "1st Avenue", "Elm Street"),
    ],
)
def test_intersections(streets, text, street, cross, strict):
    location = streets.find(text, strict=strict).location
    assert location is not None
    assert (location.street.name, location.cross and location.cross.name) == (street, cross)
    assert location.number is None
    assert location.address == f"{street} and {cross}"
    assert location.precise


def test_intersection_with_spelled_out_ordinal(streets):
    # "third" alone could be 3rd Avenue or 3rd Street; either is a 3rd.
    location = streets.find("corner of oak and third").location
    assert location is not None
    assert location.street.name == "Oak Avenue"
    assert location.cross is not None and location.cross.name.startswith("3rd ")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("mapel avenue", "Maple Avenue"),
        ("Maple Avenu", "Maple Avenue"),
        ("Elm Stret", "Elm Street"),
        ("Chesnut Street", "Chestnut Street"),
        ("Washingtn Blvd", "Washington Boulevard"),
        ("pothole on chestnut", "Chestnut Street"),
    ],
)
def test_misspelled_street_without_number_is_not_precise(streets, text, name):
    location = streets.find(text).location
    assert location is not None
    assert location.address == name
    assert not location.precise


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("Fakename Road", "Fakename Road"),
        ("there is trash on Fakename Road", "Fakename Road"),
        ("55 Fakename Rd", "Fakename Road"),
    ],
)
def test_unknown_street_is_reported(streets, text, unknown, strict):
    assert streets.find(text, strict=strict) == Found(unknown_street=unknown)


@pytest.mark.parametrize(
    "text",
    [
        "huge rats near the park",
        "the main problem is noise",
        "trash at the market",
        "the lake is frozen",
        "there is a big hill near the school",
    ],
)
def test_strict_mode_ignores_common_words_without_context(streets, text):
    assert streets.find(text, strict=True) == Found()


def test_lenient_mode_accepts_a_bare_street_word(streets):
    location = streets.find("the park", strict=False).location
    assert location is not None and location.address == "Park Road"


def test_lenient_mode_reports_unrecognised_reply_as_unknown(streets):
    assert streets.find("lots of trash", strict=False) == Found(unknown_street="lots of trash")


@pytest.mark.parametrize("text", ["120 north elm street", "120 South Elm St"])
def test_spelled_out_directional_before_street(streets, text):
    location = streets.find(text).location
    assert location is not None and location.address == "120 Elm Street"


@pytest.mark.parametrize(
    "text", ["a tree is blocking the road", "the whole street is flooded", "my car is in the way"]
)
def test_generic_road_phrases_are_not_unknown_streets(streets, text):
    assert streets.find(text, strict=True) == Found()


def test_match_name(streets):
    assert streets.match_name("elm st").name == "Elm Street"
    assert streets.match_name("Mapel Ave").name == "Maple Avenue"
    assert streets.match_name("3rd ave").name == "3rd Avenue"
    assert streets.match_name("fakename rd") is None


def test_coordinates_of_street_and_intersection_midpoint(streets):
    elm = streets.find("pothole on Elm St").location
    assert (elm.lat, elm.long) == (42.10610, -72.59480)
    corner = streets.find("elm and main").location
    assert corner.lat == pytest.approx((42.10610 + 42.10125) / 2)
    assert corner.long == pytest.approx((-72.59480 + -72.59010) / 2)


def test_location_without_coordinates():
    bare = street_from_name("Nowhere Lane")
    elm = street_from_name("Elm Street", "42.1", "-72.5")
    assert (bare.core, bare.suffix) == (("nowhere",), "lane")
    assert Location(bare).lat is None and Location(bare).long is None
    assert (Location(bare, cross=elm).lat, Location(bare, cross=elm).long) == (42.1, -72.5)


def test_location_address_and_precise():
    elm, main = street_from_name("Elm Street"), street_from_name("Main Street")
    assert (Location(elm).address, Location(elm).precise) == ("Elm Street", False)
    assert (Location(elm, "12").address, Location(elm, "12").precise) == ("12 Elm Street", True)
    corner = Location(elm, cross=main)
    assert (corner.address, corner.precise) == ("Elm Street and Main Street", True)


def test_a_suffix_word_named_street_keeps_its_house_number(streets):
    found = streets.find("loud music all night at 211 Court St").location
    assert found is not None and found.address == "211 Court Street"
