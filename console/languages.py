"""Residents' languages as staff see them: names in English, badges, the filter's choices."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from markupsafe import Markup, escape

from console.blueprint import bp, runtime


def supported() -> tuple[str, ...]:
    """The languages residents can use, so filters offer only what the bot can speak."""
    return tuple(runtime().bot.wording.languages)


@bp.app_template_global()
def language_name(code: str | None) -> str:
    """A language's English name ("Spanish"), because the console is read in English."""
    code = code or "en"
    try:
        return str(Locale.parse(code).get_display_name("en")).capitalize()
    except (ValueError, UnknownLocaleError):
        return code


@bp.app_template_global()
def language_title(code: str | None) -> str:
    """The English name with the language's own name ("Spanish (Español)"), for tooltips."""
    english = language_name(code)
    catalogue = runtime().bot.wording.catalogues.get(code or "en")
    own = catalogue.name if catalogue else ""
    return f"{english} ({own})" if own and own != english else english


@bp.app_template_global()
def language_badge(code: str | None) -> Markup:
    """A short badge ("ES") titled with the name, so a list shows the language at a glance."""
    code = code or "en"
    return Markup(
        f'<span class="badge lang lang-{escape(code)}" title="{escape(language_title(code))}">'
        f"{escape(code.upper())}</span>"
    )


@bp.app_template_global()
def language_choices() -> list[tuple[str, str]]:
    """(code, English name) of every supported language, for the filter selects."""
    return [(code, language_name(code)) for code in supported()]
