"""In-memory units of work for fast handler tests, each held to its MongoDB twin: every
handler test runs on both (the `backend` fixture of tests/<service>/conftest.py)."""
