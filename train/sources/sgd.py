"""Schema-Guided Dialogue turns as extraction rows: a user turn (alone, or with the two turns
before it) is the text, a service's slots are the schema, and the slot values the text states
are the expected JSON.

SGD (``../shared/corpora/sgd``, DSTC8, CC BY-SA 4.0, a 1/16 subsample) annotates task dialogues
with services (``schema.json``: slots with descriptions, categorical slots with possible values),
slot spans in user and system utterances, user actions, and the dialogue state after each user
turn. One row is made per user turn and frame (service) of that turn:

- **Text.** The user utterance alone; for about one turn in four (chosen by a hash of dialogue
  id and turn index) the last up-to-3 turns as lines ``User: ...`` / ``System: ...``.
- **Expected.** Only what the text *states*. A non-categorical slot takes the exact substring of
  a span (``slots[].start/exclusive_end``) in an included utterance, user or system, whose value
  is in the dialogue state after the turn (so an option the system merely offered, or a value
  the user replaced, is not taken; the latest span wins). A categorical slot takes the canonical
  value of the user's latest ``INFORM`` in the included user turns, when it is one of the slot's
  possible values and the state holds it (in dialogue-context rows also the system's
  ``CONFIRM``/``OFFER``/``INFORM`` of such a value: "Reservation for 2, ..."). Values only
  carried over from turns outside the text are left out, which gives many rows whose target is
  empty or partial; three in four rows with an empty target are dropped (by a hash), the rest
  teach the model to answer ``{}``.
- **Schema.** The service's slots as string properties with the slot's description; categorical
  slots get an ``enum`` of possible values, and ``"True"``/``"False"`` slots become booleans.
  Nothing is required. To vary schemas, each row keeps the slots of its target plus a random
  sample of the others (at least 3 properties, or all when fewer), and about 30 % of rows drop
  the descriptions; the choices are seeded by the row key.
- **Split.** ``train`` reads ``sgd/train``; ``dev`` reads ``sgd/dev`` and keeps only the services
  absent from train's ``schema.json`` (8 of the 17 dev services), so dev schemas are unseen.
  ``schema_id`` is ``sgd/<service>``; ``key`` is ``<dialogue_id>/<turn index>/<service>``.

Every row is returned (about 7,000 user turns in train); the mixture builder samples.
"""

from __future__ import annotations

import json
import random
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from train.sources import check_split, in_text, make_row

__all__ = ["rows", "convert", "service_schema", "dev_services"]

SOURCE = "sgd"
CONTEXT_TURNS = 3
MIN_PROPERTIES = 3
P_NO_DESCRIPTION = 0.3
P_KEEP_EMPTY = 0.25
_BOOLEAN = frozenset({"True", "False"})
# Acts whose categorical values a turn states: the user informs; the system (included only in
# dialogue-context rows) confirms, offers or informs.
_USER_ACTS = frozenset({"INFORM"})
_SYSTEM_ACTS = frozenset({"INFORM", "CONFIRM", "OFFER"})


def _load(path: Path) -> Any:
    """The JSON content of ``path``."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _services(folder: Path) -> dict[str, dict[str, Any]]:
    """The services of a split's ``schema.json``, by name."""
    return {s["service_name"]: s for s in _load(folder / "schema.json")}


def dev_services(root: Path) -> list[str]:
    """The dev services absent from train's ``schema.json`` (the ones dev rows use), sorted."""
    train = _services(Path(root) / "train")
    return sorted(name for name in _services(Path(root) / "dev") if name not in train)


def _is_boolean(slot: dict[str, Any]) -> bool:
    """Whether a categorical slot's possible values are exactly ``"True"`` and ``"False"``."""
    return bool(slot.get("is_categorical")) and set(slot.get("possible_values", [])) == _BOOLEAN


def _property(slot: dict[str, Any], description: bool) -> dict[str, Any]:
    """The JSON Schema of one slot."""
    out: dict[str, Any]
    if _is_boolean(slot):
        out = {"type": "boolean"}
    else:
        out = {"type": "string"}
        if slot.get("is_categorical") and slot.get("possible_values"):
            out["enum"] = list(slot["possible_values"])
    if description and slot.get("description"):
        out["description"] = slot["description"]
    return out


def service_schema(service: dict[str, Any], names: list[str] | None = None,
                   description: bool = True) -> dict[str, Any]:
    """A service's slots (all, or those in ``names``, in the service's order) as an object
    schema of optional properties."""
    keep = None if names is None else set(names)
    return {"type": "object",
            "properties": {s["name"]: _property(s, description) for s in service["slots"]
                           if keep is None or s["name"] in keep},
            "additionalProperties": False}


def _frame(turn: dict[str, Any], service: str) -> dict[str, Any] | None:
    """The frame of ``service`` in ``turn``, if any."""
    for frame in turn.get("frames", []):
        if frame.get("service") == service:
            return frame
    return None


