"""Scoring an NLU model as the bot runs it: after the fallback, out-of-scope caught, latency."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from datafiles import load_yaml
from nlu.client import FALLBACK_INTENT, NLU, clean_for_rasa
from nlu.rasa_cli import HELD_OUT, rasa_bin, rasa_env, run_rasa

ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
OUT_OF_SCOPE = {"out_of_scope", FALLBACK_INTENT}


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file, with entity markup removed."""
    doc = load_yaml(path)
    pairs = []
    for block in doc.get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block["examples"]).splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                pairs.append((ENTITY_MARKUP.sub(r"\1", text), block["intent"]))
    return pairs


def f1_report(truth: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    """Per-label precision, recall, F1 and support, over the labels of both lists."""
    report: dict[str, dict[str, float]] = {}
    for label in sorted(set(truth) | set(predicted)):
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        n_pred, n_true = predicted.count(label), truth.count(label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[label] = {"precision": precision, "recall": recall, "f1": f1, "support": n_true}
    return report


def macro_f1(report: dict[str, dict[str, float]]) -> float:
    """Unweighted mean F1 over the labels that occur in the truth."""
    scores = [r["f1"] for r in report.values() if r["support"]]
    return sum(scores) / len(scores) if scores else 0.0


def latency_ms(nlu: NLU, texts: list[str], rounds: int = 200) -> dict[str, float]:
    """Median and p99 of parse latency over `rounds` calls, in milliseconds."""
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        nlu.parse(texts[i % len(texts)])
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median": statistics.median(samples), "p99": samples[int(0.99 * (len(samples) - 1))]}


def rasa_test_nlu(model: Path, out_dir: Path, heldout: Path = HELD_OUT) -> dict[str, Any]:
    """Run `rasa test nlu` on a held-out file; returns its intent report (macro avg inside).

    out_dir also gets the confusion matrix and every prediction (errors and successes).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run_rasa(
        [
            "test",
            "nlu",
            "--model",
            str(model.resolve()),
            "--nlu",
            str(heldout.resolve()),
            "--out",
            str(out_dir.resolve()),
            "--successes",
        ],
        cwd=out_dir,
    )
    return json.loads((out_dir / "intent_report.json").read_text())


def bot_label(intent: str | None) -> str:
    """The label the bot acts on: a fallback is 'not understood', the same as out_of_scope."""
    return "out_of_scope" if intent is None or intent in OUT_OF_SCOPE else intent


def runtime_scores(examples: list[tuple[str, str]], predicted: list[str | None]) -> dict[str, Any]:
    """Scores of the intents the running bot acts on (the fallback threshold applied).

    oos_catch: share of out-of-scope texts not taken for an in-scope intent; false_fallback:
    share of in-scope texts the bot would not understand.
    """
    truth = [intent for _, intent in examples]
    pred = [bot_label(p) for p in predicted]
    report = f1_report(truth, pred)
    pairs = list(zip(truth, pred, strict=True))
    oos = [p for t, p in pairs if t == "out_of_scope"]
    in_scope = [p for t, p in pairs if t != "out_of_scope"]
    per_intent = {
        k: {m: round(float(v[m]), 4) for m in ("precision", "recall", "f1", "support")}
        for k, v in report.items()
        if v["support"]
    }
    return {
        "macro_f1": round(macro_f1(report), 4),
        "accuracy": round(sum(t == p for t, p in pairs) / len(pairs), 4) if pairs else 0.0,
        "oos_catch": round(oos.count("out_of_scope") / len(oos), 4) if oos else None,
        "false_fallback": (
            round(in_scope.count("out_of_scope") / len(in_scope), 4) if in_scope else None
        ),
        "per_intent": per_intent,
        "errors": [
            {"text": text, "intent": t, "predicted": p}
            for (text, t), p in zip(examples, pred, strict=True)
            if t != p
        ],
        "n": len(pairs),
    }


def score_with(nlu: NLU, examples: list[tuple[str, str]]) -> dict[str, Any]:
    """Runtime scores through a live NLU (the running Rasa server, as the bot calls it)."""
    return runtime_scores(examples, [nlu.parse(text).intent for text, _ in examples])


def parse_offline(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    """Every text parsed by the model as /model/parse would, without starting a server."""
    python = rasa_bin().parent / "python"
    script = Path(__file__).with_name("parse_offline.py")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "texts.json", Path(tmp) / "parsed.json"
        src.write_text(json.dumps([clean_for_rasa(t) for t in texts]))
        subprocess.run(
            [str(python), str(script), str(model.resolve()), str(src), str(out)],
            env=rasa_env(),
            check=True,
            capture_output=True,
            timeout=900,
        )
        return list(json.loads(out.read_text()))
