"""Seed corpora for the libFuzzer targets in fuzz/, generated at run time (nothing large is kept
in the repository).

Usage:
    python fuzz/seeds.py [--out build-fuzz/seeds] [--maskbench ../shared/maskbench]
        [--max-bytes 8192] [--max-schemas 1500] [--generated 300] [--seed 0]

Writes one directory per target, one file per seed named by its content digest:

- ``schema/``: an options byte (0: compact whitespace, strict) then a compact JSON Schema: a
  fixed-seed sample of the MaskBench schemas (those of at most ``--max-bytes`` bytes), every
  schema of the conformance tables (tests/data/conformance) and ``--generated`` schemas from a
  small random generator (keywords, formats, patterns, boundary numbers, recursion through
  ``$defs``); the options byte varies over the generated ones;
- ``json/``: the MaskBench test instances and schemas, the conformance instances, and hand-made
  edge cases (escapes, surrogates, deep nesting, number spellings, invalid UTF-8);
- ``gbnf/``: hand-made grammars covering the GBNF syntax and, when the extension ``maaza_rt._core``
  is importable, the GBNF printed from a sample of the schema seeds;
- ``matcher/``: fixed-seed random byte strings (the target reads them as operation programs);
- ``grounding/``: everyday texts (as FuzzedDataProvider reads a string: backslashes doubled, then
  a backslash and another byte to end it), each followed by fixed-seed random bytes (literals,
  choices and operations), and random byte strings.

A missing MaskBench directory is reported and skipped: the other seeds still cover every target.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Config:
    out: str = str(REPO / "build-fuzz" / "seeds")
    maskbench: str = str(REPO.parent / "shared" / "maskbench")
    max_bytes: int = 8192  # larger schemas are left out (libFuzzer's -max_len is set to match)
    max_schemas: int = 1500  # MaskBench schemas kept (fixed-seed sample)
    generated: int = 300  # generated schemas
    max_gbnf: int = 300  # printed grammars kept
    max_json: int = 2000  # JSON texts kept (fixed-seed sample of the instances and schemas)
    seed: int = 0


JSON_EDGE_CASES = [
    b"null", b"true", b"false", b"0", b"-0", b"-0.0", b"1e308", b"1e309", b"-1E-400", b"0.1e+1",
    b"123456789012345678901", b'""', b'"\\u00e9\\ud83d\\ude00"', b'"\\ud800"', b'"\\udc00\\ud800"',
    b'"\\/\\b\\f\\n\\r\\t"', b'"\xc3\xa9"', b'"\xff"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"',
    b"[" * 600 + b"]" * 600, b'{"a":1,"a":2}', b'{"":{"":[]}}', b" \t\n\r[1 , 2 ]\n", b"[1,]",
    b"{,}", b"01", b"1.", b".5", b"+1", b"[1 2]", b'{"a" 1}', b"nul", b"\x00", b'"\x01"', b"[" * 10,
    b'{"k":"v"} trailing', b'text {"a": {"b": 2}} more {"c": 3}',
]

GBNF_SEEDS = [
    'root ::= "abc"',
    'root ::= "a" | "b" "c"',
    "root ::= [a-c]+ [^a-c]* .",
    'root ::= "x"? "y"{2,3} "z"{2,} "w"{,2} "v"{4}',
    'root ::= item ("," item)*\nitem ::= [0-9]+',
    'root ::= "[" (val ("," val)*)? "]"\nval ::= "1" | root',
    'root ::= "\\x41\\u00e9\\U0001F600\\n\\t\\"\\\\"',
    "root ::= [\\]\\-\\\\^]+ [é-ê] [\\x00-\\x1f]",
    '# comment\nroot ::= a # trailing\n\na ::= "q"\n',
    'root ::= ( "a"\n  "b" ) | ""',
    'root ::= ("a"?)* "b"',
    'root ::= obj\nobj ::= "{" ws (pair ("," ws pair)*)? "}"\npair ::= str ":" ws val\n'
    'val ::= str | [0-9]+ | obj\nstr ::= "\\"" [^"\\\\]* "\\""\nws ::= [ \\t\\n]*',
]

TYPES = ["string", "integer", "number", "boolean", "null", "array", "object"]
FORMATS = ["date-time", "date", "time", "email", "uuid", "ipv4", "uri", "hostname",
           "uri-reference", "json-pointer", "ipv6"]
PATTERNS = ["^[a-z]+$", "^\\d{3}-\\d{4}$", "a|b", "^(ab)*c?$", "^.{2,5}$", "^[A-Z][a-z]*$",
            "^\\w+@\\w+\\.com$", "^(a|b|c){1,3}$", "x{2,}", "^[^\\s]+$"]
NUMBERS: list[Any] = [0, 1, -1, 2, 10, 0.5, -2.5, 100, 1e2, 255, 9007199254740993]
KEYS = ["a", "b", "name", "id", "é", "x y", "value", "items"]


def generate_schema(rng: random.Random, depth: int) -> Any:
    """A random schema at most ``depth`` levels deep: one JSON type with its keywords, a
    combinator, an enum or const, or a reference into ``$defs``."""
    if depth <= 0 or rng.random() < 0.15:
        return rng.choice([True, {}, {"type": rng.choice(TYPES)}])
    kind = rng.randrange(9)
    if kind == 0:
        s: dict[str, Any] = {"type": "string"}
        if rng.random() < 0.5:
            s["minLength"] = rng.choice([0, 1, 3])
        if rng.random() < 0.5:
            s["maxLength"] = rng.choice([1, 5, 20])
        if rng.random() < 0.3:
            s["pattern"] = rng.choice(PATTERNS)
        elif rng.random() < 0.3:
            s["format"] = rng.choice(FORMATS)
        return s
    if kind in (1, 2):
        s = {"type": "integer" if kind == 1 else "number"}
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if rng.random() < 0.3:
                s[key] = rng.choice(NUMBERS)
        return s
    if kind == 3:
        s = {"type": "array", "items": generate_schema(rng, depth - 1)}
        if rng.random() < 0.4:
            s["minItems"] = rng.choice([0, 1, 2])
        if rng.random() < 0.4:
            s["maxItems"] = rng.choice([1, 3, 10])
        if rng.random() < 0.2:
            s["prefixItems"] = [generate_schema(rng, depth - 1) for _ in range(rng.randint(1, 3))]
        return s
    if kind in (4, 5):
        keys = rng.sample(KEYS, rng.randint(1, 4))
        s = {"type": "object", "properties": {k: generate_schema(rng, depth - 1) for k in keys}}
        s["required"] = [k for k in keys if rng.random() < 0.5]
        if rng.random() < 0.5:
            s["additionalProperties"] = rng.choice([False, True, generate_schema(rng, 1)])
        return s
    if kind == 6:
        key = rng.choice(["anyOf", "oneOf", "allOf"])
        return {key: [generate_schema(rng, depth - 1) for _ in range(rng.randint(1, 3))]}
    if kind == 7:
        values = [rng.choice(NUMBERS + KEYS + [None, True, [1, "a"], {"k": 1}]) for _ in range(3)]
        return {"enum": values} if rng.random() < 0.7 else {"const": values[0]}
    node = {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}},
            "required": ["v"]}
    return {"$defs": {"node": node, "leaf": generate_schema(rng, depth - 1)},
            "anyOf": [{"$ref": "#/$defs/node"}, {"$ref": "#/$defs/leaf"}]}


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Corpus:
    """One target's seed directory; seeds are deduplicated by content."""

    def __init__(self, root: Path, name: str) -> None:
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def add(self, data: bytes) -> None:
        path = self.dir / hashlib.sha1(data).hexdigest()[:16]
        if not path.exists():
            path.write_bytes(data)
            self.count += 1


