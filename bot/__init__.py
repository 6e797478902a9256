"""The dialogue engine: one turn = load state, understand, decide, save state, reply."""
