"""Settings: every knob comes from an environment variable, read here and nowhere else."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent
ENVIRONMENTS = ("development", "production")
LANGUAGE_URL = re.compile(r"^CIVICLINE_RASA_URL_([A-Z]{2})$")


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _environment(value: str | None) -> str:
    """CIVICLINE_ENV: development or production (the default); anything else is refused."""
    env = (value or "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise ValueError(f"CIVICLINE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")
    return env


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


def _language_urls(env: Mapping[str, str]) -> dict[str, str]:
    """CIVICLINE_RASA_URL_ES etc. (languages beside English) as {"es": ...}, empty ones left out."""
    return {
        match.group(1).lower(): value.strip().rstrip("/")
        for key, value in env.items()
        if (match := LANGUAGE_URL.match(key)) and value.strip()
    }


def _zone(value: str) -> str:
    """CIVICLINE_TIMEZONE: an IANA time zone name ("America/New_York"), checked here."""
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"CIVICLINE_TIMEZONE: unknown time zone {value!r}") from exc
    return name


HOURS = re.compile(r"^\s*(\d{1,2}):?(\d{2})?\s*-\s*(\d{1,2}):?(\d{2})?\s*$")
MIN_TEXT_HOURS = 2 * 60  # an hour to ask in, and an hour for the outbox's retries


def _text_hours(value: str) -> tuple[int, int]:
    """CIVICLINE_TEXT_HOURS "09:00-20:00" as minutes of the day (0-1440), start before end."""
    match = HOURS.match(value)
    if not match:
        raise ValueError(f"CIVICLINE_TEXT_HOURS must look like 09:00-20:00, not {value!r}")
    h1, m1, h2, m2 = (int(x or 0) for x in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or not 0 <= start < end <= 24 * 60:
        raise ValueError(f"CIVICLINE_TEXT_HOURS: {value!r} is not a window within one day")
    if end - start < MIN_TEXT_HOURS:
        raise ValueError(f"CIVICLINE_TEXT_HOURS: {value!r} is shorter than two hours")
    return start, end


def _count(value: str) -> int:
    """A non-negative whole number (a negative proxy count would be a silent misconfiguration)."""
    number = int(value or "0")
    if number < 0:
        raise ValueError(f"expected 0 or more, got {value!r}")
    return number


def _non_negative(value: str) -> float:
    """A duration in hours or days: 0 or more."""
    number = float(value)
    if number < 0:
        raise ValueError(f"expected 0 or more, got {value!r}")
    return number


SMTP_URL = re.compile(r"^smtp://[^/:\s]+(:\d{1,5})?/?$")


def _smtp_url(value: str) -> str | None:
    """CIVICLINE_SMTP_URL: smtp://host[:port] (port 25 when left out), or empty for none."""
    value = value.strip()
    if not value:
        return None
    if not SMTP_URL.match(value):
        raise ValueError(f"CIVICLINE_SMTP_URL must look like smtp://host:port, not {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of the app (webhooks, bot, store, NLU client)."""

    database_url: str = field(default_factory=_default_database_url)
    public_url: str = "http://localhost:8000"
    port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"  # the English (default language) servers
    # other languages' servers, e.g. {"es": CIVICLINE_RASA_URL_ES}; a language without any is
    # parsed by the English servers
    rasa_language_urls: dict[str, str] = field(default_factory=dict)
    rasa_token: str | None = None
    nlu_timeout: float = 3.0
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    # accepted on webhooks next to twilio_auth_token while the token is being rotated
    twilio_auth_token_previous: str | None = None
    # Twilio Webhooks SharedKey secrets (X-Twilio-Webhooks-Signature-Settings, e.g. HMAC-SHA256)
    twilio_webhook_shared_key: str | None = None
    twilio_webhook_shared_key_previous: str | None = None
    env: str = "production"  # development | production
    conversation_timeout_minutes: int = 30
    data_dir: Path = ROOT / "data"
    city_name: str = "Riverton"
    city_phone: str = "(555) 010-0311"
    asr_min_confidence: float = 0.4
    operator_number: str | None = None
    sms_from: str | None = None
    sms_messaging_service_sid: str | None = None
    sms_dry_run: bool = False  # log texts instead of sending them (development only)
    twilio_api_url: str | None = None
    voice: str = "Polly.Joanna"
    voice_language: str = "en-US"
    voice_es: str = "Polly.Lupe"  # Amazon Polly's US Spanish voice on Twilio <Say>
    jurisdiction_id: str | None = None
    secret_key: str | None = None
    trusted_proxies: int = 0  # reverse proxies in front of the app whose X-Forwarded-* we believe
    # GET /metrics from anywhere but this machine needs "Authorization: Bearer <token>"
    metrics_token: str | None = None
    model_dir: Path = ROOT / "var" / "models"
    # This machine's name in the fleet table: its Rasa replicas are reconciled by its reconciler.
    machine: str = field(default_factory=socket.gethostname)
    reconcile_every: float = 1.0  # seconds between the reconciler's looks at the wanted version
    drain_seconds: float = 1.5  # a replica out of rotation this long before its model is swapped
    replica_gone_seconds: float = 15.0  # a replica unreported this long: its machine is gone
    train_epochs: int | None = None
    role: str = "all"  # all | webhooks | web: which blueprints this process serves
    web_port: int = 8001  # make run: the console/Open311 pool, beside the webhook pool
    rate_limits: bool = True
    public_rate_limit: str = "120/minute;20/second"  # per address, Open311 API
    login_rate_limit: str = "10/minute"  # per address, console sign-in attempts
    public_cache_seconds: float = 15.0  # Open311 lists and service list, per process
    # Retention (docs/retention.md); 0 keeps that kind of data for ever.
    retain_transcript_days: int = 90  # closed conversations' texts, state and phone number
    retain_conversation_days: int = 365  # closed conversations and their turns, deleted
    retain_outbound_days: int = 30  # outbound texts' numbers and bodies, after sent/failed
    retain_login_attempt_hours: int = 24  # never less than the sign-in limiter's window
    retain_candidate_days: int = 180  # resolved training candidates, after resolution
    retain_model_versions: int = 5  # newest trained versions (plus the active one) with files
    retain_every_minutes: int = 60  # how often `make run` applies the policy
    # the nightly open data file (docs/open-data.md): where, and after which UTC hour
    open_data_path: Path | None = None
    open_data_hour: int = 3
    retain_batch: int = 500  # rows per transaction, so no write lock is held for long
    # "Is it fixed?" (docs/fix-checks.md): the city's clock, the local hours in which such
    # texts may be sent (minutes of the day, start and end), how long after closing to ask at
    # the earliest, and how long a reply still counts as the answer.
    timezone: str = "America/New_York"
    text_hours: tuple[int, int] = (9 * 60, 20 * 60)
    fix_check_delay_hours: float = 2.0
    fix_check_answer_days: float = 7.0
    # The daily overdue digest (docs/deadlines.md): e-mailed per agency through this SMTP
    # server (smtp://host:port) to these addresses when both are set; otherwise read it at
    # /console/overdue or with `flask --app app cases overdue`.
    smtp_url: str | None = None
    digest_from: str = "311-digest@localhost"
    digest_to: tuple[str, ...] = ()
    digest_hour: int = 12  # UTC hour the daily digest is due (12:00 UTC: 7 or 8 am Eastern)
    # City notices: texts a minute a notice's broadcast to subscribers is spread at
    broadcast_per_minute: int = 60

    def voice_for(self, language: str) -> str:
        """The <Say> voice for a language (CIVICLINE_VOICE for English, CIVICLINE_VOICE_ES...)."""
        return {"es": self.voice_es}.get(language, self.voice)

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
            "rasa_language_urls": _language_urls(env),
            "rasa_token": env.get("CIVICLINE_RASA_TOKEN") or None,
            "nlu_timeout": float(env.get("CIVICLINE_NLU_TIMEOUT", base.nlu_timeout)),
            "twilio_account_sid": env.get("TWILIO_ACCOUNT_SID") or None,
            "twilio_auth_token": env.get("TWILIO_AUTH_TOKEN") or None,
            "twilio_auth_token_previous": env.get("TWILIO_AUTH_TOKEN_PREVIOUS") or None,
            "twilio_webhook_shared_key": env.get("TWILIO_WEBHOOK_SHARED_KEY") or None,
            "twilio_webhook_shared_key_previous": (
                env.get("TWILIO_WEBHOOK_SHARED_KEY_PREVIOUS") or None
            ),
            "env": _environment(env.get("CIVICLINE_ENV")),
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
            "sms_messaging_service_sid": env.get("CIVICLINE_SMS_MESSAGING_SERVICE_SID") or None,
            "sms_dry_run": _flag(env.get("CIVICLINE_SMS_DRY_RUN")),
            "twilio_api_url": env.get("CIVICLINE_TWILIO_API_URL") or None,
            "voice": env.get("CIVICLINE_VOICE", base.voice),
            "voice_language": env.get("CIVICLINE_VOICE_LANGUAGE", base.voice_language),
            "voice_es": env.get("CIVICLINE_VOICE_ES", base.voice_es),
            "jurisdiction_id": env.get("CIVICLINE_JURISDICTION_ID") or None,
            "secret_key": env.get("CIVICLINE_SECRET_KEY") or None,
            "trusted_proxies": _count(env.get("CIVICLINE_TRUSTED_PROXIES", "0")),
            "metrics_token": env.get("CIVICLINE_METRICS_TOKEN") or None,
            "model_dir": Path(env.get("CIVICLINE_MODEL_DIR", str(base.model_dir))),
            "machine": env.get("CIVICLINE_MACHINE") or base.machine,
            "reconcile_every": float(env.get("CIVICLINE_RECONCILE_EVERY", base.reconcile_every)),
            "drain_seconds": float(env.get("CIVICLINE_DRAIN_SECONDS", base.drain_seconds)),
            "replica_gone_seconds": float(
                env.get("CIVICLINE_REPLICA_GONE_SECONDS", base.replica_gone_seconds)
            ),
            "role": env.get("CIVICLINE_ROLE", base.role),
            "web_port": int(
                env.get("CIVICLINE_WEB_PORT", int(env.get("CIVICLINE_PORT", 8000)) + 1)
            ),
            "rate_limits": env.get("CIVICLINE_RATE_LIMITS", "on").lower() not in {"0", "off"},
            "public_rate_limit": env.get("CIVICLINE_PUBLIC_RATE_LIMIT", base.public_rate_limit),
            "login_rate_limit": env.get("CIVICLINE_LOGIN_RATE_LIMIT", base.login_rate_limit),
            "public_cache_seconds": float(
                env.get("CIVICLINE_PUBLIC_CACHE_SECONDS", base.public_cache_seconds)
            ),
            "train_epochs": int(env["CIVICLINE_TRAIN_EPOCHS"])
            if env.get("CIVICLINE_TRAIN_EPOCHS")
            else None,
            "retain_transcript_days": int(
                env.get("CIVICLINE_RETAIN_TRANSCRIPT_DAYS", base.retain_transcript_days)
            ),
            "retain_conversation_days": int(
                env.get("CIVICLINE_RETAIN_CONVERSATION_DAYS", base.retain_conversation_days)
            ),
            "retain_outbound_days": int(
                env.get("CIVICLINE_RETAIN_OUTBOUND_DAYS", base.retain_outbound_days)
            ),
            "retain_login_attempt_hours": int(
                env.get("CIVICLINE_RETAIN_LOGIN_ATTEMPT_HOURS", base.retain_login_attempt_hours)
            ),
            "retain_candidate_days": int(
                env.get("CIVICLINE_RETAIN_CANDIDATE_DAYS", base.retain_candidate_days)
            ),
            "retain_model_versions": int(
                env.get("CIVICLINE_RETAIN_MODEL_VERSIONS", base.retain_model_versions)
            ),
            "retain_every_minutes": int(
                env.get("CIVICLINE_RETAIN_EVERY_MINUTES", base.retain_every_minutes)
            ),
            "retain_batch": int(env.get("CIVICLINE_RETAIN_BATCH", base.retain_batch)),
            "open_data_path": Path(env["CIVICLINE_OPEN_DATA_PATH"])
            if env.get("CIVICLINE_OPEN_DATA_PATH")
            else base.open_data_path,
            "open_data_hour": int(env.get("CIVICLINE_OPEN_DATA_HOUR", base.open_data_hour)),
            "timezone": _zone(env.get("CIVICLINE_TIMEZONE", base.timezone)),
            "text_hours": _text_hours(env.get("CIVICLINE_TEXT_HOURS", "09:00-20:00")),
            "fix_check_delay_hours": _non_negative(
                env.get("CIVICLINE_FIX_CHECK_DELAY_HOURS", str(base.fix_check_delay_hours))
            ),
            "fix_check_answer_days": _non_negative(
                env.get("CIVICLINE_FIX_CHECK_ANSWER_DAYS", str(base.fix_check_answer_days))
            ),
            "smtp_url": _smtp_url(env.get("CIVICLINE_SMTP_URL", "")),
            "digest_from": env.get("CIVICLINE_DIGEST_FROM", base.digest_from),
            "digest_hour": int(env.get("CIVICLINE_DIGEST_HOUR", base.digest_hour)) % 24,
            "digest_to": tuple(
                a.strip() for a in env.get("CIVICLINE_DIGEST_TO", "").split(",") if a.strip()
            ),
            "broadcast_per_minute": max(
                1, _count(env.get("CIVICLINE_BROADCAST_PER_MINUTE", str(base.broadcast_per_minute)))
            ),
        }
        values.update(overrides)
        return replace(base, **values)  # type: ignore[arg-type]

    def rasa_urls(self) -> dict[str, str]:
        """Every language's Rasa servers, English first: {"en": "...", "es": "..."}."""
        others = {k: v for k, v in self.rasa_language_urls.items() if k != "en"}
        return {"en": self.rasa_url, **others}
