"""Developer commands behind the Makefile (run, chat, bench, pipeline comparison)."""
