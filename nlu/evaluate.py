"""Scoring an NLU model: held-out macro-F1, out-of-scope catch rate and parse latency."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

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
