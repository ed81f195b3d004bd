# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mapping.txt parsing: every rule, the way oc writes and reads the file."""

from __future__ import annotations

import os

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import (
    MappingEntry,
    format_mapping,
    load_mappings,
    parse_lines,
    select_shard,
    shard_of,
    write_mapping,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def pairs(entries):
    return [(str(e.source), str(e.dest)) for e in entries]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("quay.io/a/b:1=mirror.local:5000/a/b:1", [("quay.io/a/b:1", "mirror.local:5000/a/b:1")]),
        # destination without a tag takes the source's tag
        ("quay.io/a/b:1.2=mirror.local/x/y", [("quay.io/a/b:1.2", "mirror.local/x/y:1.2")]),
        # surrounding white space and trailing comments
        ("   quay.io/a/b:1=m.local/a/b:2   # keep this one", [("quay.io/a/b:1", "m.local/a/b:2")]),
        ("quay.io/a/b:1=m.local/a/b:2\r", [("quay.io/a/b:1", "m.local/a/b:2")]),
        # several pairs on one line
        (
            "quay.io/a/b:1=m.local/a/b:1 quay.io/a/c:1=m.local/a/c:1",
            [("quay.io/a/b:1", "m.local/a/b:1"), ("quay.io/a/c:1", "m.local/a/c:1")],
        ),
        # SRC DST [DST...], separated by spaces or tabs
        (
            "quay.io/a/b:1  m.local/a/b\tm2.local/a/b:v1",
            [("quay.io/a/b:1", "m.local/a/b:1"), ("quay.io/a/b:1", "m2.local/a/b:v1")],
        ),
        # docker.io defaults on both sides
        ("busybox:1.36=m.local/busybox", [("docker.io/library/busybox:1.36", "m.local/busybox:1.36")]),
        # tag and digest: fetched by digest, lands under the tag
        (f"quay.io/a/b:1@{D1}=m.local/a/b", [(f"quay.io/a/b:1@{D1}", "m.local/a/b:1")]),
        # a given tag wins over the digest tag
        (f"quay.io/a/b@{D1}=m.local/a/b:keep", [(f"quay.io/a/b@{D1}", "m.local/a/b:keep")]),
        # a destination digest equal to the source's is redundant
        (f"quay.io/a/b@{D1}=m.local/a/b:t@{D1}", [(f"quay.io/a/b@{D1}", "m.local/a/b:t")]),
    ],
)
def test_good_lines(line, expected):
    entries, problems = parse_lines([line], "mapping.txt")
    assert problems == []
    assert pairs(entries) == expected
    assert all(e.origin == "mapping.txt:1" for e in entries)
    assert all(e.dest.digest is None and e.dest.tag for e in entries)


@pytest.mark.parametrize(
    "mode, tag",
    [
        # FNV-1a 32 of "quay.io/a/b@sha256:111...1", worked out apart from the code under test
        ("oc", "3a213273"),
        ("oc-mirror", "sha256-" + "1" * 64),
        ("short", "11111111"),
    ],
)
def test_digest_only_source_gets_digest_tag(mode, tag):
    entries, problems = parse_lines([f"quay.io/a/b@{D1}=m.local/a/b"], "f", digest_tag_mode=mode)
    assert problems == []
    assert entries[0].dest.tag == tag
    assert entries[0].source.digest == D1


@pytest.mark.parametrize(
    "src, tag",
    [
        # oc's own expected targets (TestMappingForImages, "digest image to registry" and
        # "digest image to file" in oc_mapping_cases.yaml)
        ("docker.io/my/image@sha256:154d7e0295a94fb3d2a97309d711186a98a7308da37a5cd3d50360c6b2ba57de", "a1d77056"),
        ("docker.io/my/digest-image@sha256:154d7e0295a94fb3d2a97309d711186a98a7308da37a5cd3d50360c6b2ba57de", "dcbadf49"),
    ],
)
def test_oc_digest_tag_known_value(src, tag):
    entries, dummy = parse_lines([f"{src}=quay.io/my/image"], "f")
    assert entries[0].dest.tag == tag


