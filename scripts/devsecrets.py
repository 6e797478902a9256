"""Development secrets (Twilio auth token, Rasa token), generated once into var/dev-secrets.env."""

from __future__ import annotations

import os
import secrets

from settings import ROOT

PATH = ROOT / "var" / "dev-secrets.env"


def load_or_create() -> dict[str, str]:
    """The secrets from the environment, else from var/dev-secrets.env (created on first use)."""
    values: dict[str, str] = {}
    if PATH.exists():
        for line in PATH.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    else:
        values = {
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "CIVICLINE_RASA_TOKEN": secrets.token_urlsafe(24),
            "CIVICLINE_SECRET_KEY": secrets.token_urlsafe(32),
        }
        PATH.parent.mkdir(parents=True, exist_ok=True)
        PATH.write_text(
            "# Generated development secrets (git-ignored). Set real ones in the environment.\n"
            + "".join(f"{k}={v}\n" for k, v in values.items())
        )
        PATH.chmod(0o600)
    if "CIVICLINE_SECRET_KEY" not in values:  # files written before the console existed
        values["CIVICLINE_SECRET_KEY"] = secrets.token_urlsafe(32)
        with PATH.open("a") as fh:
            fh.write(f"CIVICLINE_SECRET_KEY={values['CIVICLINE_SECRET_KEY']}\n")
    for key in values:
        if os.environ.get(key):
            values[key] = os.environ[key]
    return values
