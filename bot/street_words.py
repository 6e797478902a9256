"""The words of street addresses: suffixes, ordinals, and words that are never street names."""

from __future__ import annotations

import re

SUFFIXES = {
    "street": ("st", "str", "street", "streat", "stret"),
    "avenue": ("ave", "av", "avenue", "avenu", "avn"),
    "road": ("rd", "road"),
    "boulevard": ("blvd", "boulevard", "blv", "boul"),
    "lane": ("ln", "lane"),
    "drive": ("dr", "drive"),
    "place": ("pl", "place"),
    "court": ("ct", "court"),
    "way": ("way",),
    "terrace": ("ter", "terr", "terrace"),
    "parkway": ("pkwy", "parkway"),
    "highway": ("hwy", "highway"),
    "square": ("sq", "square"),
    "circle": ("cir", "circle"),
}
SUFFIX_OF = {alias: canon for canon, aliases in SUFFIXES.items() for alias in aliases}
ORDINALS = {
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "eleventh": "11th",
    "twelfth": "12th",
}
LOCATIVES = {"on", "at", "near", "by", "of", "and", "corner", "off", "along", "down", "up", "onto"}
DIRECTIONS = {"n", "s", "e", "w", "north", "south", "east", "west"}
NOT_NAMES = {
    "the",
    "a",
    "an",
    "my",
    "our",
    "your",
    "his",
    "her",
    "their",
    "this",
    "that",
    "in",
    "is",
    "whole",
    "same",
    "entire",
    "blocking",
    "into",
    "out",
    "from",
    "to",
    "across",
    "middle",
    "side",
    "end",
    "dead",
    "one",
    "busy",
    "quiet",
    "every",
    "each",
    "down",
    "up",
    "way",
    "street",
    "road",
    "avenue",
}
NUMBER_RE = re.compile(r"^\d{1,6}[a-z]?$")
# Street names that are also everyday words: they count as a street only with a suffix
# ("Front St"), a house number ("12 front"), or beside "and" ("front and main").
COMMON_WORDS = {
    "front",
    "back",
    "corner",
    "bridge",
    "center",
    "chapel",
    "church",
    "court",
    "garden",
    "grand",
    "green",
    "grove",
    "hill",
    "king",
    "lake",
    "market",
    "mill",
    "north",
    "south",
    "west",
    "park",
    "pleasant",
    "school",
    "spring",
    "state",
    "summer",
    "winter",
    "union",
    "water",
    "liberty",
    "division",
    "federal",
    "commercial",
    "depot",
    "ridge",
    "valley",
    "river",
    "meadow",
    "orchard",
    "pearl",
    "rose",
    "prospect",
    "summit",
    "sunset",
    "crescent",
    "brook",
    "bay",
    "canal",
    "cottage",
    "fountain",
    "forest",
    "granite",
    "quarry",
    "academy",
    "college",
    "highland",
    "hillside",
    "beacon",
    "island pond",
}
IDIOM_BEFORE = {"front": ("in", "out", "up", "the"), "back": ("out", "the", "in", "go")}
IDIOM_AFTER = {"front": ("of", "door", "yard", "steps", "window"), "back": ("of", "door", "yard")}
# Numbers in a message that are not house numbers: phones, dates, times, units, durations.
NOT_ADDRESS_NUMBERS = re.compile(
    r"(\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b"
    r"|\b\d{1,2}/\d{1,2}(/\d{2,4})?\b"
    r"|\b\d{1,2}(:\d{2})?\s?(am|pm|a\.m\.|p\.m\.)"
    r"|\b\d{1,2}:\d{2}\b"
    r"|\b(apt|apartment|unit|suite|ste|fl|floor|room|rm|#)\s*#?\s*[a-z]?\d+[a-z]?\b"
    r"|\b\d+\s*(days?|weeks?|hours?|hrs?|minutes?|mins?|months?|years?|yrs?|nights?|times?|cars?|people|kids|dogs?|bags?|cans?)\b"
    r"|\b(since|on|before|after|by|until|till) the \d{1,2}(st|nd|rd|th)\b",
    re.IGNORECASE,
)
UNIT_RE = re.compile(r"\b(apt|apartment|unit|suite|#)\s*#?\s*([a-z]?\d+[a-z]?)\b", re.IGNORECASE)
