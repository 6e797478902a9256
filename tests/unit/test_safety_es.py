"""The Spanish part of data/danger.yml: recall on the Spanish sets, with the lexicon alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.safety import Danger, DangerDetector, normalise

ROOT = Path(__file__).parents[2]
DETECTOR = DangerDetector.load(ROOT / "data" / "danger.yml")
SETS = ROOT / "tests" / "emergency"


def _set(name: str) -> dict:
    return yaml.safe_load((SETS / f"{name}.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["es_dev", "es_heldout"])
def test_every_spanish_emergency_is_flagged_by_the_words_alone(name):
    data = _set(name)
    assert data["language"] == "es"
    assert len(data["emergencies"]) >= 40 and len(data["not_emergencies"]) >= 40
    missed = [t for t in data["emergencies"] if DETECTOR.lexicon(t).level == Danger.NONE]
    assert not missed, f"emergencies missed: {missed}"


@pytest.mark.parametrize("name", ["es_dev", "es_heldout"])
def test_ordinary_spanish_reports_are_never_a_clear_danger(name):
    routine = _set(name)["not_emergencies"]
    clear = [t for t in routine if DETECTOR.lexicon(t).level == Danger.CLEAR]
    asked = [t for t in routine if DETECTOR.lexicon(t).level == Danger.POSSIBLE]
    assert not clear, f"911 told to: {clear}"
    assert len(asked) <= 0.05 * len(routine), f"asked 'is anyone in danger?': {asked}"


@pytest.mark.parametrize(
    "text",
    [
        "incendio",
        "huele a gas",
        "fuga de gas",
        "no respira",
        "se desmayo",
        "esta inconsciente",
        "le dispararon",
        "balazos",
        "lo estan asaltando",
        "se esta quemando",
        "hay un herido",
        "sangrando mucho",
        "convulsionando",
        "infarto",
        "se ahoga",
        "choque con heridos",
        "alguien entro a mi casa",
        # accents, inverted marks, texting spellings and typos
        "¡¡se está quemando mi casa!!",
        "¿alguien entró a mi casa? oigo pasos",
        "ai un insendio en el edificio",
        "esta inconsiente y no reacciona",
        "se desmallo mi abuela",
        "llamen a la anbulancia",
        # Spanglish: both languages run on every message
        "my abuela no respira",
        "hay un guy con un gun en la esquina",
    ],
)
def test_clear_spanish_dangers(text):
    assert DETECTOR.lexicon(text).level == Danger.CLEAR


@pytest.mark.parametrize(
    "text",
    [
        "hay un bache enorme en la calle Elm",
        "no hay agua caliente",
        "el camion de la basura no paso",
        "el hidrante de la esquina esta goteando",
        "la boca de incendio esta tapada",
        "mi detector de humo necesita pila",
        "estoy muerto de cansancio",
        "me muero de hambre",
        "el trafico esta de muerte",
        "los vecinos tiran fuegos artificiales",
        "hay un gato maullando en el drenaje",  # "maul-" is English for an attack
        "se robaron mi bote de basura",  # "rob-" is English for a robbery
        "el roble del parque se cayo sobre la banqueta",
        "mi vecino Roberto dejo su basura en la banqueta",
        "el foco del poste se quemo",
        "el arbol se esta muriendo",
        "este ruido me esta matando",
        "el precio de la renta se disparo",
        "no huele a gas pero el calentador no prende",
        "un carro choco contra el poste la semana pasada y sigue chueco",
        "hubo un incendio en la casa de la esquina el mes pasado",
    ],
)
def test_ordinary_spanish_reports_that_sound_alarming(text):
    assert DETECTOR.lexicon(text).level == Danger.NONE


@pytest.mark.parametrize(
    "text",
    ["humo en la calle", "hay sangre en la banqueta", "hubo un choque", "hay cables caidos"],
)
def test_an_everyday_word_for_danger_only_asks(text):
    assert DETECTOR.lexicon(text).level == Danger.POSSIBLE


def test_accents_and_inverted_marks_are_folded():
    assert normalise("¿Está ÉL inconsciente? ¡Sí, niño!") == "esta el inconsciente si nino"


def test_english_alone_is_the_top_level_of_the_file():
    english = DangerDetector.load(ROOT / "data" / "danger.yml", languages=())
    assert english.lexicon("incendio en la cocina").level == Danger.NONE
    assert english.lexicon("my house is on fire").level == Danger.CLEAR
    assert DETECTOR.lexicon("my house is on fire").level == Danger.CLEAR


@pytest.mark.parametrize(
    "text",
    [
        "huele muy fuerte a gas en mi cocina y cada vez esta peor",  # getting worse: not past
        "un niño se acaba de hundir en el hielo del estanque, esta en el agua",
    ],
)
def test_spanish_emergencies_missed_by_the_first_conversation_run(text):
    assert DETECTOR.lexicon(text).level == Danger.CLEAR
