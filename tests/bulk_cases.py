"""Shared inputs of the bulk tests (tests/test_bulk.py, tests/test_workers.py): the contact
schema of examples/ and four short texts for it."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTACT_PATH = REPO / "examples" / "contact.json"
CONTACT = json.loads(CONTACT_PATH.read_text())
TEXTS = ["Reach Ada Lovelace at ada@example.com or +44 20 7946 0000.",
         "Grace Hopper, grace@navy.mil",
         "Charles Babbage, charles@example.com",
         "Alan Turing can be reached at alan@bletchley.uk."]
