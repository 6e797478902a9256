"""Scoring an NLU model: held-out macro-F1, out-of-scope catch rate and parse latency."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.client import FALLBACK_INTENT, NLU
from nlu.rasa_cli import HELD_OUT, run_rasa

ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
OUT_OF_SCOPE = {"out_of_scope", FALLBACK_INTENT}


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file, with entity markup removed."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
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


@dataclass
class Score:
    """A model's scores on one labelled file."""

    macro_f1: float
    accuracy: float
    report: dict[str, dict[str, float]]
    errors: list[dict[str, str]]


def score(nlu: NLU, examples: list[tuple[str, str]]) -> Score:
    """Parse every example through the NLU and score the predictions."""
    truth, predicted, errors = [], [], []
    for text, intent in examples:
        got = nlu.parse(text).intent or FALLBACK_INTENT
        if intent == "out_of_scope" and got in OUT_OF_SCOPE:
            got = "out_of_scope"  # falling back on unknown text is the right answer
        truth.append(intent)
        predicted.append(got)
        if got != intent:
            errors.append({"text": text, "intent": intent, "predicted": got})
    report = f1_report(truth, predicted)
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(len(truth), 1)
    return Score(macro_f1(report), accuracy, report, errors)


def oos_catch_rate(nlu: NLU, examples: list[tuple[str, str]]) -> tuple[float, int]:
    """Share of out_of_scope examples rejected (out_of_scope or fallback), and their count."""
    texts = [t for t, intent in examples if intent == "out_of_scope"]
    caught = sum((nlu.parse(t).intent or FALLBACK_INTENT) in OUT_OF_SCOPE for t in texts)
    return (caught / len(texts) if texts else 0.0), len(texts)


def latency_ms(nlu: NLU, texts: list[str], rounds: int = 200) -> dict[str, float]:
    """Median and p99 of parse latency over `rounds` calls, in milliseconds."""
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        nlu.parse(texts[i % len(texts)])
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median": statistics.median(samples), "p99": samples[int(0.99 * (len(samples) - 1))]}


def rasa_test_nlu(model: Path, out_dir: Path, heldout: Path = HELD_OUT) -> dict[str, object]:
    """Run `rasa test nlu` on the held-out file; returns its intent report (macro avg inside)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_rasa(["test", "nlu", "--model", str(model), "--nlu", str(heldout), "--out", str(out_dir)])
    return json.loads((out_dir / "intent_report.json").read_text())


def confusions(errors: list[dict[str, str]], top: int = 10) -> list[tuple[tuple[str, str], int]]:
    """The most common (truth, predicted) confusions."""
    return Counter((e["intent"], e["predicted"]) for e in errors).most_common(top)
