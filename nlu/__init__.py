"""NLU: a small client for the Rasa server, plus training and evaluation around the rasa CLI."""
