"""Language identification on 200 short held-out messages (tests/langid.yml), as the bot uses it.

Reported to reports/langid.json (the closing note's figures). The floors are below what the
shipped identifier measures, so the test fails if a change makes it worse, not on noise.
"""

from __future__ import annotations

import json

import yaml

from bot.languages import FIRST_TURN_CONFIDENCE, LanguageDetector
from settings import ROOT

MESSAGES = yaml.safe_load((ROOT / "tests" / "langid.yml").read_text())["messages"]


def _detector() -> LanguageDetector:
    return LanguageDetector({"en": ("english",), "es": ("espanol", "español")})


def test_identification_on_short_held_out_messages():
    detector = _detector()
    rows = []
    for item in MESSAGES:
        guess = detector.identify(item["text"])
        first = detector.first_turn(item["text"], fallback="en")
        rows.append((item, guess, first))
    total = len(rows)
    raw = sum(g is not None and g.language == i["lang"] for i, g, _ in rows) / total
    decided = sum(f == i["lang"] for i, _, f in rows) / total
    sure = [(i, g) for i, g, _ in rows if g and g.confidence >= FIRST_TURN_CONFIDENCE]
    sure_right = sum(g.language == i["lang"] for i, g in sure) / max(1, len(sure))
    by_length = {}
    for label, low, high in (("1-3 words", 1, 3), ("4-12 words", 4, 12)):
        part = [(i, g) for i, g, _ in rows if low <= len(i["text"].split()) <= high]
        right = sum(g is not None and g.language == i["lang"] for i, g in part)
        by_length[label] = {"n": len(part), "accuracy": round(right / max(1, len(part)), 3)}
    report = {
        "messages": total,
        "accuracy": round(raw, 3),  # py3langid's best guess between our languages
        "first_turn_accuracy": round(decided, 3),  # the bot's choice (unsure: English)
        "sure_share": round(len(sure) / total, 3),
        "sure_accuracy": round(sure_right, 3),  # when sure enough to set a conversation's
        "by_length": by_length,
        "wrong": [i["text"] for i, g, _ in rows if g is None or g.language != i["lang"]],
    }
    out = ROOT / "reports" / "langid.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    assert total == 200
    assert raw >= 0.85, report
    assert sure_right >= 0.97, report  # a confident guess sets the language: it must be right


def test_asking_for_a_language_by_name():
    detector = _detector()
    assert detector.asked_for("en español por favor") == "es"
    assert detector.asked_for("ESPANOL") == "es"
    assert detector.asked_for("can we do this in english") == "en"
    assert detector.asked_for("no hablo english") is None  # not a request for English
    assert detector.asked_for("hay un bache en la calle english y main, muy grande y hondo") is None