def maskbench_files(cfg: Config) -> list[Path]:
    root = Path(cfg.maskbench)
    if not root.is_dir():
        print(f"seeds: no MaskBench at {root}; skipped", file=sys.stderr)
        return []
    return sorted(root.glob("*.json"))


def schema_seeds(cfg: Config, rng: random.Random) -> tuple[list[str], list[str]]:
    """Compact schema texts (MaskBench sample and conformance tables) and JSON instance texts."""
    schemas: list[str] = []
    instances: list[str] = []
    files = maskbench_files(cfg)
    rng.shuffle(files)
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        text = compact(doc.get("schema"))
        instances += [compact(t.get("data")) for t in doc.get("tests", [])[:2]]
        if len(text) < cfg.max_bytes and len(schemas) < cfg.max_schemas:
            schemas.append(text)
    for path in sorted((REPO / "tests" / "data" / "conformance").glob("draft*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).get("cases", []):
            schemas.append(compact(case["schema"]))
            instances += [compact(v) for v in case.get("valid", []) + case.get("invalid", [])]
    return schemas, instances


def printed_grammars(schemas: list[str], limit: int) -> list[str]:
    """GBNF printed by the extension for the first schemas it compiles (none without it)."""
    try:
        from maaza_rt import Grammar, MaazaError
    except ImportError as e:
        print(f"seeds: maaza_rt not importable ({e}); no printed grammars", file=sys.stderr)
        return []
    out: list[str] = []
    for text in schemas:
        if len(out) >= limit:
            break
        try:
            out.append(Grammar.from_json_schema(text).to_gbnf())
        except MaazaError:
            continue
    return out


# Texts for the grounding target: labelled lines, prose with numbers in several spellings,
# quotes, escapes, a tab, a line break and non-ASCII letters.
GROUNDING_TEXTS = [
    "Invoice INV-2291 from Acme Corp, total due $1,240.50 by March 3, 2025.",
    "Name: Ada Lovelace\nEmail: ada@example.com\nAge: 36",
    "Sensor T-17 reported 81.4 C at 14:02 on 2024-07-01; status critical.",
    'He said "ship it" \\ then left.\tQty: -3, price .5, total 1e3',
    "Café Zürich, 12 rue de la Paix — 3 items: bread, apples, 2.50 EUR",
    "",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in dataclasses.fields(Config):
        p.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    cfg = Config(**vars(p.parse_args(argv)))
    rng = random.Random(cfg.seed)
    out = Path(cfg.out)
    corpora = {name: Corpus(out, name)
               for name in ("schema", "json", "gbnf", "matcher", "grounding")}

    schemas, instances = schema_seeds(cfg, rng)
    for text in schemas:
        corpora["schema"].add(b"\x00" + text.encode())
    for _ in range(cfg.generated):
        text = compact(generate_schema(rng, rng.randint(1, 4)))
        corpora["schema"].add(bytes([rng.randrange(256)]) + text.encode())
    texts = [t.encode() for t in instances + schemas]
    texts = [t for t in texts if len(t) <= cfg.max_bytes]
    for data in rng.sample(texts, min(len(texts), cfg.max_json)) + JSON_EDGE_CASES:
        corpora["json"].add(data)
    for text in GBNF_SEEDS + printed_grammars(schemas, cfg.max_gbnf):
        data = text.encode()
        if len(data) <= cfg.max_bytes:
            corpora["gbnf"].add(data)
    for _ in range(64):
        corpora["matcher"].add(bytes(rng.randrange(256) for _ in range(rng.randint(16, 512))))
    for text in GROUNDING_TEXTS:
        for _ in range(4):
            tail = bytes(rng.randrange(256) for _ in range(rng.randint(32, 256)))
            corpora["grounding"].add(text.encode().replace(b"\\", b"\\\\") + b"\\ " + tail)
    for _ in range(32):
        corpora["grounding"].add(bytes(rng.randrange(256) for _ in range(rng.randint(16, 512))))

    for name, corpus in corpora.items():
        print(f"seeds: {corpus.count} new in {corpus.dir} ({name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
