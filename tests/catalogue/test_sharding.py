"""`--shard K/N`: a stable, complete and disjoint share of the services; bad values named with the rule."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import pytest

from conformance.sharding import Shard, ShardError, parse_shard, select_shard
from kiemthu.runtime import REPO_ROOT

CATALOGUE = [f"dvc-{i:03d}" for i in range(30)]


def shares(ids: list[str], count: int) -> list[list[str]]:
    return [Shard(k, count).select(ids) for k in range(1, count + 1)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 30])
def test_the_shards_cover_every_service_once(count):
    """Every service is in exactly one of the N shards, and no two shards differ by more than one service."""
    parts = shares(CATALOGUE, count)
    flat = [s for part in parts for s in part]
    assert sorted(flat) == sorted(CATALOGUE)
    assert len(flat) == len(set(flat))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_a_share_does_not_depend_on_the_order_of_the_target_file():
    """Two machines reading the services in another order pick the same services for the same shard."""
    shuffled = CATALOGUE[:]
    random.Random(13).shuffle(shuffled)
    for k in (1, 2, 3):
        assert sorted(Shard(k, 3).select(shuffled)) == sorted(Shard(k, 3).select(CATALOGUE))


def test_a_share_keeps_the_order_it_was_given():
    """The shard runs its services in the target's order, only fewer of them."""
    ids = ["ket-hon", "lltp-cap-phieu", "khai-sinh"]
    assert Shard(1, 2).select(ids) == ["ket-hon", "lltp-cap-phieu"]
    assert Shard(2, 2).select(ids) == ["khai-sinh"]


@pytest.mark.parametrize("value, rule", [
    ("x", "K/N, two whole numbers"), ("1-2", "K/N, two whole numbers"), ("-1/2", "K/N, two whole numbers"),
    ("0/2", "1 ≤ K ≤ N"), ("3/2", "1 ≤ K ≤ N"), ("1/0", "N ≥ 1"),
])
def test_a_malformed_shard_is_refused_naming_the_rule_and_value(value, rule):
    with pytest.raises(ShardError) as exc:
        parse_shard(value)
    assert rule in str(exc.value) and repr(value) in str(exc.value) and "--shard" in str(exc.value)


def test_a_shard_without_services_is_refused():
    """Four shards of three services: the fourth would test nothing, which is said, not run."""
    with pytest.raises(ShardError, match="3 service"):
        select_shard(Shard(4, 4), ["a", "b", "c"])


def test_no_shard_selects_everything():
    assert parse_shard(None) is None and parse_shard("") is None
    assert parse_shard(" 2 / 5 ") == Shard(2, 5)


def test_the_cli_refuses_a_bad_shard_before_starting_anything(cli):
    """`kiemthu run --shard 5/4` exits 2 with the option, rule and value; nothing is started."""
    result = cli("run", "--target", "examples/ministry/target.yaml", "--shard", "5/4")
    assert result.returncode == 2
    assert "--shard: rule '1 ≤ K ≤ N' — value '5/4'" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def demo_target_env() -> dict[str, str]:
    """What the demo target's placeholders need to load (nothing is started by a collection)."""
    from kiemthu.demo import SECRET_VARS

    return {**os.environ, "KIEMTHU_MOCK_PORT": "18800", "KIEMTHU_MINISTRY_PORT": "18801",
            "KIEMTHU_PUBLICATION_DATE": "2026-12-02", **{name: "collect-only-value" for name in SECRET_VARS}}


def collected_services(*args: str) -> tuple[set[str], subprocess.CompletedProcess]:
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "conformance", "--collect-only",
                          "-q", "--target", str(REPO_ROOT / "examples" / "ministry" / "target.yaml"), *args],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, env=demo_target_env())
    return set(re.findall(r"\[([a-z0-9-]+)\]", out.stdout)), out


def test_the_plugin_collects_only_its_shard_of_the_demo_catalogue():
    """--kt-shard 1/2 and 2/2 of the demo's three services: disjoint, together the whole catalogue."""
    everything, _ = collected_services()
    first, _ = collected_services("--kt-shard", "1/2")
    second, _ = collected_services("--kt-shard", "2/2")
    assert len(everything) == 3 and first and second
    assert first | second == everything and not first & second


def test_the_plugin_refuses_an_empty_shard_as_a_usage_error():
    _, out = collected_services("--kt-shard", "4/4")
    assert out.returncode == 4 and "--kt-shard: rule 'N ≤ number of services'" in out.stdout + out.stderr
