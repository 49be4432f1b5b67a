"""Issue, IssueCollector and SnapshotError: how problems are recorded and shown."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_opt.io import Issue, SnapshotError
from cluster_opt.io.issues import IssueCollector


def test_issue_text() -> None:
    assert str(Issue("vms.csv", 3, "web-3", "host", "bad")) == "vms.csv row 3 (id web-3) column host: bad"
    assert str(Issue("regions.csv", 2, None, "src", "bad")) == "regions.csv row 2 column src: bad"
    assert str(Issue("hosts.csv", None, None, "rack", "bad")) == "hosts.csv column rack: bad"
    assert str(Issue("snapshot.yaml", None, None, None, "bad")) == "snapshot.yaml: bad"


def test_add_rows_is_one_based_and_names_ids() -> None:
    issues = IssueCollector()
    ids = np.array(["a", "", "c"], dtype=object)
    issues.add_rows("t.csv", "x", np.array([0, 1, 2]), ids, lambda r: f"row index {r}")
    issues.add_rows("t.csv", None, [2], None, "plain")
    issues.add("t.csv", "whole file", row_id="")
    assert issues.issues == [
        Issue("t.csv", 1, "a", "x", "row index 0"),
        Issue("t.csv", 2, None, "x", "row index 1"),  # an empty id is no id
        Issue("t.csv", 3, "c", "x", "row index 2"),
        Issue("t.csv", 3, None, None, "plain"),
        Issue("t.csv", None, None, None, "whole file"),
    ]


def test_collector_raises_only_when_it_has_issues() -> None:
    issues = IssueCollector()
    assert not issues
    issues.raise_if_any()
    issues.add("a.csv", "first")
    issues.add("b.csv", "second", row=1)
    issues.add("a.csv", "third", column="c")
    assert issues
    with pytest.raises(SnapshotError) as info:
        issues.raise_if_any()
    assert str(info.value).splitlines() == [
        "3 problem(s) (2 in a.csv, 1 in b.csv):",
        "  a.csv: first",
        "  b.csv row 1: second",
        "  a.csv column c: third",
    ]
    assert isinstance(info.value, ValueError)


def test_error_message_shows_the_first_twenty() -> None:
    err = SnapshotError([Issue("vms.csv", r, f"v{r}", "cpu", "negative: -1") for r in range(1, 26)])
    lines = str(err).splitlines()
    assert lines[0] == "25 problem(s) (25 in vms.csv):"
    assert lines[1] == "  vms.csv row 1 (id v1) column cpu: negative: -1"
    assert lines[20] == "  vms.csv row 20 (id v20) column cpu: negative: -1"
    assert lines[21:] == ["  ... and 5 more"]
    assert len(err.issues) == 25
