"""Parse texts with a trained model the way `rasa run` answers /model/parse (Rasa env only).

Run as `.venv-rasa/bin/python nlu/parse_offline.py MODEL TEXTS.json OUT.json`: Agent.parse_message
is what the server's /model/parse calls, so the FallbackClassifier (threshold and ambiguity)
applies exactly as for the running bot, which `rasa test nlu` undoes.
"""

import asyncio
import json
import sys


async def main(model: str, texts_path: str, out_path: str) -> None:
    """Load the model once and write one prediction (intent, confidence, top 4) per text."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    with open(texts_path, encoding="utf-8") as fh:
        texts = json.load(fh)
    rows = []
    for text in texts:
        result = await agent.parse_message(text)
        intent = result.get("intent") or {}
        ranking = [
            {"name": r["name"], "confidence": float(r["confidence"])}
            for r in (result.get("intent_ranking") or [])[:4]
        ]
        rows.append(
            {
                "text": text,
                "intent": intent.get("name"),
                "confidence": float(intent.get("confidence") or 0.0),
                "ranking": ranking,
            }
        )
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
