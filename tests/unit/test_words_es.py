"""Spanish in the rule-based layer: numbers, answers, keywords, cancelling and corrections."""

from __future__ import annotations

import pytest

from bot import corrections, keywords
from bot.spoken import redact_said, spell_digits, words_to_digits


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("ciento veinte calle elm", "120 calle elm"),
        ("tres uno uno cero cero cero uno dos tres", "311000123"),
        ("dos mil cuatrocientos", "2400"),
        ("numero cuarenta y cinco", "numero 45"),
        ("Número cuarenta y cinco", "Número 45"),
        ("cuatro doce Maple", "412 Maple"),
        ("veintidós", "22"),
        ("veintidos", "22"),
        ("entre tres y cuatro", "entre 3 y 4"),
        ("un bache en la calle Elm", "un bache en la calle Elm"),
        ("hay una farola rota", "hay una farola rota"),
    ],
)
def test_spanish_words_to_digits(said, digits):
    assert words_to_digits(said, language="es") == digits


def test_english_words_to_digits_unchanged():
    assert words_to_digits("three one one zero zero zero one two three") == "311000123"
    assert words_to_digits("four twelve maple avenue", language="en") == "412 maple avenue"
    assert words_to_digits("tres uno uno") == "tres uno uno"  # English reads no Spanish


def test_spell_digits_is_the_same_in_spanish():
    assert spell_digits("311-000123", language="es") == spell_digits("311-000123")


@pytest.mark.parametrize(
    ("said", "removed"),
    [
        (
            "mi tarjeta es cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
            "[card number removed]",
        ),
        ("llamame al cinco cinco cinco dos tres cuatro cinco seis siete ocho", "[phone removed]"),
    ],
)
def test_redact_said_catches_spanish_spoken_numbers(said, removed):
    assert removed in redact_said(said, voice=True, language="es")
    assert removed not in redact_said(said, voice=True)  # English does not read Spanish words
    assert redact_said(said, voice=False, language="es") == said


@pytest.mark.parametrize(
    ("text", "kind", "language"),
    [
        ("PARAR", "opt_out", "es"),
        ("Alto!", "opt_out", "es"),
        ("basta", "opt_out", "es"),
        ("Detener", "opt_out", "es"),
        ("cancelar", "opt_out", "es"),
        ("COMENZAR", "opt_in", "es"),
        ("iniciar", "opt_in", "es"),
        ("reanudar", "opt_in", "es"),
        ("AYUDA", "help", "es"),
        ("ayuda?", "help", "es"),
        ("STOP", "opt_out", "en"),
        ("yes", "opt_in", "en"),
        ("HELP", "help", "en"),
        ("parar el ruido", None, None),
        ("ayuda por favor", None, None),
        ("sí", None, None),
    ],
)
def test_spanish_compliance_keywords(text, kind, language):
    assert keywords.compliance_keyword(text) == kind
    assert keywords.keyword_language(text) == language


@pytest.mark.parametrize(
    ("text", "yes", "no", "skip"),
    [
        ("sí", True, False, False),
        ("Si", True, False, False),
        ("¡Claro!", True, False, False),
        ("sí, claro", True, False, False),
        ("dale", True, False, False),
        ("correcto", True, False, False),
        ("está bien", True, False, False),
        ("ok", True, False, False),
        ("ándale", True, False, False),
        ("va", True, False, False),
        ("sale", True, False, False),
        ("por favor", True, False, False),
        ("yes", True, False, False),
        ("ya", False, False, False),
        ("no", False, True, False),
        ("nel", False, True, False),
        ("para nada", False, True, False),
        ("No, gracias", False, True, False),
        ("incorrecto", False, True, False),
        ("no sé", False, False, True),
        ("no se", False, False, True),
        ("ni idea", False, False, True),
        ("saltar", False, False, True),
        ("omitir", False, False, True),
        ("paso", False, False, True),
        ("sí está en la calle Elm", False, False, False),
    ],
)
def test_spanish_answers(text, yes, no, skip):
    assert keywords.is_yes(text, language="es") is yes
    assert keywords.is_no(text, language="es") is no
    assert keywords.is_skip(text, language="es") is skip