@pytest.mark.parametrize(
    "lines",
    [[""], ["   "], ["# a comment"], ["   # indented comment"], ["\t"]],
)
def test_blank_and_comment_lines_are_skipped(lines):
    assert parse_lines(lines, "f") == ([], [])


@pytest.mark.parametrize(
    "line, words",
    [
        ("quay.io/a/b:1", "not a mapping"),
        ("quay.io/a/b:1=", "both sides"),
        ("=m.local/a/b:1", "both sides"),
        ("quay.io/a/b=m.local/a/b:1", "neither a tag nor a digest"),
        ("quay.io/A/b:1=m.local/a/b:1", "source:"),
        ("quay.io/a/b:1=m.local/a b", "not a SRC=DST pair"),
        ("quay.io/a/b:1=m.local/a/b:1 stray", "not a SRC=DST pair"),
        ("quay.io/a/b:1=m.local/a/b:bad tag!", "not a SRC=DST pair"),
        ("quay.io/a/b:1=m.local/a/b:-bad", "destination:"),
        ("quay.io/a/b:1=m.local//b", "destination:"),
        (f"quay.io/a/b@{D1}=m.local/a/b@{D2}", "remove @digest"),
        (f"quay.io/a/b:1=m.local/a/b@{D2}", "remove @digest"),
        ("quay.io/a/b:1=file://local/a/b:1", "not supported"),
        ("s3://bucket/a/b:1=m.local/a/b:1", "not supported"),
        ("quay.io/a/b@sha256:abc=m.local/a/b:1", "source:"),
    ],
)
def test_bad_lines_are_problems_and_others_go_on(line, words):
    lines = ["quay.io/ok/one:1=m.local/ok/one:1", line, "quay.io/ok/two:1=m.local/ok/two:1"]
    entries, problems = parse_lines(lines, "mapping.txt")
    assert [e.origin for e in entries] == ["mapping.txt:1", "mapping.txt:3"]
    assert len(problems) == 1
    problem = problems[0]
    assert problem.origin == "mapping.txt:2"
    assert problem.text == line
    assert words in problem.reason
    assert str(problem).startswith("mapping.txt:2: ")


def test_index_numbering_for_inline_lines():
    entries, problems = parse_lines(["a.io/x/y:1=b.io/x/y", "bad"], "mapping", numbering="index")
    assert entries[0].origin == "mapping[0]"
    assert problems[0].origin == "mapping[1]"


def test_non_string_inline_item_is_a_problem():
    entries, problems = parse_lines([42], "mapping", numbering="index")
    assert entries == [] and problems[0].origin == "mapping[0]"


def test_same_destination_twice_is_a_problem_on_the_later_line():
    lines = [
        "quay.io/a/b:1=m.local/a/b:1",
        "# comment",
        "quay.io/other/b:1=m.local/a/b",  # takes tag 1: same destination
    ]
    entries, problems = parse_lines(lines, "m.txt")
    assert pairs(entries) == [("quay.io/a/b:1", "m.local/a/b:1")]
    assert [p.origin for p in problems] == ["m.txt:3"]
    assert "quay.io/a/b:1 at m.txt:1" in problems[0].reason


def test_exact_duplicates_are_merged_silently():
    lines = ["quay.io/a/b:1=m.local/a/b:1", "quay.io/a/b:1=m.local/a/b", "quay.io/a/b:1 m.local/a/b:1"]
    entries, problems = parse_lines(lines, "m.txt")
    assert problems == []
    assert len(entries) == 1 and entries[0].origin == "m.txt:1"


def test_same_source_to_two_destinations_is_fine():
    entries, problems = parse_lines(["quay.io/a/b:1=m.local/a/b:1", "quay.io/a/b:1=m.local/c/d:1"], "m")
    assert problems == [] and len(entries) == 2


