"""Settings: every knob comes from an environment variable, read here and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _default_database_url() -> str:
    return f"sqlite:///{ROOT / 'var' / 'civicline.db'}"


def _local_env_files() -> dict[str, str]:
    """KEY=VALUE lines of var/dev-secrets.env and var/run.env (written by `make run`), if any."""
    values: dict[str, str] = {}
    for name in ("dev-secrets.env", "run.env"):
        path = ROOT / "var" / name
        if path.exists():
            for line in path.read_text().splitlines():
                if "=" in line and not line.lstrip().startswith("#"):
                    key, value = line.split("=", 1)
                    values[key.strip()] = value.strip()
    return values


def _count(value: str) -> int:
    """A non-negative whole number (a negative proxy count would be a silent misconfiguration)."""
    number = int(value or "0")
    if number < 0:
        raise ValueError(f"expected 0 or more, got {value!r}")
    return number


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of the app (webhooks, bot, store, NLU client)."""

    database_url: str = field(default_factory=_default_database_url)
    public_url: str = "http://localhost:8000"
    port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    nlu_timeout: float = 3.0
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    conversation_timeout_minutes: int = 30
    data_dir: Path = ROOT / "data"
    city_name: str = "Riverton"
    city_phone: str = "(555) 010-0311"
    asr_min_confidence: float = 0.4
    operator_number: str | None = None
    sms_from: str | None = None
    twilio_api_url: str | None = None
    voice: str = "Polly.Joanna"
    voice_language: str = "en-US"
    jurisdiction_id: str | None = None
    secret_key: str | None = None
    trusted_proxies: int = 0  # reverse proxies in front of the app whose X-Forwarded-* we believe
    model_dir: Path = ROOT / "var" / "models"
    train_epochs: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from environment variables (CIVICLINE_*, TWILIO_*, DATABASE_URL)."""
        if env is None:  # the process environment, over what `make run` wrote for its CLI twins
            env = {**_local_env_files(), **os.environ}
        base = cls()
        values: dict[str, object] = {
            "database_url": env.get("DATABASE_URL") or base.database_url,
            "public_url": env.get("CIVICLINE_PUBLIC_URL", base.public_url).rstrip("/"),
            "port": int(env.get("CIVICLINE_PORT", base.port)),
            "rasa_url": env.get("CIVICLINE_RASA_URL", base.rasa_url).rstrip("/"),
            "rasa_token": env.get("CIVICLINE_RASA_TOKEN") or None,
            "nlu_timeout": float(env.get("CIVICLINE_NLU_TIMEOUT", base.nlu_timeout)),
            "twilio_account_sid": env.get("TWILIO_ACCOUNT_SID") or None,
            "twilio_auth_token": env.get("TWILIO_AUTH_TOKEN") or None,
            "conversation_timeout_minutes": int(
                env.get("CIVICLINE_CONVERSATION_TIMEOUT_MINUTES", base.conversation_timeout_minutes)
            ),
            "data_dir": Path(env.get("CIVICLINE_DATA_DIR", str(base.data_dir))),
            "city_name": env.get("CIVICLINE_CITY_NAME", base.city_name),
            "city_phone": env.get("CIVICLINE_CITY_PHONE", base.city_phone),
            "asr_min_confidence": float(
                env.get("CIVICLINE_ASR_MIN_CONFIDENCE", base.asr_min_confidence)
            ),
            "operator_number": env.get("CIVICLINE_OPERATOR_NUMBER") or None,
            "sms_from": env.get("CIVICLINE_SMS_FROM") or None,
            "twilio_api_url": env.get("CIVICLINE_TWILIO_API_URL") or None,
            "voice": env.get("CIVICLINE_VOICE", base.voice),
            "voice_language": env.get("CIVICLINE_VOICE_LANGUAGE", base.voice_language),
            "jurisdiction_id": env.get("CIVICLINE_JURISDICTION_ID") or None,
            "secret_key": env.get("CIVICLINE_SECRET_KEY") or None,
            "trusted_proxies": _count(env.get("CIVICLINE_TRUSTED_PROXIES", "0")),
            "model_dir": Path(env.get("CIVICLINE_MODEL_DIR", str(base.model_dir))),
            "train_epochs": int(env["CIVICLINE_TRAIN_EPOCHS"])
            if env.get("CIVICLINE_TRAIN_EPOCHS")
            else None,
        }
        values.update(overrides)
        return replace(base, **values)  # type: ignore[arg-type]
