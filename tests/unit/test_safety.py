"""The danger detector: the lexicon in data/danger.yml, and the NLU's emergency intent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety import Danger, DangerDetector
from nlu.client import Parse

DETECTOR = DangerDetector.load(Path(__file__).parents[2] / "data" / "danger.yml")


@pytest.mark.parametrize(
    "text",
    [
        "my house is on fire",
        "There's a fire in the kitchen",
        "someone got shot",
        "someone was stabbed",
        "he is not breathing",
        "my kid isn't breathing",
        "someone is breaking in",
        "I smell gas",
        "a man has a gun",
        "call 911",
        "my neighbor overdosed",
        "someone is overdosing",
        # the shapes: no fire, 911, help, emergency, police or ambulance
        "a guy is lying on the pavement and he's not breathing",
        "somebody is breaking into the house across the street right now",
        "flames coming out of the second floor windows",
        "a car just hit a cyclist right in front of me",
        "black smoke pouring out of the apartment next door",
        "my son is missing, he was at the playground 10 min ago",
        "a kid fell through the ice on the pond",
        "guy waving a knife at people at the bus stop",
    ],
)
def test_clear_dangers(text):
    assert DETECTOR.lexicon(text).level == Danger.CLEAR


@pytest.mark.parametrize(
    "text",
    [
        "there's a fire hydrant leaking",
        "there is a fire lane blocked",
        "fire hydrant is open",
        "the streetlight is out",
        "the fire station siren is loud",
        "there's a fire pit burning next door",
        "power is out",
        "car parked in the fire lane",
        "pothole on fire lane",
        "truck parked on fire lane",
        "a car hit the traffic light last week and it's still bent",
        "my smoke detector needs a battery",
        "the gas meter cover is cracked",
        "there's a film shoot with fake gunshots on Main St",
        "that pothole is a killer, it wrecked my tire",
        "dead raccoon in the road on Elm St",
        "the water main is spraying all over Oak Ave",
        "hole in the rode on elm",
        "snow emergency parking rules",
    ],
)
def test_routine_problems_that_sound_alarming(text):
    assert DETECTOR.lexicon(text).level == Danger.NONE


def test_a_danger_in_the_past_is_only_possible():
    assert DETECTOR.lexicon("the house fire last month left a burned shell").level < Danger.CLEAR


def test_a_look_alike_does_not_hide_a_real_danger():
    text = "the fire hydrant is leaking and the house next to it is on fire"
    assert DETECTOR.lexicon(text).level == Danger.CLEAR


def _parse(intent: str, confidence: float, emergency: float) -> Parse:
    ranking = [{"name": intent, "confidence": confidence}]
    ranking.append({"name": "emergency", "confidence": emergency})
    return Parse(intent, confidence, [], ranking)


def test_the_nlu_emergency_intent_counts_below_the_fallback_threshold():
    text = "something bad is happening to my neighbour"
    fallback = Parse("nlu_fallback", 0.6, [], [{"name": "nlu_fallback", "confidence": 0.6}])
    fallback.ranking.append({"name": "emergency", "confidence": 0.65})
    assert DETECTOR.assess(text, fallback).level == Danger.CLEAR
    assert DETECTOR.assess(text, _parse("out_of_scope", 0.5, 0.45)).level == Danger.POSSIBLE
    assert DETECTOR.assess(text, _parse("out_of_scope", 0.9, 0.05)).level == Danger.NONE
    assert DETECTOR.assess(text, None).level == Danger.NONE


def test_every_pattern_compiles_and_the_file_is_complete():
    for group in DETECTOR.danger.values():
        assert group.pattern
    assert DETECTOR.safe.search("fire hydrant") and DETECTOR.past.search("last week")


# Defects found in review: each of these was misread by the lexicon.
@pytest.mark.parametrize(
    "text",
    [
        # asking for the fire department: the look-alike "fire department" was blanked first
        "call the fire department",
        "someone call the fire dept",
        "we need the fire department now",
        # someone dangerous "still there" is happening now, not a past marker
        "the guy with the gun is still there",
        "hes still there and he has a knife",
        # the English rob- words stay robberies
        "someone is robbing the store",
        "there are robbers in the store",
        "he robs people at the bus stop",
        # ... and the Spanish ones the English prefix used to catch
        "estan robando la casa de al lado",
    ],
)
def test_review_defects_clear(text):
    assert DETECTOR.lexicon(text).level == Danger.CLEAR


def test_someone_still_there_is_not_in_the_past():
    found = DETECTOR.lexicon("the man who broke in is still there")
    assert found.level == Danger.POSSIBLE and found.reason != "past"


@pytest.mark.parametrize(
    "text",
    [
        "the smoke alarm is going off",
        "the smoke alarms are going off",
        "the smoke detectors keep going off",
        "all the fire alarms are going off in the building",
    ],
)
def test_alarms_going_off_ask_singular_or_plural(text):
    assert DETECTOR.lexicon(text).level >= Danger.POSSIBLE


@pytest.mark.parametrize(
    "text",
    [
        # an explanation that names a look-alike still explains
        "sounded like gunshots but it was just fireworks",
        "heard shots outside, it was just some fireworks",
        "sounded like gunshots but it was just nail guns",
        "escuche balazos pero eran solo cohetes",
        # names and words that only start like "rob"
        "Robert from upstairs keeps parking in my spot",
        "is this a robot can i get a person",
        "the robot mower from the park is in the street",
        "a robin is stuck in my chimney",
        "we need a more robust snow plan",
        "no quiero hablar con un robot",
        # things, not people, "still there"
        "that pothole on canal st is still there and its worse",
        "the car that crashed into the fence is still there",
        "does the city install smoke alarms for seniors",
        "when is the fire department open house this year",
    ],
)
def test_review_defects_not_clear(text):
    assert DETECTOR.lexicon(text).level < Danger.CLEAR
