"""The mock's SQLite store: queued journal rows are written in batches, yet every read sees every write, and a
failed unit of work leaves nothing of its own behind."""

from __future__ import annotations

import pytest

from mocks.store import Store


def record(store: Store, code: str) -> int:
    return store.record(role="adapter", direction="in", method="POST", path="/x", service="DongBoHoSoMC",
                        dossier_codes=[code], status_code=200, request={"MaHoSo": code}, response={"ok": True})


def codes(store: Store) -> list[str]:
    return [e["dossier_codes"][0] for e in store.journal()]


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "portal.sqlite"), commit_interval=60)  # no time-based commit during a test
    yield s
    s.close()


def test_reads_see_queued_rows_and_ids_follow_the_order_of_writes(store):
    first, second = record(store, "A"), record(store, "B")
    assert second == first + 1
    assert codes(store) == ["A", "B"]
    assert [e["id"] for e in store.journal(dossier="B")] == [second]


@pytest.mark.parametrize("savepoint", [True, False])
def test_a_failed_unit_drops_its_own_rows_and_keeps_earlier_ones(store, savepoint):
    record(store, "before")
    with pytest.raises(RuntimeError):
        with store.transaction(savepoint=savepoint):
            record(store, "inside")
            raise RuntimeError("bug in a handler")
    record(store, "after")
    assert codes(store) == ["before", "after"]


def test_rows_written_by_a_read_inside_a_rolled_back_unit_are_queued_again(store):
    record(store, "before")
    with pytest.raises(RuntimeError):
        with store.transaction():
            record(store, "inside")
            store.query("SELECT COUNT(*) FROM journal")  # writes the queue inside the savepoint
            raise RuntimeError("bug in a handler")
    assert codes(store) == ["before"]


def test_rows_survive_a_reopen(tmp_path):
    path = str(tmp_path / "portal.sqlite")
    s = Store(path, commit_interval=60)
    record(s, "A")
    s.close()
    again = Store(path)
    try:
        assert codes(again) == ["A"]
        assert record(again, "B") == 2
    finally:
        again.close()
