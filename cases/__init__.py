"""The case store: cases, conversations, turns and opt-outs (SQLAlchemy 2, typed models)."""
