"""The NLU model itself: data validity, held-out accuracy, entities and payload stripping."""

from __future__ import annotations

import json

import pytest
import yaml

from bot.catalog import CONVERSATION_INTENTS, Catalog
from bot.knowledge import KnowledgeBase
from nlu.evaluate import load_examples, rasa_test_nlu
from nlu.rasa_cli import CONFIG, HELD_OUT, HELD_OUT_SPEECH, ROOT, TRAINING_DATA, run_rasa

CONVERSATION = set(CONVERSATION_INTENTS)
REPORTS = ROOT / "reports"


def test_intents_line_up_across_data_domain_catalogue_and_knowledge_base():
    catalog = Catalog.load(ROOT / "data" / "services.yml")
    kb = KnowledgeBase.load(ROOT / "data" / "knowledge_base.yml")
    expected = set(catalog.by_intent) | set(kb.by_intent) | CONVERSATION
    trained = {intent for _, intent in load_examples(TRAINING_DATA)}
    domain = set(yaml.safe_load((ROOT / "domain.yml").read_text())["intents"])
    assert trained == domain == expected
    assert len(catalog.services) == 14 and len(kb.by_intent) == 6


def test_enough_training_and_held_out_examples_and_no_overlap():
    train, held = load_examples(TRAINING_DATA), load_examples(HELD_OUT)
    per = lambda pairs, i: sum(1 for _, x in pairs if x == i)  # noqa: E731
    intents = {i for _, i in train}
    assert all(per(train, i) >= 30 for i in intents)
    assert all(per(held, i) >= 8 for i in intents)
    seen = {t.lower() for t, _ in train}
    assert not seen & {t.lower() for t, _ in held + load_examples(HELD_OUT_SPEECH)}


def test_no_external_evaluation_text_in_training_data():
    external = ROOT.parent / "shared" / "eval" / "external_nlu.yml"
    if not external.exists():
        pytest.skip("../shared/eval is not beside this checkout")
    ours = {t.lower() for t, _ in load_examples(TRAINING_DATA)}
    theirs = {t.lower() for t, _ in load_examples(external) if len(t.split()) >= 4}
    assert not ours & theirs


@pytest.mark.slow
def test_rasa_data_validate_passes():
    out = run_rasa(
        [
            "data",
            "validate",
            "--data",
            str(TRAINING_DATA),
            "--domain",
            str(ROOT / "domain.yml"),
            "--config",
            str(CONFIG),
        ],
        cwd=ROOT,
    )
    assert "error" not in out.lower().replace("errors", "")


@pytest.mark.slow
def test_held_out_macro_f1_is_at_least_0_90(rasa_model):
    report = rasa_test_nlu(rasa_model, REPORTS / "nlu-heldout")
    macro = report["macro avg"]["f1-score"]
    (REPORTS / "nlu-heldout-summary.json").write_text(
        json.dumps({"macro_f1": macro, "accuracy": report.get("accuracy")}, indent=2)
    )
    assert macro >= 0.90, f"held-out macro-F1 {macro:.3f} < 0.90 (see reports/nlu-heldout/)"


@pytest.mark.slow
def test_speech_transcripts_macro_f1_is_at_least_0_85(rasa_model):
    report = rasa_test_nlu(rasa_model, REPORTS / "nlu-speech", heldout=HELD_OUT_SPEECH)
    macro = report["macro avg"]["f1-score"]
    assert macro >= 0.85, f"speech held-out macro-F1 {macro:.3f} < 0.85 (see reports/nlu-speech/)"


@pytest.mark.rasa
def test_case_number_entity(rasa_server):
    parse = rasa_server.client().parse("whats the status of 311-004512 please")
    assert parse.intent == "check_status"
    assert parse.entity("case_id") == "311-004512"


@pytest.mark.rasa
def test_leading_slash_is_not_an_intent_payload(rasa_server):
    parse = rasa_server.client().parse("/restart")
    assert parse.intent != "restart" and parse.confidence < 1.0


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("theres a huge pothole on elm st", "pothole"),
        ("when do they pick up recycling on my street", "ask_trash_schedule"),
        ("my car got towed where do i get it", "ask_towed_vehicle"),
        ("i need to talk to a real person", "request_human"),
    ],
)
def test_typical_messages(rasa_server, text, intent):
    assert rasa_server.client().parse(text).intent == intent
