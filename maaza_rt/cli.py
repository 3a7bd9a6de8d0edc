"""The ``maaza-rt`` console script: extraction from the command line, and the model list.

    maaza-rt extract --schema S.json [--model M] [--max-tokens N] [--threads N] [--details]
                     [--html FILE] [--no-grounding] [TEXT | -]
    maaza-rt extract --schema S.json --jsonl IN [--out OUT] [...]
    maaza-rt extract --schema S.json --jsonl IN --out OUT (--workers N | --ray [ADDRESS]) [...]
    maaza-rt models

Exit codes: 0 success, 2 usage or schema error, 3 model error, 4 input too long, 5 generation
limit reached, 1 any other error. Errors print one line to stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from .errors import (
    GenerationLimitError,
    InputTooLongError,
    MaazaError,
    ModelError,
    SchemaError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_MODEL = 3
EXIT_TOO_LONG = 4
EXIT_LIMIT = 5


def exit_code(error: BaseException) -> int:
    """The exit status for an error raised during extraction."""
    if isinstance(error, (SchemaError, TypeError, ValueError)) and not isinstance(
            error, InputTooLongError):
        return EXIT_USAGE
    if isinstance(error, ModelError):
        return EXIT_MODEL
    if isinstance(error, InputTooLongError):
        return EXIT_TOO_LONG
    if isinstance(error, GenerationLimitError):
        return EXIT_LIMIT
    return EXIT_ERROR


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports usage errors as an exception instead of exiting."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="maaza-rt", description="Schema-valid JSON extraction on the CPU.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ex = sub.add_parser("extract", help="extract JSON from text")
    ex.add_argument("text", nargs="?", default=None,
                    help="the input text, or - (the default) to read it from stdin")
    ex.add_argument("--schema", required=True, help="path to a JSON Schema file")
    ex.add_argument("--model", default=None,
                    help="model name or .gguf path (default: $MAAZA_RT_MODEL or the default)")
    ex.add_argument("--max-tokens", type=int, default=1024, help="most tokens to generate")
    ex.add_argument("--threads", type=int, default=None, help="CPU threads (default: cores)")
    ex.add_argument("--n-ctx", type=int, default=None, help="largest context window to use")
    ex.add_argument("--details", action="store_true",
                    help="print token counts, timings, spans and confidence with the value")
    ex.add_argument("--html", default=None, metavar="FILE",
                    help="write an HTML page that highlights each value in the text with its "
                         "field and confidence")
    ex.add_argument("--jsonl", default=None, metavar="IN",
                    help='JSONL input: one record per line (its "text" field, or the line)')
    ex.add_argument("--out", default=None, help="write JSONL output here (default: stdout)")
    ex.add_argument("--no-jump-forward", action="store_true",
                    help="decode forced tokens one by one (same output, for comparison)")
    ex.add_argument("--no-prompt-lookup", action="store_true",
                    help="do not draft tokens copied from the input (for comparison; also turns "
                         "the copy bias off)")
    ex.add_argument("--copy-bias", type=float, default=None, metavar="LOGITS",
                    help="prefer a token copied from the input when its logit is at most this "
                         "much below the model's choice (default 2.0 with greedy decoding; "
                         "0 = plain greedy)")
    ex.add_argument("--optional-timezone", action="store_true",
                    help="let date-time and time values leave out the time offset that RFC 3339 "
                         "requires")
    ex.add_argument("--no-grounding", action="store_true",
                    help="let string and number values be other than what the text writes "
                         "(grounding is on by default)")
    ex.add_argument("--verbose", action="store_true", help="show llama.cpp's log")
    ex.add_argument("--workers", type=int, default=None, metavar="N",
                    help="with --jsonl and --out: N local worker processes (records stay in "
                         "input order; a rerun with the same OUT resumes)")
    ex.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                    help="with --jsonl and --out: run on the Ray cluster at ADDRESS (a local one "
                         "without it; --workers N actors); a rerun resumes")
    sub.add_parser("models", help="list the known models and whether they are installed")
    return parser


def _err(message: str) -> None:
    print(f"maaza-rt: error: {message}", file=sys.stderr)


def _result(extraction: Any, details: bool) -> Any:
    from .bulk import RowResult
    from .extractor import Extraction

    # Without --details or --html the extraction is the bare value (no token probabilities);
    # a row extracted on Ray carries its value only.
    value = extraction.value if isinstance(extraction, (Extraction, RowResult)) else extraction
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if not details:
        return value
    record = dataclasses.asdict(extraction)
    record["value"] = value
    for key in ("prompt_ms", "decode_ms", "grammar_ms", "total_ms"):
        record[key] = round(record[key], 3)
    return record


def _records(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            yield line
            continue
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            yield record["text"]
        elif isinstance(record, str):
            yield record
        else:
            yield line


def _progress(items: list[str]) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, file=sys.stderr, unit="rec", disable=None)


def _extract(args: argparse.Namespace) -> int:
    from .extractor import Extractor
    from .schemas import load_schema

    schema, _ = load_schema(args.schema)
    options = {"max_tokens": args.max_tokens, "jump_forward": not args.no_jump_forward,
               "prompt_lookup": not args.no_prompt_lookup, "copy_bias": args.copy_bias,
               "optional_timezone": args.optional_timezone, "grounded": not args.no_grounding,
               "return_details": args.details or args.html is not None}
    if args.jsonl is not None:
        if args.text is not None:
            raise _UsageError("give either TEXT or --jsonl, not both")
        try:
            with open(args.jsonl, encoding="utf-8") as f:
                texts = list(_records(f))
        except OSError as e:
            raise _UsageError(f"cannot read {args.jsonl}: {e.strerror}") from e
    else:
        if args.out is not None:
            raise _UsageError("--out needs --jsonl")
        if args.text is None or args.text == "-":
            if sys.stdin.isatty():
                raise _UsageError("give the text as an argument or on stdin (-)")
            texts = [sys.stdin.read()]
        else:
            texts = [args.text]
    if args.workers is not None or args.ray is not None:
        return _extract_parallel(args, schema, texts, options)
    extractor = Extractor(args.model, n_threads=args.threads, n_ctx=args.n_ctx,
                          verbose=args.verbose)
    if args.jsonl is None:
        extraction = extractor.extract(texts[0], schema, **options)
        print(json.dumps(_result(extraction, args.details), ensure_ascii=False))
        if args.html is not None:
            _write_html(args.html, [(texts[0], extraction)])
        return EXIT_OK
    extracted: list[tuple[str, Any]] = []  # for --html
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    status = EXIT_OK
    try:
        for text in _progress(texts):
            try:
                extraction = extractor.extract(text, schema, **options)
                if args.html is not None:
                    extracted.append((text, extraction))
                record = _result(extraction, args.details)
            except (InputTooLongError, GenerationLimitError) as e:
                # One bad record does not stop the file; the exit status reports it.
                record = {"error": {"type": type(e).__name__, "message": str(e)}}
                status = status or exit_code(e)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.html is not None:
        _write_html(args.html, extracted)
    return status


def _write_html(path: str, extracted: list[tuple[str, Any]]) -> None:
    """Writes the HTML report of (input text, Extraction) pairs to ``path``."""
    from .html_report import ReportEntry, write_report

    try:
        write_report(path, [ReportEntry.of(text, extraction) for text, extraction in extracted])
    except OSError as e:
        raise _UsageError(f"cannot write {path}: {e.strerror}") from e


def _extract_parallel(args: argparse.Namespace, schema: Any, texts: list[str],
                      options: dict[str, Any]) -> int:
    from .workers import WorkerConfig, default_threads, run_job

    if args.jsonl is None or args.out is None:
        raise _UsageError("--workers and --ray need --jsonl and --out (the file a rerun resumes)")
    if args.workers is not None and args.workers < 1:
        raise _UsageError("--workers must be at least 1")
    if args.ray is not None and args.details:
        raise _UsageError("--details is not available with --ray")
    n_threads = args.threads or (1 if args.ray is not None else default_threads(args.workers))
    config = WorkerConfig(schema, options, args.model, n_threads, args.n_ctx, args.verbose)
    try:
        error = run_job(texts, args.out, config, lambda e: _result(e, args.details),
                        n_workers=args.workers, ray_address=args.ray)
    except ImportError as e:  # Ray is not installed
        raise _UsageError(str(e)) from e
    return EXIT_OK if error is None else exit_code(error)


def _models() -> int:
    from .models import DEFAULT_MODEL, MODELS, merged_path, model_location, weights_dir

    for spec in MODELS.values():
        path, present = model_location(spec)
        state = "present" if present else ("not assembled yet" if path else "not installed")
        where = str(path) if path else spec.install_hint
        if spec.adapter is not None and path is not None:
            where = f"{where} + adapter {weights_dir() / spec.adapter}"
            if spec.merge is not None:
                merged = merged_path(spec)
                state = "present" if merged.is_file() else "merged on first use"
                where = f"{merged} (from {where})"
        default = " (default)" if spec.name == DEFAULT_MODEL else ""
        print(f"{spec.name}{default}\t{state}\t{where}\n    {spec.description}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI with ``argv`` (default: ``sys.argv[1:]``) and returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "models":
            return _models()
        return _extract(args)
    except _UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except (MaazaError, TypeError, ValueError) as e:
        _err(str(e))
        return exit_code(e)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
