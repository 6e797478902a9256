"""The languages the NLU understands: one row each, so a new language is data plus one row.

Each row names the Rasa pipeline config, the training file (relative to the data folder, so an
app on a copy of data/ trains from its copy), the held-out text and speech files that versions
are scored on, and a few warm-up messages a fresh server parses before it counts as ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    """One language's NLU files."""

    code: str
    name: str
    config: Path
    data: str  # the training file, relative to the data folder (CIVICLINE_DATA_DIR)
    held_out: Path
    held_out_speech: Path
    warm_up: tuple[str, ...]

    @property
    def training_data(self) -> Path:
        """The training file in the repository's own data/ folder."""
        return ROOT / "data" / self.data

    def data_in(self, data_dir: Path) -> Path:
        """The training file in an app's data folder."""
        return data_dir / self.data

    @property
    def env_suffix(self) -> str:
        """'' for the default language, else '_ES' etc. (CIVICLINE_RASA_URL_ES)."""
        return "" if self.code == DEFAULT else f"_{self.code.upper()}"


LANGUAGES: dict[str, Language] = {
    "en": Language(
        code="en",
        name="English",
        config=ROOT / "config.yml",
        data="nlu.yml",
        held_out=ROOT / "tests" / "test_nlu.yml",
        held_out_speech=ROOT / "tests" / "test_nlu_speech.yml",
        warm_up=(
            "hello",
            "there is a pothole on elm street",
            "when is trash pickup",
            "status of 311-000001",
        ),
    ),
    "es": Language(
        code="es",
        name="Español",
        config=ROOT / "config.es.yml",
        data="es/nlu.yml",
        held_out=ROOT / "tests" / "es" / "test_nlu.yml",
        held_out_speech=ROOT / "tests" / "es" / "test_nlu_speech.yml",
        warm_up=(
            "hola",
            "hay un bache en la calle elm",
            "cuándo pasa la basura",
            "estado de 311-000001",
        ),
    ),
}


def lookup(code: str | None) -> Language:
    """The row for a language code; an unknown or missing code is the default (English)."""
    return LANGUAGES.get((code or DEFAULT).lower(), LANGUAGES[DEFAULT])


def known(code: str) -> str:
    """The code itself if it is a language we train; ValueError otherwise (forms, CLI)."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; one of {', '.join(LANGUAGES)}")
    return code
