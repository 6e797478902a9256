"""Train each candidate NLU pipeline (nlu/pipelines/*.yml) and compare them on held-out data.

Usage: python -m scripts.compare_pipelines [name ...]

For each candidate: training time (first training; later runs reuse the cached model and its
recorded time), macro-F1 on the held-out text and speech files, the share of out-of-scope
texts caught on ../shared/eval/external_nlu.yml (evaluation only), parse latency, and a sweep of
the fallback threshold computed from the raw (pre-fallback) ranking. Writes reports/pipelines/.
"""

from __future__ import annotations

import json
import sys
import time

from nlu.client import FALLBACK_INTENT
from nlu.evaluate import OUT_OF_SCOPE, f1_report, latency_ms, load_examples, macro_f1
from nlu.rasa_cli import HELD_OUT, HELD_OUT_SPEECH, ROOT, TRAINING_DATA, ensure_model
from nlu.server import RasaServer

EXTERNAL = ROOT.parent / "shared" / "eval" / "external_nlu.yml"
OUT = ROOT / "reports" / "pipelines"
THRESHOLDS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]

Raw = list[tuple[str, str, float]]  # (truth, top intent before fallback, its confidence)


def raw_predictions(client, examples: list[tuple[str, str]]) -> Raw:
    """Top intent and confidence for each example, ignoring the fallback classifier."""
    out = []
    for text, intent in examples:
        parse = client.parse(text)
        ranking = [r for r in parse.ranking if r.get("name") != FALLBACK_INTENT]
        top = ranking[0] if ranking else {"name": parse.intent, "confidence": parse.confidence}
        out.append((intent, str(top["name"]), float(top["confidence"])))
    return out


def at_threshold(raw: Raw, threshold: float) -> tuple[float, float]:
    """(macro-F1, out-of-scope catch rate) when predictions below the threshold fall back."""
    truth, pred = [], []
    for intent, top, conf in raw:
        got = top if conf >= threshold else FALLBACK_INTENT
        truth.append(intent)
        pred.append("out_of_scope" if intent == "out_of_scope" and got in OUT_OF_SCOPE else got)
    oos = [p for t, p in zip(truth, pred, strict=True) if t == "out_of_scope"]
    catch = sum(p == "out_of_scope" for p in oos) / len(oos) if oos else 0.0
    return macro_f1(f1_report(truth, pred)), catch


def evaluate(name: str) -> dict[str, object]:
    """Train (or reuse) and score one candidate."""
    config = ROOT / "nlu" / "pipelines" / f"{name}.yml"
    threshold = next(
        float(line.split(":")[1])
        for line in config.read_text().splitlines()
        if line.strip().startswith("threshold:")
    )
    started = time.monotonic()
    model = ensure_model(config, TRAINING_DATA)
    train_seconds = round(time.monotonic() - started, 1)
    previous = OUT / f"{name}.json"
    if train_seconds < 5 and previous.exists():  # cached: keep the time of the real training
        train_seconds = json.loads(previous.read_text()).get("train_seconds", train_seconds)
    files = {"heldout": HELD_OUT, "speech": HELD_OUT_SPEECH}
    if EXTERNAL.exists():
        files["external"] = EXTERNAL
    server = RasaServer(model, log_path=OUT / f"{name}-server.log").start()
    try:
        client = server.client(timeout=30)
        raw = {key: raw_predictions(client, load_examples(path)) for key, path in files.items()}
        latency = latency_ms(client, [t for t, _ in load_examples(HELD_OUT)])
    finally:
        server.stop()
    result: dict[str, object] = {
        "pipeline": name,
        "threshold": threshold,
        "train_seconds": train_seconds,
        "parse_ms": {k: round(v, 1) for k, v in latency.items()},
    }
    for key, rows in raw.items():
        f1, catch = at_threshold(rows, threshold)
        result[f"{key}_macro_f1"] = round(f1, 4)
        result[f"{key}_oos_catch"] = round(catch, 4)
    result["sweep"] = {
        str(t): {key: [round(x, 4) for x in at_threshold(rows, t)] for key, rows in raw.items()}
        for t in THRESHOLDS
    }
    previous.write_text(json.dumps(result, indent=2))
    return result


def main(names: list[str]) -> None:
    """Compare the named candidates (all by default); print one JSON line each."""
    OUT.mkdir(parents=True, exist_ok=True)
    names = names or sorted(p.stem for p in (ROOT / "nlu" / "pipelines").glob("*.yml"))
    for name in names:
        result = evaluate(name)
        print(json.dumps({k: v for k, v in result.items() if k != "sweep"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
