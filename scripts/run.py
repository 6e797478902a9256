"""`make run`: migrate the store, train the model if needed, start Rasa and gunicorn, print URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cases.db import make_engine, make_session_factory
from cases.migrate import upgrade
from cases.nlu_models import ModelVersion
from nlu import fleet, versions
from nlu.languages import DEFAULT, LANGUAGES
from nlu.model_store import ModelMissing, local_copy
from nlu.rasa_cli import ensure_model, model_fingerprint
from nlu.server import RasaServer
from scripts.devsecrets import PATH as SECRETS_PATH
from scripts.devsecrets import load_or_create
from scripts.supervise import Child, supervise
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT, Settings


def step(message: str) -> None:
    """Print a progress line."""
    print(f"\033[1m==> {message}\033[0m", flush=True)


def served_model(
    settings: Settings, trained: Path, language: str = DEFAULT
) -> tuple[Path, int | None]:
    """This machine's copy of the language's wanted model, else the model for its data + config.

    With no version yet, the served model is registered as one (its bytes in the shared store,
    so rollback has a base and other machines can load it); its id is returned so it can be
    scored in the background. The copy is named after its version, so the reconciler knows what
    each replica serves from the start and loads nothing it does not have to.
    """
    sessions = make_session_factory(make_engine(settings.database_url))
    cache = settings.model_dir / "cache"
    with sessions() as db_session, db_session.begin():
        wanted = fleet.wanted(db_session=db_session, language=language)
        if wanted is not None:
            try:
                path = local_copy(db_session=db_session, version_id=wanted, cache_dir=cache)
            except ModelMissing as exc:
                print(f"    {language}: v{wanted} cannot be served ({exc}); registering anew")
            else:
                version = db_session.get(ModelVersion, wanted)
                assert version is not None
                if version.fingerprint != model_fingerprint(trained):
                    print(
                        f"    {language}: serving v{wanted}, activated by {version.activated_by}; "
                        "newer training data is used from the next training in the console"
                    )
                return path, None
        served = versions.register_served(
            db_session=db_session,
            model_path=trained,
            fp=model_fingerprint(trained),
            language=language,
        )
        served_id = served.id
        path = local_copy(db_session=db_session, version_id=served_id, cache_dir=cache)
    print(f"    {language}: registered as model v{served_id}; scored on its held-out set soon")
    return path, served_id


def score_in_background(version_ids: list[int]) -> None:
    """Score newly registered versions one after another (one evaluation at a time)."""
    if not version_ids:
        return
    subprocess.Popen(
        [sys.executable, "-m", "nlu.jobs", "evaluate", *map(str, version_ids)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def outbox_mode(settings: Settings) -> tuple[dict[str, str], str]:
    """The worker's environment, and what it does with texts (a dry run is announced loudly)."""
    env = os.environ.copy()
    if settings.sms_from or settings.sms_messaging_service_sid:
        return env, f"texts sent from {settings.sms_from or settings.sms_messaging_service_sid}"
    if settings.env != "development" and "CIVICLINE_ENV" in os.environ:  # production, said so
        return env, "texts are NOT sent and wait in the outbox: CIVICLINE_SMS_FROM is not set"
    env.update(CIVICLINE_ENV="development", CIVICLINE_SMS_DRY_RUN="1")
    print(
        "\033[1;33m"
        "  !! DRY RUN: CIVICLINE_SMS_FROM is not set, so texts to residents are only logged\n"
        "  !! (masked number, length) and NOT sent. Set CIVICLINE_SMS_FROM to send them.\n"
        "  !! The worker runs with CIVICLINE_ENV=development; never do this in production."
        "\033[0m",
        flush=True,
    )
    return env, "DRY RUN - texts are logged, NOT sent (set CIVICLINE_SMS_FROM to send)"