def _target(turns: list[dict[str, Any]], state: dict[str, list[str]],
            slots: dict[str, dict[str, Any]], service: str) -> dict[str, Any]:
    """The slot values that the included ``turns`` state and the dialogue ``state`` holds.

    Non-categorical slots come from spans, categorical ones from the acts of
    :data:`_USER_ACTS`/:data:`_SYSTEM_ACTS`. Later turns and later spans override earlier ones,
    so the value is the latest mention.
    """
    found: dict[str, Any] = {}
    for turn in turns:
        frame = _frame(turn, service)
        if frame is None:
            continue
        utterance = turn["utterance"]
        for span in frame.get("slots", []):
            slot = slots.get(span.get("slot", ""))
            if slot is None or slot.get("is_categorical"):
                continue
            value = utterance[span["start"]:span["exclusive_end"]]
            held = {v.strip().lower() for v in state.get(slot["name"], [])}
            if value.strip() and value.strip().lower() in held:
                found[slot["name"]] = value.strip()
        acts = _USER_ACTS if turn["speaker"] == "USER" else _SYSTEM_ACTS
        for action in frame.get("actions", []):
            slot = slots.get(action.get("slot", ""))
            if action.get("act") not in acts or slot is None or not slot.get("is_categorical"):
                continue
            values = [v for v in action.get("canonical_values", [])
                      if v in slot.get("possible_values", []) and v in state.get(slot["name"], [])]
            if values:
                found[slot["name"]] = (values[0] == "True") if _is_boolean(slot) else values[0]
    return found


def _text(turns: list[dict[str, Any]], context: bool) -> str:
    """The utterance of the last turn, or all turns as ``User: ...``/``System: ...`` lines."""
    if not context:
        return turns[-1]["utterance"].strip()
    return "\n".join(f"{'User' if t['speaker'] == 'USER' else 'System'}: {t['utterance'].strip()}"
                     for t in turns)


def _hash(text: str) -> int:
    """A stable hash of ``text``."""
    return zlib.crc32(text.encode("utf-8"))


def _schema(service: dict[str, Any], target: dict[str, Any], rng: random.Random
            ) -> dict[str, Any]:
    """The row's schema: the target's slots plus a random sample of the others (at least
    :data:`MIN_PROPERTIES` in all), with descriptions in about 70 % of rows."""
    names = [s["name"] for s in service["slots"]]
    others = [n for n in names if n not in target]
    low = min(len(names), max(MIN_PROPERTIES, len(target)))
    size = rng.randint(low, len(names))
    chosen = list(target) + rng.sample(others, size - len(target))
    return service_schema(service, chosen, description=rng.random() >= P_NO_DESCRIPTION)


def _dialogue_rows(dialogue: dict[str, Any], services: dict[str, dict[str, Any]],
                   drops: Counter[str]) -> list[dict[str, Any]]:
    """The rows of one dialogue, counting dropped ones in ``drops``."""
    out = []
    turns = dialogue["turns"]
    for index, turn in enumerate(turns):
        if turn.get("speaker") != "USER":
            continue
        context = _hash(f"{dialogue['dialogue_id']}/{index}") % 4 == 0
        included = turns[max(0, index - CONTEXT_TURNS + 1):index + 1] if context else [turn]
        text = _text(included, context)
        for frame in turn.get("frames", []):
            name = frame.get("service", "")
            service = services.get(name)
            if service is None:
                drops["other_service"] += 1
                continue
            key = f"{dialogue['dialogue_id']}/{index}/{name}"
            slots = {s["name"]: s for s in service["slots"]}
            state = frame.get("state", {}).get("slot_values", {})
            target = _target(included, state, slots, name)
            if any(isinstance(v, str) and "enum" not in _property(slots[k], False)
                   and not in_text(v, text) for k, v in target.items()):
                drops["span_not_in_text"] += 1
                continue
            rng = random.Random(f"{SOURCE}/{key}")
            if not target and rng.random() >= P_KEEP_EMPTY:
                drops["empty_target"] += 1
                continue
            schema = _schema(service, target, rng)
            expected = {k: target[k] for k in schema["properties"] if k in target}
            if not Draft202012Validator(schema).is_valid(expected):
                drops["invalid"] += 1
                continue
            out.append(make_row(SOURCE, key, name, schema, text, expected))
    return out


def convert(root: Path, split: str) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The mixture rows of one split and the number of dropped rows (or frames) per reason.

    Raises:
        ValueError: for an unknown split.
        FileNotFoundError: when the split's folder or ``schema.json`` is missing.
    """
    check_split(split)
    root = Path(root)
    folder = root / split
    services = _services(folder)
    if split == "dev":
        services = {k: v for k, v in services.items() if k in set(dev_services(root))}
    drops: Counter[str] = Counter()
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("dialogues_*.json")):
        for dialogue in _load(path):
            out.extend(_dialogue_rows(dialogue, services, drops))
    return out, drops


def rows(root: Path, split: str) -> list[dict[str, Any]]:
    """The mixture rows of SGD for ``split`` (``"train"`` or ``"dev"``; dev keeps only the
    services that train does not have).

    Raises:
        ValueError: for an unknown split.
        FileNotFoundError: when the split's folder or ``schema.json`` is missing.
    """
    return convert(root, split)[0]
