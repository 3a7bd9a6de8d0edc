"""The one prompt template: how a text and a schema become model input, and the target output.

The runtime and the trainer both use this module, so a fine-tuned model sees at inference exactly
what it saw in training. A prompt has two parts: ``prefix`` depends only on the schema (its KV
cache is reused across texts) and ``suffix`` holds the input text; the model's JSON follows the
suffix. Token ids are always produced by :func:`encode_prompt`.

Chat-tuned models get their own chat template (GGUF metadata ``tokenizer.chat_template``,
rendered with jinja2 around a sentinel that marks where the text goes); base models get a plain
template. The instruction text is defined once, in :data:`INSTRUCTION`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from .schema_view import resolve_ref_or_none

logger = logging.getLogger("maaza_rt")

INSTRUCTION = (
    "Extract the data from the text as one JSON object that follows the schema. "
    "Copy values from the text; leave out optional fields that the text does not give."
)

# Marks the place of the input text while rendering a chat template; never appears in real input.
_SENTINEL = "\x00MAAZA_TEXT\x00"
_MAX_DESCRIPTION = 60


@dataclass(frozen=True)
class Prompt:
    """Model input in two parts.

    Attributes:
        prefix: depends only on the schema and template; its KV cache is reused across texts.
        suffix: holds the input text; the model's JSON follows it.
    """

    prefix: str
    suffix: str


# ---- schema rendering -------------------------------------------------------------------------


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 3].rstrip() + "..."


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Renderer:
    """Renders a schema as compact, TypeScript-like lines: ``name?: type // description``."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.expanding: list[str] = []

    def type_of(self, node: Any, indent: int) -> str:
        if node is True or node is None or node == {}:
            return "any"
        if node is False:
            return "never"
        if not isinstance(node, dict):
            return "any"
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in self.expanding:
                return ref.rsplit("/", 1)[-1] or "any"
            target = resolve_ref_or_none(self.root, ref)  # described by its name
            if target is None:
                return ref.rsplit("/", 1)[-1] or "any"
            self.expanding.append(ref)
            try:
                return self.type_of(target, indent)
            finally:
                self.expanding.pop()
        if "const" in node:
            return _literal(node["const"])
        if isinstance(node.get("enum"), list):
            return "|".join(_literal(v) for v in node["enum"])
        for key, sep in (("anyOf", "|"), ("oneOf", "|"), ("allOf", " & ")):
            if isinstance(node.get(key), list) and node[key]:
                return sep.join(self.type_of(sub, indent) for sub in node[key])
        types = node.get("type")
        if isinstance(types, list):
            return "|".join(self.single(node, t, indent) for t in types if isinstance(t, str))
        if isinstance(types, str):
            return self.single(node, types, indent)
        if "properties" in node:
            return self.single(node, "object", indent)
        if "items" in node:
            return self.single(node, "array", indent)
        return "any"

    def single(self, node: dict, kind: str, indent: int) -> str:
        if kind == "object":
            return self.obj(node, indent)
        if kind == "array":
            items = node.get("items")
            inner = self.type_of(items, indent) if items is not None else "any"
            text = f"{inner}[]" if inner.isidentifier() else f"[{inner}]"
            bounds = self.bounds(node, "minItems", "maxItems", "items")
            return f"{text} {bounds}" if bounds else text
        text = kind
        if kind == "string" and isinstance(node.get("format"), str):
            text += f"({node['format']})"
        bounds = (self.bounds(node, "minimum", "maximum", "")
                  if kind in ("integer", "number")
                  else self.bounds(node, "minLength", "maxLength", "chars"))
        return f"{text} {bounds}" if bounds else text

    @staticmethod
    def bounds(node: dict, lo_key: str, hi_key: str, unit: str) -> str:
        lo, hi = node.get(lo_key), node.get(hi_key)
        if lo is None and hi is None:
            return ""
        text = f"{_literal(lo) if lo is not None else ''}..{_literal(hi) if hi is not None else ''}"
        return f"{text} {unit}".rstrip()

    def obj(self, node: dict, indent: int) -> str:
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            return "object"
        required = node.get("required") if isinstance(node.get("required"), list) else []
        pad = " " * (indent + 1)
        lines = ["{"]
        for name, sub in props.items():
            mark = "" if name in required else "?"
            line = f"{pad}{name}{mark}: {self.type_of(sub, indent + 1)}"
            desc = sub.get("description") if isinstance(sub, dict) else None
            if isinstance(desc, str) and desc.strip():
                line += f" // {_short(desc)}"
            lines.append(line)
        lines.append(" " * indent + "}")
        return "\n".join(lines)


