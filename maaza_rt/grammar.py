"""Grammar engine API: compiled grammars and per-sequence matchers (token vocabularies are in
:mod:`maaza_rt.vocabulary`).

These are thin handles over the native core (``maaza_rt._core``): a :class:`Grammar` is immutable
and may be shared between threads; a :class:`Vocabulary` too; a :class:`GrammarMatcher` follows
one sequence and is not thread-safe. Heavy calls (masks) release the GIL.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from . import _core
from .schema_view import SchemaText
from .vocabulary import Vocabulary


# End-of-generation token texts llama.cpp recognises by name (besides the ids in the metadata).
class Grammar:
    """A compiled grammar: immutable, thread-safe, shareable between matchers.

    Attributes:
        ignored: "keyword at pointer" for each schema keyword ignored in lenient mode.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    @staticmethod
    def from_json_schema(
        schema: SchemaText,
        *,
        whitespace: str = "compact",
        max_whitespace: int = 24,
        additional_properties: bool = False,
        lenient: bool = False,
        optional_timezone: bool = False,
        grounded: bool = False,
    ) -> Grammar:
        """Compiles a JSON Schema (a dict or bool, or its JSON text).

        Args:
            schema: the JSON Schema.
            whitespace: ``"compact"`` (no whitespace), ``"python"`` (``", "`` and ``": "``) or
                ``"flexible"`` (JSON whitespace, at most ``max_whitespace`` bytes per gap).
            max_whitespace: the per-gap cap in flexible mode.
            additional_properties: the value assumed where a schema leaves out
                ``additionalProperties`` (False keeps output to the declared properties; True
                follows the JSON Schema specification).
            lenient: ignore keywords that cannot be enforced (listed in :attr:`ignored`) instead
                of raising.
            optional_timezone: let ``date-time`` and ``time`` values leave out the time offset
                (``Z`` or ``+hh:mm``), which RFC 3339 requires: a departure from the
                specification, off by default, for data written without offsets (EdgeJSON's
                date-times have none).
            grounded: mark the values to ground in an input text: a string without ``enum``,
                ``const``, ``pattern``, ``format`` or ``maxLength`` (``minLength`` at most 1)
                and a number without ``enum`` or ``const``, unless its schema says
                ``"x-maaza-grounded": false``. A matcher bound to a text
                (:meth:`GrammarMatcher.bind_text`) then allows only values the text holds; an
                unbound one allows what the grammar does without grounding.

        Raises:
            SchemaError: the schema is malformed or uses a keyword that cannot be enforced.
            JsonError: ``schema`` is a string that is not valid JSON.
            ValueError: unknown ``whitespace`` style.
        """
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return Grammar(
            _core.Grammar.from_json_schema(
                text,
                whitespace=whitespace,
                max_whitespace=max_whitespace,
                additional_properties=additional_properties,
                lenient=lenient,
                optional_timezone=optional_timezone,
                grounded=grounded,
            )
        )

    @staticmethod
    def from_gbnf(text: str, root: str = "root") -> Grammar:
        """Parses a GBNF grammar (llama.cpp syntax) whose start rule is ``root``.

        Raises:
            GrammarError: syntax error, undefined rule, missing root or left recursion; carries
                ``line`` and ``column``.
        """
        return Grammar(_core.Grammar.from_gbnf(text, root))

    def to_gbnf(self) -> str:
        """The grammar as GBNF text that :meth:`from_gbnf` reads back to an equivalent grammar."""
        return str(self._handle.to_gbnf())

    @property
    def ignored(self) -> list[str]:
        return list(self._handle.ignored)

    @property
    def n_grounded(self) -> int:
        """How many grounded values the grammar has (0 unless compiled with ``grounded``)."""
        return int(self._handle.n_grounded)

    def __repr__(self) -> str:
        return f"Grammar(n_rules={self._handle.n_rules})"