def module(name: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """`python -m name` in the project, with this environment."""
    return subprocess.Popen([sys.executable, "-m", name], cwd=ROOT, env=dict(env))


def respawn(
    server: RasaServer, settings: Settings, fallback: Path
) -> Callable[[], subprocess.Popen[bytes]]:
    """Start a dead replica again, on its language's wanted model now (it may have changed)."""

    def start() -> subprocess.Popen[bytes]:
        sessions = make_session_factory(make_engine(settings.database_url))
        with sessions() as db_session:
            wanted = fleet.wanted(db_session=db_session, language=server.language)
            try:
                server.model = (
                    local_copy(
                        db_session=db_session,
                        version_id=wanted,
                        cache_dir=settings.model_dir / "cache",
                    )
                    if wanted is not None
                    else fallback
                )
            except ModelMissing:
                server.model = fallback  # the reconciler brings it to the wanted one
        server.spawn()
        assert server.proc is not None
        return server.proc

    return start


def procfile_modules(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's `python -m` processes, {name: module}: the workers production runs too."""
    found = {}
    for line in path.read_text().splitlines():
        name, _, command = line.partition(":")
        words = command.split()
        if not line.startswith("#") and words[:2] == ["python", "-m"] and len(words) == 3:
            found[name.strip()] = words[2]
    return found


def daily_workers(settings: Settings) -> list[Child]:
    """The once-a-day jobs this machine takes part in: only those configured.

    An unconfigured one would exit at once and be restarted by the supervisor, over and over.
    """
    found = []
    modules = procfile_modules()
    if settings.open_data_path is not None:
        step(f"open data: written nightly to {settings.open_data_path} (docs/open-data.md)")
        found.append(Child("open data worker", lambda: module(modules["opendata"], os.environ)))
    else:
        step("open data: no nightly file (set CIVICLINE_OPEN_DATA_PATH); /open-data/ serves it")
    if settings.smtp_url and settings.digest_to:
        step(f"overdue digest: e-mailed daily to {', '.join(settings.digest_to)}")
        found.append(Child("digest worker", lambda: module(modules["digest"], os.environ)))
    else:
        step("overdue digest: not e-mailed (set CIVICLINE_SMTP_URL, CIVICLINE_DIGEST_TO)")
    return found


def stop_all(children: list[Child], servers: list[RasaServer]) -> None:
    """Stop the workers and the Rasa replicas."""
    for child in children:
        if child.proc is not None and child.proc.poll() is None:
            child.proc.terminate()
    for server in servers:
        server.stop()


def main() -> int:
    """Start everything and wait for Ctrl-C."""
    secrets = load_or_create()
    generated = not os.environ.get("TWILIO_AUTH_TOKEN")
    os.environ.update(secrets)
    settings = Settings.from_env()

    step(f"database: migrating {settings.database_url.split('@')[-1]}")
    upgrade(settings.database_url)

    step("NLU models: checking each language's data and config against the cache")
    models = {code: ensure_model(code, log=lambda s: print(s, flush=True)) for code in LANGUAGES}

    replicas = int(os.environ.get("CIVICLINE_RASA_REPLICAS", "2"))
    for n, row in enumerate(LANGUAGES.values()):  # en on 5005.., es on 5105.., a third on 5205..
        if not os.environ.get(f"CIVICLINE_RASA_URL{row.env_suffix}"):
            os.environ[f"CIVICLINE_RASA_URL{row.env_suffix}"] = ",".join(
                f"http://127.0.0.1:{5005 + 100 * n + i}" for i in range(replicas)
            )
    settings = Settings.from_env()
    (ROOT / "var" / "run.env").write_text(
        "# Written by make run so that flask CLI commands reach the same Rasa servers.\n"
        + "".join(
            f"CIVICLINE_RASA_URL{row.env_suffix}={settings.rasa_urls().get(code, '')}\n"
            for code, row in LANGUAGES.items()
        )
    )
    servers: list[RasaServer] = []
    served: dict[str, Path] = {}
    registered: list[int] = []
    for code, urls_csv in settings.rasa_urls().items():
        if code not in models:
            continue
        serve, new_id = served_model(settings, models[code], code)
        served[code] = serve
        registered += [new_id] if new_id is not None else []
        urls = [u for u in urls_csv.split(",") if u]
        step(
            f"Rasa ({code}): starting {len(urls)} server(s) on {', '.join(urls)} with "
            f"{serve.name} (~30 s; log in var/rasa-*.log)"
        )
        servers += [
            RasaServer(
                serve,
                port=urlsplit(u).port or 5005,
                token=settings.rasa_token,
                log_path=ROOT / "var" / f"rasa-{urlsplit(u).port}.log",
                language=code,
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
    score_in_background(registered)  # for the console to compare new versions against

    # Two pools, so anonymous and console traffic can never take residents' workers: Twilio's
    # webhooks on CIVICLINE_PORT; the console and Open311 on CIVICLINE_WEB_PORT, at a lower
    # CPU priority. Behind a load balancer, route /twilio/ to the first and the rest to the second.
    step(f"gunicorn: Twilio webhooks on port {settings.port}")
    web = start_gunicorn(dict(os.environ, CIVICLINE_ROLE="webhooks"))
    step(f"gunicorn: console and Open311 on port {settings.web_port} (lower CPU priority)")
    site_env = dict(
        os.environ,
        CIVICLINE_ROLE="web",
        CIVICLINE_PORT=str(settings.web_port),
        CIVICLINE_NICE=os.environ.get("CIVICLINE_WEB_NICE", "10"),
    )
    worker_env, outbound = outbox_mode(settings)
    step(f"outbox worker: starting ({outbound})")
    step("later-answer worker: texts answers to messages saved while Rasa was down")
    step(
        f"retention: every {settings.retain_every_minutes} min, one machine at a time "
        "(docs/retention.md)"
    )
    step("media worker: fetches texted photos from Twilio, cleans and stores them")
    step(
        f"reconciler: keeps this machine's Rasa replicas on the wanted model version "
        f"(machine {settings.machine})"
    )
    procs = procfile_modules()  # the same worker lines production runs
    labels = {
        "outbox": "outbox worker",
        "later": "later-answer worker",
        "retention": "retention worker",
        "media": "media worker",
        "reconcile": "reconciler",
    }
    workers = [Child("console/Open311 pool", lambda: start_gunicorn(site_env))]
    workers += [
        Child(
            label,
            lambda m=procs[name], e=worker_env if name == "outbox" else os.environ: module(m, e),
        )
        for name, label in labels.items()
    ]
    workers += daily_workers(settings)
    children = workers + [
        Child(
            f"Rasa replica :{server.port} ({server.language})",
            respawn(server, settings, served[server.language]),
        )
        for server in servers
    ]
    for child in workers:
        child.launch()
    for child, server in zip(children[len(workers) :], servers, strict=True):
        child.proc = server.proc
    health = f"http://127.0.0.1:{settings.port}/healthz"
    site = children[0].proc
    assert site is not None
    if not (
        wait_healthy(f"http://127.0.0.1:{settings.port}", web)
        and wait_healthy(f"http://127.0.0.1:{settings.web_port}", site)
    ):
        stop(web)
        stop_all(children, servers)
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
  Outbound texts:       {outbound}
  Public URL checked:   CIVICLINE_PUBLIC_URL={base}  (set it to your tunnel/domain; signatures
                        are validated against it)
  Twilio auth token:    {
            "generated for development, in " + str(SECRETS_PATH)
            if generated
            else "from TWILIO_AUTH_TOKEN"
        }
  Try it without a phone:  make chat   (or: make chat ARGS=--voice, to play a caller)
  Staff console:        http://127.0.0.1:{settings.web_port}/console/  (its own pool: route
                        /console and /open311 there, /twilio to port {settings.port})
  First sign-in:        .venv/bin/flask --app app console create-user admin --role admin
                        (asks for a password; admins add supervisors under Admin > Staff)
  Retention:            docs/retention.md; preview: flask --app app retention run --dry-run
  Open311 API:          http://127.0.0.1:{
            settings.web_port
        }/open311/v2/services.json  (keys: flask --app app open311 create-key NAME)
Press Ctrl-C to stop.
""",
        flush=True,
    )

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:  # restart a crashed Rasa replica or worker; gunicorn restarts its own workers
        supervise(children, web, log=lambda m: step(f"supervisor: {m}"))
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stop(web)
        stop_all(children, servers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
