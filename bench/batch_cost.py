"""What a llama.cpp batch of n tokens costs against one token, on the runtime's own session.

Usage:
    python -m bench.batch_cost [--model NAME|PATH] [--threads 1,2] [--context 500]
                               [--sizes 1,2,3,4,6,8,12,16,24,32] [--reps 11]

Fills a session's KV cache to about ``--context`` tokens (one extraction on a long text), then
for each batch size n feeds n tokens with logits at every position (as the decoding loop feeds
a speculative batch), times ``llama_decode`` and drops them from the cache again. Prints the
median time per size and its ratio to one token: a speculative batch of n tokens pays off when
more tokens are kept than that ratio. The decoder's ``MIN_SPECULATIVE`` rests on this table.
The environment header comes first.
"""

from __future__ import annotations

import argparse
import statistics
import time

import maaza_rt
from bench.harness import environment, format_environment
from maaza_rt.session import Session

SCHEMA = {"type": "object", "properties": {"summary": {"type": "string", "maxLength": 40}}}
FILLER = "The quick brown fox jumps over the lazy dog near the river bank. "


def fill(extractor: maaza_rt.Extractor, context: int, room: int) -> Session:
    """An extraction whose prompt holds about ``context`` tokens and whose context window has
    ``room`` more; returns its session."""
    model = extractor.model
    text = FILLER
    while len(model.prompt_tokens(model.build_prompt(text, SCHEMA))) < context:
        text += FILLER
    extractor.extract(text, SCHEMA, max_tokens=16 + room)
    return extractor.session


def measure(session: Session, sizes: list[int], reps: int) -> dict[int, float]:
    """Median ms of feeding n tokens (logits at every position), per n in ``sizes``."""
    tokens = session.model.tokenize(FILLER * (1 + max(sizes) // 8), False, False)
    base = len(session.tokens)
    result: dict[int, float] = {}
    for n in sizes:
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            session.feed(tokens[:n], True)
            times.append(time.perf_counter() - t)
            session.truncate(base)
        result[n] = 1000 * statistics.median(times)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.batch_cost",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="model name or GGUF path (default model)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--context", type=int, default=500, help="tokens in the KV cache")
    ap.add_argument("--sizes", default="1,2,3,4,6,8,12,16,24,32", help="batch sizes")
    ap.add_argument("--reps", type=int, default=11, help="timed repetitions per size")
    args = ap.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")} | {1})
    print(format_environment(environment(threads=args.threads, packages=("llama_cpp_python",),
                                         model=args.model or "default",
                                         context_tokens=args.context)))
    print("| threads | " + " | ".join(f"n={n}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for threads in (int(t) for t in args.threads.split(",")):
        extractor = maaza_rt.Extractor(args.model, n_threads=threads)
        try:
            ms = measure(fill(extractor, args.context, max(sizes)), sizes, args.reps)
        finally:
            extractor.close()
        cells = " | ".join(f"{ms[n]:.1f} ms ({ms[n] / ms[1]:.1f}x)" for n in sizes)
        print(f"| {threads} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