class GrammarMatcher:
    """Parser state of one sequence under a grammar and a vocabulary. Not thread-safe.

    A rejected token or byte string is reported by a ``False`` return value and leaves the state
    unchanged. End-of-generation tokens are allowed exactly when :meth:`is_complete` is true.
    """

    __slots__ = ("_handle", "grammar", "vocab")

    def __init__(self, grammar: Grammar, vocab: Vocabulary) -> None:
        self.grammar = grammar
        self.vocab = vocab
        self._handle = _core.GrammarMatcher(grammar._handle, vocab._handle)

    def fill_mask(self, bitmask: np.ndarray) -> None:
        """Writes the allowed tokens into ``bitmask`` (uint32[ceil(n_vocab/32)], bit set = allowed).

        Raises:
            TypeError: wrong dtype.
            ValueError: not one-dimensional, not C-contiguous, read-only or too small.
        """
        self._handle.fill_mask(bitmask)

    def accept_token(self, token_id: int) -> bool:
        """Advances by one token; ``False`` (state unchanged) if it is not allowed."""
        return bool(self._handle.accept_token(token_id))

    def can_accept_token(self, token_id: int) -> bool:
        """Whether :meth:`accept_token` would accept the token (the state does not change)."""
        return bool(self._handle.can_accept_token(token_id))

    def accept_bytes(self, data: bytes) -> bool:
        """Advances by raw bytes; ``False`` (state unchanged) if they are not allowed."""
        return bool(self._handle.accept_bytes(data))

    def forced_bytes(self) -> bytes:
        """The unique continuation from here (at most 256 bytes), ``b""`` if there is a choice."""
        return bytes(self._handle.forced_bytes())

    def is_complete(self) -> bool:
        """The root value is complete: end-of-generation is allowed now."""
        return bool(self._handle.is_complete())

    def is_terminated(self) -> bool:
        """End-of-generation was accepted, or the value is complete and nothing may follow."""
        return bool(self._handle.is_terminated())

    def completion_distance(self) -> int:
        """The length in bytes of the shortest continuation that completes the value.

        0 when the value is already complete (or end-of-generation was accepted), -1 when no
        continuation completes it. Costs a few microseconds; the state is unchanged.
        """
        return int(self._handle.completion_distance())

    def completion_distance_after(self, token_id: int) -> int:
        """:meth:`completion_distance` as it would be after accepting ``token_id``.

        -1 if the token is not allowed; the state is unchanged.
        """
        return int(self._handle.completion_distance_after(token_id))

    def shortest_completion(self, max_bytes: int | None = None) -> bytes:
        """The shortest continuation that completes the value (``b""`` if it is complete).

        Accepting it (byte by byte or at once) makes :meth:`is_complete` true; its length is
        :meth:`completion_distance`. The grammar decides its content: strings reach their
        ``minLength`` with the smallest allowed characters, arrays get ``minItems`` minimal
        items, required properties appear, optional ones are left out. The state is unchanged.

        Raises:
            ValueError: the completion is longer than ``max_bytes``.
            InternalError: no continuation completes the value.
        """
        return bytes(self._handle.shortest_completion(-1 if max_bytes is None else max_bytes))

    def shortest_completion_after(self, token_id: int, max_bytes: int | None = None) -> bytes:
        """:meth:`shortest_completion` as it would be after accepting ``token_id``.

        The state is unchanged.

        Raises:
            ValueError: the completion is longer than ``max_bytes``.
            InternalError: the token is not allowed, or no continuation completes the value.
        """
        limit = -1 if max_bytes is None else max_bytes
        return bytes(self._handle.shortest_completion_after(token_id, limit))

    def reset(self) -> None:
        """Returns to the initial state."""
        self._handle.reset()

    def bind_text(self, text: str) -> None:
        """Grounds the grammar's grounded values in ``text`` and returns to the initial state.

        A grounded string must then be a substring of ``text`` once its JSON escapes are undone,
        either as written or with each run of whitespace written as one space
        (:mod:`maaza_rt.grounding_text`), not a mix of both; only the escapes ``\\"``,
        ``\\\\``, ``\\n``, ``\\t`` and ``\\r`` are accepted, so every value has one spelling. A
        grounded number must be one of the numbers ``text`` writes (thousands separators,
        currency signs and units left out; ``$1,240.50`` gives ``1240.5`` and ``1240.50``) that
        its schema also allows. Where ``text`` offers no such number (or no character, for a
        non-empty string), that value is not grounded (:meth:`grounded_active`). Building the
        binding is linear in the text.
        """
        from .grounding_text import collapse_whitespace, text_number_literals

        self._handle.bind_text(collapse_whitespace(text) + "\0" + text,
                               text_number_literals(text, False))

    def unbind(self) -> None:
        """Drops the text binding (grounded values allow what the grammar does) and resets."""
        self._handle.unbind()

    def grounded_active(self, slot: int) -> bool:
        """Whether grounded value ``slot`` (0 .. ``grammar.n_grounded - 1``, in schema order)
        is grounded under the current binding."""
        return bool(self._handle.slot_active(slot))

    def mask_logits(self, logits: np.ndarray) -> None:
        """Sets disallowed entries of ``logits`` (float32[>= n_vocab]) to ``-inf`` in place.

        Raises:
            TypeError: wrong dtype.
            ValueError: not one-dimensional, not C-contiguous, read-only or too small.
        """
        self._handle.mask_logits(logits)

    def select_greedy(self, logits: np.ndarray) -> int:
        """The allowed token with the highest logit (-1 if none); does not advance the state.

        Raises:
            TypeError: wrong dtype.
            ValueError: not one-dimensional, not C-contiguous or too small.
        """
        return int(self._handle.select_greedy(logits))


__all__ = ["Grammar", "GrammarMatcher", "Vocabulary"]