def test_bad_digest_tag_mode():
    with pytest.raises(ConfigError, match="digest_tag"):
        parse_lines([], "m", digest_tag_mode="fnv")


def test_bad_numbering():
    with pytest.raises(ConfigError):
        parse_lines(["a.io/b/c:1=d.io/e/f"], "m", numbering="page")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_mappings_files_then_inline(tmp_path):
    f1 = write(tmp_path, "one.txt", "# oc adm catalog mirror\nquay.io/a/b:1=m.local/a/b:1\n\nbad line here\n")
    f2 = write(tmp_path, "two.txt", "\ufeffquay.io/a/c:1=m.local/a/c:1\n")
    entries, problems = load_mappings([f1, f2], ["quay.io/a/d:1=m.local/a/d:1", "quay.io/a/b:1=m.local/a/b:1"])
    assert [e.origin for e in entries] == [f"{f1}:2", f"{f2}:1", "mapping[0]"]
    assert [p.origin for p in problems] == [f"{f1}:4"]


def test_load_mappings_duplicates_across_files(tmp_path):
    f1 = write(tmp_path, "one.txt", "quay.io/a/b:1=m.local/a/b:1\n")
    f2 = write(tmp_path, "two.txt", "quay.io/z/b:1=m.local/a/b:1\n")
    entries, problems = load_mappings([f1, f2], [])
    assert len(entries) == 1
    assert problems[0].origin == f"{f2}:1" and f"{f1}:1" in problems[0].reason


def test_load_mappings_single_path_string(tmp_path):
    f1 = write(tmp_path, "one.txt", "quay.io/a/b:1=m.local/a/b:1\n")
    entries, dummy = load_mappings(f1, [])
    assert len(entries) == 1


@pytest.mark.parametrize(
    "include, exclude, kept",
    [
        (None, None, ["a", "b", "c"]),
        ([r"/ns/a:"], None, ["a"]),
        ([r"/ns/a:", r"/ns/c:"], None, ["a", "c"]),
        (None, [r"/ns/b"], ["a", "c"]),
        ([r"^quay\.io/"], [r"/ns/c:"], ["a", "b"]),
        ([r"nomatch"], None, []),
    ],
)
def test_include_exclude(include, exclude, kept):
    inline = [f"quay.io/ns/{n}:1=m.local/ns/{n}:1" for n in ("a", "b", "c")]
    entries, problems = load_mappings([], inline, include=include, exclude=exclude)
    assert problems == []
    assert [e.source.repository.split("/")[-1] for e in entries] == kept


def test_excluded_lines_do_not_claim_destinations():
    inline = ["quay.io/ns/a:1=m.local/x:1", "quay.io/ns/b:1=m.local/x:1"]
    entries, problems = load_mappings([], inline, exclude=["/ns/a"])
    assert problems == [] and pairs(entries) == [("quay.io/ns/b:1", "m.local/x:1")]


@pytest.mark.parametrize("option", ["include", "exclude"])
def test_bad_regex_names_the_option(option):
    with pytest.raises(ConfigError, match=rf"{option}\[1\]"):
        load_mappings([], [], **{option: ["ok", "(unclosed"]})


def test_unreadable_file_is_a_config_error(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="nope.txt"):
        load_mappings([missing], [])


def test_binary_file_is_a_config_error(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="bin.txt"):
        load_mappings([str(path)], [])


