"""Tests of the generator's domains: sizes, unique keys and labels, well-formed fields."""

from __future__ import annotations

import re

from train.sources.domains_dev import DEV_ONLY_DOMAINS
from train.sources.domains_life import LIFE_DOMAINS
from train.sources.domains_work import WORK_DOMAINS
from train.sources.fields import KINDS, FieldSpec, enum_members
from train.sources.generator import GENERIC_EXTRAS
from train.sources.values import TEXT_MAKERS

ALL = WORK_DOMAINS + LIFE_DOMAINS + DEV_ONLY_DOMAINS


def _check_field(spec: FieldSpec, where: str) -> None:
    assert spec.kind in KINDS, where
    assert re.fullmatch(r"[a-z][a-z0-9_]*", spec.key), where
    assert spec.labels and spec.prose, where
    if spec.kind == "bool":
        assert spec.neg, f"{where}: a boolean needs clauses for false"
        assert "yes" not in spec.prose
    elif spec.kind not in ("object",):
        assert all("{v}" in clause for clause in spec.prose), where
    if spec.kind in ("list", "rows"):
        assert spec.neg and all("{v}" not in c for c in spec.neg), where
    if spec.kind == "enum":
        members = enum_members(spec)
        assert len(members) >= 2, where
        words = [m.lower() for m, syn in members] + [s.lower() for _, syn in members for s in syn]
        assert len(words) == len(set(words)), f"{where}: enum synonyms must be distinct"
    if spec.kind == "text":
        assert spec.opt("pool") or spec.opt("pattern") or spec.opt("maker") in TEXT_MAKERS, where
    if spec.kind in ("object", "rows"):
        assert spec.subs and len({s.key for s in spec.subs}) == len(spec.subs), where
        for sub in spec.subs:
            _check_field(sub, f"{where}.{sub.key}")


def test_domains_sizes_and_names() -> None:
    assert len(ALL) >= 25
    assert len(DEV_ONLY_DOMAINS) == 5
    assert len({d.name for d in ALL}) == len(ALL)
    for domain in ALL:
        assert 6 <= len(domain.fields) <= 15, domain.name
        assert domain.titles and domain.subjects and domain.openers and domain.closers
        keys = [spec.key for spec in domain.fields]
        assert len(keys) == len(set(keys)), domain.name
        assert not domain.writer or domain.writer in keys, domain.name


def test_domains_fields_well_formed() -> None:
    for domain in ALL:
        for spec in domain.fields:
            _check_field(spec, f"{domain.name}.{spec.key}")


def test_domains_labels_unique_within_domain() -> None:
    """Two facts of one text never share a label, so each value is attributable (fields of one
    group never meet in a text)."""
    for domain in ALL:
        owner: dict[str, str] = {}
        for spec in list(domain.fields) + list(GENERIC_EXTRAS.values()):
            for label in spec.labels:
                who = spec.group or spec.key
                assert owner.setdefault(label.lower(), who) == who, (domain.name, label)


def test_domains_dev_vocabulary_differs() -> None:
    train_keys = {spec.key for d in WORK_DOMAINS + LIFE_DOMAINS for spec in d.fields}
    dev_keys = {spec.key for d in DEV_ONLY_DOMAINS for spec in d.fields}
    assert len(dev_keys - train_keys) >= 0.5 * len(dev_keys)
