"""Message catalogues: complete in every locale, checked at load, used as the code names them."""

from __future__ import annotations

import ast
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from settings import ROOT
from wording import CatalogueError, Wording, load_catalogues
from wording.uses import USES

MESSAGES = ROOT / "data" / "messages"
CODE = ("bot", "cases", "webhooks", "outbound", "console", "open311", "public")
SAYING = {"say", "words", "retry", "text"}  # Dialogue.say/words/retry, Wording.text


def _names_in_code() -> set[str]:
    """Message names the code passes as literals (d.say("CONFIRM", ...), handoff(r, "X"))."""
    names: set[str] = set()
    for package in CODE:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                args = node.args
                if node.func.attr == "handoff":
                    args = args[1:]
                elif node.func.attr not in SAYING:
                    continue
                first = args[0] if args else None
                if isinstance(first, ast.Constant) and str(first.value).isupper():
                    names.add(str(first.value))
    return names


def test_every_message_the_code_names_is_declared_in_uses():
    named = _names_in_code()
    assert len(named) > 40  # the scan finds the code's messages
    assert named - set(USES) == set()


def test_the_shipped_catalogues_load_and_cover_every_use():
    catalogues = load_catalogues(MESSAGES)
    assert "en" in catalogues
    for catalogue in catalogues.values():
        for key, channels in USES.items():
            for channel in channels:
                assert catalogue.text(key, channel)


def _locale(tmp_path: Path, drop: str | None = None, change: tuple[str, str] | None = None) -> Path:
    """A copy of the catalogues plus a locale `xx` made from English, with one thing wrong."""
    folder = tmp_path / "messages"
    folder.mkdir()
    shutil.copy(MESSAGES / "en.yml", folder / "en.yml")
    raw = yaml.safe_load((MESSAGES / "en.yml").read_text())
    raw["locale"] = "xx"
    if drop:
        del raw["messages"][drop]
    if change:
        raw["messages"][change[0]] = change[1]
    (folder / "xx.yml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return folder


def test_a_copy_of_english_is_a_complete_locale(tmp_path):
    assert sorted(load_catalogues(_locale(tmp_path))) == ["en", "xx"]


def test_a_locale_missing_a_message_is_refused_at_load(tmp_path):
    with pytest.raises(CatalogueError, match=r"xx.yml: CONFIRM has no (sms|voice) text"):
        load_catalogues(_locale(tmp_path, drop="CONFIRM"))


def test_a_locale_missing_the_voice_variant_is_refused(tmp_path):
    only_sms = {"sms": "Aquí su reporte: {summary} ¿Sí o no?"}
    with pytest.raises(CatalogueError, match="CONFIRM has no voice text"):
        load_catalogues(_locale(tmp_path, change=("CONFIRM", only_sms)))


def test_a_voice_only_key_used_by_text_is_refused(tmp_path):
    with pytest.raises(CatalogueError, match="HELP has no sms text"):
        load_catalogues(_locale(tmp_path, change=("HELP", {"voice": "ayuda"})))


def test_placeholders_must_match_english(tmp_path):
    wrong = {"sms": "Caso {numero}", "voice": "Caso {number}"}
    with pytest.raises(CatalogueError, match=r"CASE_UNKNOWN \(sms\) uses \['numero'\]"):
        load_catalogues(_locale(tmp_path, change=("CASE_UNKNOWN", wrong)))


def test_an_unknown_key_is_refused_as_a_typo(tmp_path):
    with pytest.raises(CatalogueError, match="CONFRIM is not used"):
        load_catalogues(_locale(tmp_path, change=("CONFRIM", "x")))


def test_an_include_of_a_missing_message_is_refused(tmp_path):
    with pytest.raises(CatalogueError, match="includes NOPE"):
        load_catalogues(_locale(tmp_path, change=("GREETING", "Hola. ${NOPE}")))


def test_includes_take_the_same_channel():
    wording = Wording("Riverton", "311", load_catalogues(MESSAGES))
    assert wording.text("MENU", "sms") in wording.text("GREETING", "sms")
    assert wording.text("MENU", "voice") in wording.text("REPROMPT", "voice")
    assert "{" not in wording.text("REPROMPT", "sms")


def test_dates_follow_the_locale():
    wording = Wording("Riverton", "311", load_catalogues(MESSAGES))
    assert wording.date(date(2026, 11, 29)) == "Nov 29, 2026"
    assert wording.date(date(2026, 11, 29), "es") in {"29 nov 2026", "Nov 29, 2026"}
    assert wording.language("tlh") == "en"