@pytest.mark.parametrize("text", ["menu", "Menú", "volver", "empezar de nuevo", "main menu"])
def test_spanish_back_to_bot(text):
    assert keywords.is_back_to_bot(text, language="es")


def test_english_answers_unchanged():
    assert keywords.is_yes("ya") and keywords.is_yes("si") and not keywords.is_yes("claro")
    assert not keywords.is_skip("no sé") and not keywords.is_no("nel")
    assert keywords.is_back_to_bot("menu") and not keywords.is_back_to_bot("volver")


@pytest.mark.parametrize(
    "text",
    [
        "olvidalo",
        "Olvídalo",
        "ya no",
        "mejor no",
        "cancela",
        "cancélalo",
        "no importa",
        "déjalo",
        "no",
        "olvídalo, ya lo arreglaron",
        "ya lo arreglaron",
        "ya no hace falta, gracias",
        "cambié de opinión",
    ],
)
def test_spanish_cancel(text):
    assert corrections.is_cancel(text, language="es")


@pytest.mark.parametrize(
    "text",
    [
        "ya no hay luz en mi calle",
        "no importa la hora",
        "hay un bache en la calle Elm",
        "no hay agua caliente",
        "sí",
    ],
)
def test_spanish_not_cancel(text):
    assert not corrections.is_cancel(text, language="es")


def test_english_cancel_unchanged():
    assert corrections.is_cancel("nevermind") and not corrections.is_cancel("olvidalo")


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("no, es en Monroe", True),
        ("perdón, el 45", True),
        ("quise decir Main", True),
        ("me equivoqué de calle", True),
        ("corrijo: es el 45", True),
        ("en realidad es Oak", True),
        ("no hay luz", False),
        ("hay un bache grande", False),
    ],
)
def test_spanish_correction_markers(text, marked):
    assert corrections.is_correction(text, language="es") is marked


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("no, es el 45", "45"),
        ("45 no 54", "45"),
        ("no es el 54, es el 45", "45"),
        ("no el 54 sino el 45", "45"),
        ("el número es 45", "45"),
        ("quise decir el 45", "45"),
        ("perdón, 45", "45"),
        ("hay 3 baches", None),
    ],
)
def test_spanish_corrected_number(text, number):
    assert corrections.corrected_number(text, language="es") == number


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("en Monroe, no en Court", "monroe", "court"),
        ("no en la calle Court, en Monroe", "monroe", "court"),
        ("ambos, no solo la calefacción", "ambos", "calefaccion"),
    ],
)
def test_spanish_without_negated(text, kept, dropped):
    left = corrections.without_negated(text, language="es")
    assert kept in left and dropped not in left


def test_spanish_without_negated_keeps_a_problem_said_with_no():
    assert "agua caliente" in corrections.without_negated("no hay agua caliente", language="es")


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("¿cuándo pasan?", True),
        ("cuando pasa la basura", True),
        ("qué día recogen", True),
        ("dónde pago la multa", True),
        ("a qué hora abren", True),
        ("¿la recogen mañana", True),
        ("hay un bache en Elm", False),
        ("porque hay basura", False),
    ],
)
def test_spanish_questions(text, asked):
    assert corrections.is_question(text, language="es") is asked


@pytest.mark.parametrize(
    ("text", "opens"),
    [
        ("sí, hazlo", True),
        ("claro que sí", True),
        ("dale, mándalo", True),
        ("ok", True),
        ("ya lo arreglaron", False),
        ("vamos a ver", False),
    ],
)
def test_spanish_starts_yes(text, opens):
    assert corrections.starts_yes(text, language="es") is opens


def test_english_corrections_unchanged():
    assert corrections.starts_yes("ya lets go")
    assert corrections.corrected_number("42 not 24") == "42"
    assert corrections.is_question("where do i pay?")
    assert not corrections.is_question("cuando pasan")
