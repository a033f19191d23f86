"""The collector is paused and the heap frozen only for as long as kbmine needs, and restored after."""

from __future__ import annotations

import gc

from kbmine.heap import frozen_heap, paused_gc


def test_paused_gc_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause must not re-enable what an outer one paused"
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled(), "a collector the caller disabled stays disabled"
    finally:
        gc.enable()


def test_frozen_heap_nests_and_thaws_once() -> None:
    before = gc.get_freeze_count()
    alive = [object() for _ in range(10)]
    with frozen_heap():
        outer = gc.get_freeze_count()
        assert outer > before
        with frozen_heap():
            assert gc.get_freeze_count() >= outer
        assert gc.get_freeze_count() >= outer, "the inner block must not thaw the outer one"
    assert gc.get_freeze_count() == 0
    assert alive


def test_a_check_leaves_the_heap_thawed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kbmine.checks import run_checks
    from kbmine.kb import load

    (tmp_path / "a.md").write_text("# A\n\nSee [b](b.md) and [gone](gone.md).\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n", encoding="utf-8")
    findings = run_checks(load(tmp_path, use_cache=False))
    assert any(f.rule == "broken-link" for f in findings)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
