"""`make run`: migrate the store, train the model if needed, start Rasa and gunicorn, print URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from nlu import activation, versions
from nlu.rasa_cli import ensure_model
from nlu.server import RasaServer
from scripts.devsecrets import PATH as SECRETS_PATH
from scripts.devsecrets import load_or_create
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT, Settings


def step(message: str) -> None:
    """Print a progress line."""
    print(f"\033[1m==> {message}\033[0m", flush=True)


def served_model(settings: Settings, trained: Path) -> Path:
    """The admin-activated version's model if there is one, else the model for data + config."""
    sessions = make_session_factory(make_engine(settings.database_url))
    with sessions() as db_session, db_session.begin():
        current = versions.active(db_session=db_session)
        if current is not None and current.model_path and Path(current.model_path).exists():
            if Path(current.model_path) != trained:
                print(
                    f"    serving v{current.id}, activated by {current.activated_by}; "
                    "newer training data is used from the next training in the console"
                )
            return Path(current.model_path)
        served_id = versions.register_served(
            db_session=db_session,
            model_path=trained,
            fp=trained.name.removeprefix("nlu-").removesuffix(".tar.gz"),
        ).id
    # score it in the background, so the console can compare new versions against it
    subprocess.Popen(
        [sys.executable, "-m", "nlu.jobs", "evaluate", str(served_id)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    print(f"    registered as model v{served_id}; scoring it on the held-out set in the background")
    return trained


def main() -> int:
    """Start everything and wait for Ctrl-C."""
    secrets = load_or_create()
    generated = not os.environ.get("TWILIO_AUTH_TOKEN")
    os.environ.update(secrets)
    settings = Settings.from_env()

    step(f"database: migrating {settings.database_url.split('@')[-1]}")
    upgrade(settings.database_url)

    step("NLU model: checking data/nlu.yml + config.yml against the cache")
    model = ensure_model(log=lambda s: print(s, flush=True))

    if not os.environ.get("CIVICLINE_RASA_URL"):
        replicas = int(os.environ.get("CIVICLINE_RASA_REPLICAS", "2"))
        os.environ["CIVICLINE_RASA_URL"] = ",".join(
            f"http://127.0.0.1:{5005 + i}" for i in range(replicas)
        )
        settings = Settings.from_env()
    (ROOT / "var" / "run.env").write_text(
        "# Written by make run so that flask CLI commands reach the same Rasa servers.\n"
        f"CIVICLINE_RASA_URL={settings.rasa_url}\n"
    )
    serve = served_model(settings, model)
    urls = [u for u in settings.rasa_url.split(",") if u]
    step(
        f"Rasa: starting {len(urls)} server(s) on {', '.join(urls)} with {serve.name} "
        "(~30 s; log in var/rasa-*.log)"
    )
    servers = [
        RasaServer(
            serve,
            port=urlsplit(u).port or 5005,
            token=settings.rasa_token,
            log_path=ROOT / "var" / f"rasa-{urlsplit(u).port}.log",
        ).spawn()
        for u in urls
    ]
    try:
        for server in servers:
            server.wait_ready(240)
    except (RuntimeError, TimeoutError) as exc:
        for server in servers:
            server.stop()
        print(f"error: a Rasa server did not start: {exc}", file=sys.stderr)
        return 1

    recovered = activation.recover(
        sessions=make_session_factory(make_engine(settings.database_url)),
        token=settings.rasa_token,
    )
    if recovered is not None:  # before any worker serves: every replica on the recorded version
        print(f"    activation job {recovered.id} had been interrupted: {recovered.result}")

    step(f"gunicorn: starting the app on port {settings.port}")
    web = start_gunicorn(os.environ)
    step("outbox worker: starting (sends texts queued by the bot)")
    worker = subprocess.Popen(
        [sys.executable, "-m", "outbound.worker"], cwd=ROOT, env=os.environ.copy()
    )
    health = f"http://127.0.0.1:{settings.port}/healthz"
    if not wait_healthy(f"http://127.0.0.1:{settings.port}", web):
        worker.terminate()
        for server in servers:
            server.stop()
        print("error: the app did not become healthy (is the port in use?)", file=sys.stderr)
        return 1

    base = settings.public_url
    print(
        f"""
\033[1mCivicLine is running.\033[0m
  Health:            {health}
  Twilio SMS webhook:   {base}/twilio/sms   (Messaging > "A message comes in", HTTP POST)
  Twilio Voice webhook: {base}/twilio/voice   (Voice > "A call comes in", HTTP POST)
  Call status callback: {base}/twilio/voice/status   (Voice > "Call status changes")
  Outbound texts:       {
            "sent from " + settings.sms_from
            if settings.sms_from
            else "logged only (dry run) until CIVICLINE_SMS_FROM is set"
        }
  Public URL checked:   CIVICLINE_PUBLIC_URL={base}  (set it to your tunnel/domain; signatures
                        are validated against it)
  Twilio auth token:    {
            "generated for development, in " + str(SECRETS_PATH)
            if generated
            else "from TWILIO_AUTH_TOKEN"
        }
  Try it without a phone:  make chat   (or: make chat ARGS=--voice, to play a caller)
  Staff console:        {base}/console/
  First sign-in:        .venv/bin/flask --app app console create-user admin --role admin
                        (asks for a password; admins add supervisors under Admin > Staff)
  Open311 API:          {
            base
        }/open311/v2/services.json  (keys: flask --app app open311 create-key NAME)
Press Ctrl-C to stop.
""",
        flush=True,
    )

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        web.wait()
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        worker.terminate()
        stop(web)
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
