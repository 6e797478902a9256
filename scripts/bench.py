"""`make bench`: webhook turn latency over real HTTP vs. Rasa's own parse latency, same run.

Starts an English and a Spanish Rasa server and gunicorn on a scratch database, then sends 200
signed SMS turns in English interleaved with 200 in Spanish (complete reports, questions,
status checks), 200 voice turns (calls answered, spoken answers gathered) and 200 direct
/model/parse calls. Reports medians and p99s, the ratio of webhook to parse latency, and Spanish
to English (machines here are noisy, so the ratios are the numbers to compare between runs).
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from cases.migrate import upgrade
from nlu.evaluate import latency_ms
from nlu.rasa_cli import ensure_model
from nlu.server import RasaServer, free_port
from scripts.chat import describe, post, send
from scripts.web import start_gunicorn, stop, wait_healthy
from settings import ROOT

SCRIPT = [
    "there's a huge pothole on Elm St",
    "in front of 120",
    "yes",
    "when is trash pickup?",
    "status of 311-000001",
    "loud music at 44 maple ave every night",
    "1",
    "yes",
    "where do i pay a parking ticket",
    "thanks",
]
CALL_SCRIPT = [
    "um theres a pothole in front of four twelve maple avenue",
    "yes",
    "no thanks",
    "when do they pick up the trash",
    "whats the status of case three one one zero zero zero zero zero one",
    "goodbye",
]
SCRIPT_ES = [
    "hay un bache enorme en la calle Elm",
    "enfrente del 120",
    "si",
    "que dia pasa la basura?",
    "estado del caso 311-000001",
    "musica muy alta en el 44 de maple ave todas las noches",
    "1",
    "si",
    "donde pago una multa de estacionamiento",
    "gracias",
]
TURNS = 200


def voice_turns(base: str, token: str, count: int) -> list[float]:
    """Latency (ms) of `count` gather turns over simulated calls following CALL_SCRIPT."""
    samples: list[float] = []
    call = 0
    while len(samples) < count:
        call += 1
        form = {"CallSid": f"CA{call:032x}", "From": f"+1555018{call:04d}", "To": "+15550100311"}
        _, action = describe(post(base, base, token, "/twilio/voice", form))
        for said in CALL_SCRIPT:
            if action is None or len(samples) >= count:
                break
            started = time.perf_counter()
            xml = post(base, base, token, action, dict(form, SpeechResult=said, Confidence="0.9"))
            samples.append((time.perf_counter() - started) * 1000)
            _, action = describe(xml)
    return samples


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of the samples, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main() -> None:
    """Run the benchmark and print/save the numbers."""
    model = ensure_model()
    rasa = RasaServer(model, log_path=ROOT / "reports" / "bench-rasa.log").start()
    rasa_es = RasaServer(
        ensure_model("es"),
        token=rasa.token,
        language="es",
        log_path=ROOT / "reports" / "bench-rasa-es.log",
    ).start()
    tmp = Path(tempfile.mkdtemp(prefix="civicline-bench-"))
    port, token = free_port(), "bench-token-" + os.urandom(8).hex()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
        CIVICLINE_PORT=str(port),
        CIVICLINE_RASA_URL=rasa.url,
        CIVICLINE_RASA_URL_ES=rasa_es.url,
        CIVICLINE_RASA_TOKEN=rasa.token,
        TWILIO_AUTH_TOKEN=token,
        CIVICLINE_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    upgrade(env["DATABASE_URL"])
    web = start_gunicorn(env, quiet=True, log="bench.log")
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(base, web):
            raise SystemExit("gunicorn did not become healthy")
        turns: list[float] = []
        turns_es: list[float] = []
        lines, lines_es = itertools.cycle(SCRIPT), itertools.cycle(SCRIPT_ES)
        for i in range(TURNS):  # interleaved, so both languages see the same machine noise
            for prefix, script, samples in (
                ("+1555019", lines, turns),
                ("+1555029", lines_es, turns_es),
            ):
                sender = f"{prefix}{i // len(SCRIPT):04d}"
                started = time.perf_counter()
                send(base, base, token, sender, next(script))
                samples.append((time.perf_counter() - started) * 1000)
        calls = voice_turns(base, token, TURNS)
        parse = latency_ms(rasa.client(), SCRIPT, rounds=TURNS)
        parse_es = latency_ms(rasa_es.client(), SCRIPT_ES, rounds=TURNS)
    finally:
        stop(web)
        rasa.stop()
        rasa_es.stop()
    result = {
        "turns": TURNS,
        "webhook_ms": {
            "median": round(statistics.median(turns), 1),
            "p99": round(percentile(turns, 0.99), 1),
        },
        "voice_turn_ms": {
            "median": round(statistics.median(calls), 1),
            "p99": round(percentile(calls, 0.99), 1),
        },
        "rasa_parse_ms": {k: round(v, 1) for k, v in parse.items()},
        "es_webhook_ms": {
            "median": round(statistics.median(turns_es), 1),
            "p99": round(percentile(turns_es, 0.99), 1),
        },
        "es_rasa_parse_ms": {k: round(v, 1) for k, v in parse_es.items()},
    }
    result["es_to_en_median"] = round(
        result["es_webhook_ms"]["median"] / result["webhook_ms"]["median"], 2
    )
    result["es_to_en_p99"] = round(result["es_webhook_ms"]["p99"] / result["webhook_ms"]["p99"], 2)
    result["voice_ratio_median"] = round(result["voice_turn_ms"]["median"] / parse["median"], 2)
    result["ratio_median"] = round(result["webhook_ms"]["median"] / parse["median"], 2)
    result["ratio_p99"] = round(result["webhook_ms"]["p99"] / parse["p99"], 2)
    out = ROOT / "reports" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
