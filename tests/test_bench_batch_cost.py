"""bench.batch_cost: batch timings on the runtime's session, the cache left as it was."""

from __future__ import annotations

import pytest

import maaza_rt
from bench import batch_cost


@pytest.mark.model
def test_batch_cost_fills_the_context_and_restores_the_cache() -> None:
    extractor = maaza_rt.Extractor(n_threads=1)
    try:
        session = batch_cost.fill(extractor, 200, 64)
        before = list(session.tokens)
        assert len(before) >= 200 and session.n_ctx >= len(before) + 64
        ms = batch_cost.measure(session, [1, 4], reps=1)
        assert set(ms) == {1, 4} and all(v > 0 for v in ms.values())
        assert session.tokens == before  # every timed batch was dropped again
    finally:
        extractor.close()


@pytest.mark.model
def test_batch_cost_main_prints_a_row_per_thread_count(capsys: pytest.CaptureFixture) -> None:
    assert batch_cost.main(["--threads", "1", "--context", "100", "--sizes", "2",
                            "--reps", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# cpu: ") and "# model: default" in lines
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| threads | n=1 | n=2 |"
    assert table[2].startswith("| 1 | ") and "(1.0x)" in table[2]
