"""Train each candidate NLU pipeline (nlu/pipelines/*.yml) and compare them as the bot runs them.

Usage: python -m scripts.compare_pipelines [name ...]

Every figure is what the running bot acts on: the server's /model/parse answer, after its
FallbackClassifier, with a fallback counted as "not understood" (the same as out_of_scope).
For each candidate: training time, run-time macro-F1 on the held-out text and speech files,
out-of-scope caught and in-scope false fallbacks on ../shared/eval/external_nlu.yml (evaluation
only), parse latency, and a sweep of the fallback and ambiguity thresholds on the validation
file (tests/nlu_validation.yml) — the thresholds are chosen there, never on the test sets.
Writes reports/pipelines/.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from nlu.client import FALLBACK_INTENT
from nlu.evaluate import latency_ms, load_examples, runtime_scores, score_with
from nlu.rasa_cli import HELD_OUT, HELD_OUT_SPEECH, ROOT, TRAINING_DATA, ensure_model
from nlu.server import RasaServer

EXTERNAL = ROOT.parent / "shared" / "eval" / "external_nlu.yml"
VALIDATION = ROOT / "tests" / "nlu_validation.yml"
OUT = ROOT / "reports" / "pipelines"
THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
AMBIGUITY = [0.0, 0.05, 0.1, 0.15, 0.2]
MAX_FALSE_FALLBACK = 0.05  # a threshold may not drop more than this share of in-scope texts


def with_thresholds(ranking: list[dict[str, Any]], threshold: float, ambiguity: float) -> str:
    """The intent Rasa's FallbackClassifier would give for this ranking and these thresholds."""
    ranked = [r for r in ranking if r.get("name") != FALLBACK_INTENT]
    if not ranked:
        return FALLBACK_INTENT
    top = float(ranked[0]["confidence"])
    second = float(ranked[1]["confidence"]) if len(ranked) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK_INTENT
    return str(ranked[0]["name"])


def sweep(client, examples: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Run-time scores on the validation file for every (threshold, ambiguity) pair."""
    rankings = [client.parse(text).ranking for text, _ in examples]
    out = {}
    for t in THRESHOLDS:
        for a in AMBIGUITY:
            scores = runtime_scores(examples, [with_thresholds(r, t, a) for r in rankings])
            out[f"{t}/{a}"] = {
                k: scores[k] for k in ("macro_f1", "oos_catch", "false_fallback", "accuracy")
            }
    return out


def best_thresholds(table: dict[str, dict[str, Any]]) -> str:
    """The best validation macro-F1 whose in-scope false fallbacks stay within the limit."""
    allowed = {k: v for k, v in table.items() if v["false_fallback"] <= MAX_FALSE_FALLBACK}
    return max(allowed or table, key=lambda k: ((allowed or table)[k]["macro_f1"], k))


def evaluate(name: str) -> dict[str, object]:
    """Train (or reuse) and score one candidate."""
    config = ROOT / "nlu" / "pipelines" / f"{name}.yml"
    started = time.monotonic()
    model = ensure_model(config=config, data=TRAINING_DATA)
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
        scores = {key: score_with(client, load_examples(path)) for key, path in files.items()}
        table = sweep(client, load_examples(VALIDATION)) if VALIDATION.exists() else {}
        latency = latency_ms(client, [t for t, _ in load_examples(HELD_OUT)])
    finally:
        server.stop()
    result: dict[str, object] = {
        "pipeline": name,
        "train_seconds": train_seconds,
        "parse_ms": {k: round(v, 1) for k, v in latency.items()},
    }
    for key, s in scores.items():
        result[f"{key}_macro_f1"] = s["macro_f1"]
        result[f"{key}_oos_catch"] = s["oos_catch"]
        result[f"{key}_false_fallback"] = s["false_fallback"]
        worst = min(s["per_intent"].items(), key=lambda kv: kv[1]["f1"])
        result[f"{key}_worst_intent"] = [worst[0], worst[1]["f1"]]
    if table:
        result["validation_best"] = best_thresholds(table)
        result["validation_sweep"] = table
    previous.write_text(json.dumps(result, indent=2))
    return result


def main(names: list[str]) -> None:
    """Compare the named candidates (all by default); print one JSON line each."""
    OUT.mkdir(parents=True, exist_ok=True)
    names = names or sorted(p.stem for p in (ROOT / "nlu" / "pipelines").glob("*.yml"))
    for name in names:
        result = evaluate(name)
        print(json.dumps({k: v for k, v in result.items() if k != "validation_sweep"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
