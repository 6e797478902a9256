"""Train each candidate NLU pipeline and compare them; writes docs/nlu-pipeline.md's table data.

Usage: python -m scripts.compare_pipelines [name ...]   (names from nlu/pipelines/*.yml)
"""

from __future__ import annotations

import json
import sys
import time

from nlu.evaluate import latency_ms, load_examples, oos_catch_rate, score
from nlu.rasa_cli import HELD_OUT, HELD_OUT_SPEECH, ROOT, TRAINING_DATA, ensure_model
from nlu.server import RasaServer

EXTERNAL = ROOT.parent / "shared" / "eval" / "external_nlu.yml"
OUT = ROOT / "reports" / "pipelines"


def main(names: list[str]) -> None:
    """Compare the named candidates (all by default) and print a Markdown table."""
    OUT.mkdir(parents=True, exist_ok=True)
    configs = sorted((ROOT / "nlu" / "pipelines").glob("*.yml"))
    configs = [c for c in configs if not names or c.stem in names]
    heldout, speech = load_examples(HELD_OUT), load_examples(HELD_OUT_SPEECH)
    external = load_examples(EXTERNAL) if EXTERNAL.exists() else []
    sample = [t for t, _ in heldout]
    for config in configs:
        started = time.monotonic()
        model = ensure_model(config, TRAINING_DATA)
        cached = time.monotonic() - started < 30
        server = RasaServer(model, log_path=OUT / f"{config.stem}-server.log").start()
        try:
            client = server.client(timeout=30)
            text, spoken = score(client, heldout), score(client, speech)
            oos, n_oos = oos_catch_rate(client, external)
            ext = score(client, external) if external else None
            lat = latency_ms(client, sample)
        finally:
            server.stop()
        result = {
            "pipeline": config.stem,
            "train_seconds": None if cached else round(time.monotonic() - started, 1),
            "heldout_macro_f1": round(text.macro_f1, 4),
            "heldout_accuracy": round(text.accuracy, 4),
            "speech_macro_f1": round(spoken.macro_f1, 4),
            "external_oos_catch": round(oos, 4),
            "external_oos_n": n_oos,
            "external_macro_f1": round(ext.macro_f1, 4) if ext else None,
            "parse_ms": {k: round(v, 1) for k, v in lat.items()},
            "errors": text.errors,
        }
        prev = OUT / f"{config.stem}.json"
        if cached and prev.exists():
            result["train_seconds"] = json.loads(prev.read_text()).get("train_seconds")
        prev.write_text(json.dumps(result, indent=2))
        print(json.dumps({k: v for k, v in result.items() if k != "errors"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