def render_schema(schema: dict) -> str:
    """Renders a JSON Schema compactly for the prompt.

    One line per property: name, ``?`` when optional, type (enums as literals, formats, numeric
    and length bounds, nested objects and arrays), and a short description. Local ``$ref``\\ s are
    resolved; a recursive reference is shown by its definition name.
    """
    return _Renderer(schema).type_of(schema, 0)


# ---- prompt -----------------------------------------------------------------------------------


def _user_message(schema: dict) -> str:
    return f"{INSTRUCTION}\n\nSchema:\n{render_schema(schema)}\n\nText:\n{_SENTINEL}"


def _render_chat(chat_template: str, content: str, bos_token: str, eos_token: str) -> str:
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(chat_template)
    return template.render(
        messages=[{"role": "user", "content": content}],
        add_generation_prompt=True,
        bos_token=bos_token,
        eos_token=eos_token,
    )


def build_prompt(text: str, schema: dict, chat_template: str | None = None, *,
                 bos_token: str = "", eos_token: str = "") -> Prompt:
    """Builds the prompt for extracting ``schema`` from ``text``.

    With ``chat_template`` (a jinja2 chat template, as stored in GGUF metadata) the instruction,
    schema and text form one user message and the template's generation prompt ends the suffix.
    Without it a plain template is used (for base models). ``bos_token``/``eos_token`` are the
    strings the chat template may reference.

    Raises:
        ValueError: the chat template fails to render or drops the text.
    """
    if chat_template:
        try:
            rendered = _render_chat(chat_template, _user_message(schema), bos_token, eos_token)
        except Exception as e:  # jinja2 raises many types
            raise ValueError(f"the model's chat template failed to render: {e}") from e
        if rendered.count(_SENTINEL) != 1:
            raise ValueError("the model's chat template does not keep the message text intact")
        prefix, suffix = rendered.split(_SENTINEL)
        return Prompt(prefix=prefix, suffix=text + suffix)
    prefix = _user_message(schema).replace(_SENTINEL, "")
    return Prompt(prefix=prefix, suffix=f"{text}\n\nJSON:\n")


def encode_prompt(prompt: Prompt, tokenize: Callable[[str, bool], list[int]], *,
                  add_bos: bool, bos_token: str = "") -> list[int]:
    """The model input token ids: ``tokenize(prefix) + tokenize(suffix)``.

    ``tokenize(text, add_special)`` must parse special tokens (``<|im_start|>``...) in ``text``
    and add the BOS token when ``add_special`` is true. The prefix gets a BOS token when the model
    wants one (``add_bos``) and the rendered prefix does not already start with ``bos_token``;
    the suffix never does. Training and inference both call this function.
    """
    has_bos = bool(bos_token) and prompt.prefix.startswith(bos_token)
    return list(tokenize(prompt.prefix, add_bos and not has_bos)) + list(
        tokenize(prompt.suffix, False))


# ---- target -----------------------------------------------------------------------------------


def _ordered(value: Any, node: Any, root: Any, depth: int = 0) -> Any:
    if depth > 64 or not isinstance(node, dict):
        return value
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = resolve_ref_or_none(root, ref)  # keeps the value as it is
        return _ordered(value, target, root, depth + 1) if target is not None else value
    if isinstance(value, dict):
        props = node.get("properties")
        if not isinstance(props, dict):
            for key in ("anyOf", "oneOf", "allOf"):
                for sub in node.get(key) or []:
                    if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                        return _ordered(value, sub, root, depth + 1)
            return value
        out = {k: _ordered(value[k], props[k], root, depth + 1) for k in props if k in value}
        for k, v in value.items():
            if k not in out:
                out[k] = v
        return out
    if isinstance(value, list):
        items = node.get("items")
        if isinstance(items, dict):
            return [_ordered(v, items, root, depth + 1) for v in value]
        for key in ("anyOf", "oneOf"):
            for sub in node.get(key) or []:
                if isinstance(sub, dict) and isinstance(sub.get("items"), dict):
                    return [_ordered(v, sub["items"], root, depth + 1) for v in value]
    return value


def completion_text(value: object, schema: dict) -> str:
    """The canonical output text for ``value``: compact JSON, object keys in ``properties`` order.

    This is what the grammar (compact whitespace) generates, and the training target (the
    trainer appends the EOS token).
    """
    return json.dumps(_ordered(value, schema, schema), ensure_ascii=False, separators=(",", ":"))


__all__ = [
    "INSTRUCTION",
    "Prompt",
    "build_prompt",
    "completion_text",
    "encode_prompt",
    "render_schema",
]