def test_write_mapping_round_trip_and_changed(tmp_path):
    lines = [
        "quay.io/a/b:1=m.local/a/b:1",
        f"quay.io/a/c@{D1}=m.local/a/c",
        f"quay.io/a/d:2@{D2}=m.local/a/d",
    ]
    entries, dummy = parse_lines(lines, "in")
    path = str(tmp_path / "out" / "mapping.txt")
    os.makedirs(os.path.dirname(path))
    assert write_mapping(entries, path) is True
    text = open(path, encoding="utf-8").read()
    # ff003978: FNV-1a 32 of "quay.io/a/c@sha256:111...1", worked out apart from the code under test;
    # a tag with a digest keeps its tag and the digest is what gets fetched
    assert text == (
        "quay.io/a/b:1=m.local/a/b:1\n"
        f"quay.io/a/c@{D1}=m.local/a/c:ff003978\n"
        f"quay.io/a/d:2@{D2}=m.local/a/d:2\n"
    )
    assert format_mapping(entries) == text
    again, problems = load_mappings([path], [])
    assert problems == [] and pairs(again) == pairs(entries)
    mtime = os.stat(path).st_mtime_ns
    assert write_mapping(entries, path) is False
    assert os.stat(path).st_mtime_ns == mtime
    assert write_mapping(entries[:1], path) is True
    assert os.listdir(os.path.dirname(path)) == ["mapping.txt"]  # no temp file left


def test_write_mapping_keeps_file_mode(tmp_path):
    path = tmp_path / "mapping.txt"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    entries, dummy = parse_lines(["quay.io/a/b:1=m.local/a/b:1"], "in")
    assert write_mapping(entries, str(path))
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_write_mapping_unwritable_dir(tmp_path):
    entries, dummy = parse_lines(["quay.io/a/b:1=m.local/a/b:1"], "in")
    with pytest.raises(ConfigError, match="cannot be written"):
        write_mapping(entries, str(tmp_path / "missing-dir" / "mapping.txt"))


def test_entry_line():
    entry = parse_lines(["quay.io/a/b:1=m.local/a/b"], "in")[0][0]
    assert isinstance(entry, MappingEntry)
    assert entry.line == "quay.io/a/b:1=m.local/a/b:1"


def test_shards_split_by_destination_repository_and_cover_everything():
    lines = [f"quay.io/src/app{i % 7}:v{i}=mirror.example.com/dst/app{i % 7}:v{i}" for i in range(60)]
    lines.append("not a mapping line")
    lines.append("quay.io/src/notag=mirror.example.com/dst/notag")
    entries, problems = parse_lines(lines, "mapping.txt")
    assert len(entries) == 60 and len(problems) == 2
    parts = [select_shard(entries, problems, index, 3) for index in range(3)]
    seen = [e.line for part, dummy in parts for e in part]
    assert sorted(seen) == sorted(e.line for e in entries)  # every line once, by exactly one host
    assert sorted(p.origin for dummy, part in parts for p in part) == sorted(p.origin for p in problems)
    for part, dummy in parts:
        repos = {e.dest.name for e in part}
        for other, dummy2 in parts:
            if other is not part:
                assert not repos & {e.dest.name for e in other}  # a repository is never split
    # stable: the same split on every host and every run (no per-process hash salt). Pinned values:
    # the first 8 bytes of sha256(destination repository), big-endian, modulo the shard count,
    # worked out apart from the code under test.
    repo = "mirror.example.com/dst/app{}".format
    assert [sorted({e.dest.name for e in part}) for part, dummy in parts] == [
        [repo(1), repo(2), repo(4), repo(6)],
        [repo(0), repo(3)],
        [repo(5)],
    ]
    assert [len(part) for part, dummy in parts] == [34, 18, 8]  # app_k holds the lines i with i % 7 == k
    assert shard_of("mirror.example.com/dst/app1", 3) == 0
    assert [shard_of(f"r{i}", 5) for i in range(5)] == [4, 1, 3, 4, 2]  # sha256, pinned


def test_one_shard_is_everything_and_bad_indexes_are_refused():
    entries, problems = parse_lines(["quay.io/a/b:1=m.example.com/a/b:1"], "mapping.txt")
    assert select_shard(entries, problems, 0, 1) == (entries, problems)
    for index, count in ((1, 1), (-1, 2), (0, 0)):
        with pytest.raises(ConfigError, match="shard_index"):
            select_shard(entries, problems, index, count)
