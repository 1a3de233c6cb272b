"""What the Summary and the other pages claim (findings.json) agrees with the other artifacts.

Every count, share, chosen solution, eligibility verdict and action in ``findings.json`` is
checked against ``manifest.json``, ``segments.json``, ``metrics.json``, ``agreement.json`` and the
per-user ``labels.parquet`` of one pipeline run on synthetic users, so a sentence can never say
something the tables contradict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.report import formats as f
from analysis.vocabulary import TIERS, solution_key


@pytest.fixture(scope="module")
def artifacts(synthetic_run) -> dict:
    folder: Path = synthetic_run[1]
    docs = {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("findings", "manifest", "segments", "metrics", "agreement")}
    docs["labels"] = pd.read_parquet(folder / "labels.parquet")
    return docs


def test_tier_cards_match_the_manifest_and_every_user(artifacts):
    findings, manifest, labels = artifacts["findings"], artifacts["manifest"], artifacts["labels"]
    assert findings["users"] == manifest["rows_clustered"] == len(labels)
    counts = labels["tier"].value_counts()
    for card in findings["tiers"]:
        tier = card["tier"]
        assert card["users"] == manifest["tiers"][tier] == counts.get(tier, 0)
        assert card["users_text"] == f.count(card["users"])
        assert card["share_text"] == f.share(card["users"] / findings["users"])
    assert [card["tier"] for card in findings["tiers"]] == [t for t in TIERS
                                                           if manifest["tiers"].get(t)]


def test_every_segment_row_matches_its_record_and_its_users(artifacts):
    findings, labels = artifacts["findings"], artifacts["labels"]
    records = {r["segment"]: r for r in artifacts["segments"]["records"]}
    sizes = labels["segment"].value_counts()
    assert [s["segment"] for s in findings["segments"]] == list(records)
    assert sum(s["users"] for s in findings["segments"]) == findings["users"]
    for row in findings["segments"]:
        record = records[row["segment"]]
        assert row["users"] == record["size"] == sizes[row["segment"]]
        assert row["tier"] == record["tier"] == row["segment"].split("/")[0]
        assert (row["label"], row["action"], row["short_action"]) == \
            (record["label"], record["action"], record["short_action"])
        assert row["short_action"] and row["evidence"].startswith(f.count(row["users"]))
    for card in findings["tiers"]:
        assert card["segments"] == [s["segment"] for s in findings["segments"]
                                    if s["tier"] == card["tier"]]


def test_the_headline_states_the_published_counts(artifacts):
    findings, manifest = artifacts["findings"], artifacts["manifest"]
    n = manifest["rows_clustered"]
    assert f.count(n) in findings["headline"]
    assert f.share(manifest["tiers"]["inactive"] / n) in findings["headline"]
    assert f.count(manifest["tiers"]["active"]) in findings["headline"]


def test_the_choice_and_its_eligibility_are_the_rules(artifacts):
    findings, manifest, metrics = artifacts["findings"], artifacts["manifest"], artifacts["metrics"]
    choice = findings["choice"]
    assert (choice["algorithm"], choice["k"]) == (manifest["chosen"]["algorithm"],
                                                  manifest["chosen"]["k"])
    verdicts = metrics["choice"]["verdicts"]  # key -> reasons it is not eligible ([] if it is)
    rows = {r["key"]: r for r in findings["eligibility"]}
    assert set(rows) == {solution_key(r["algorithm"], r["k"]) for r in metrics["rows"]}
    assert sum(r["eligible"] for r in rows.values()) == choice["eligible"] == \
        metrics["choice"]["eligible"]
    for key, row in rows.items():
        assert row["eligible"] == (verdicts[key] == []), key
        assert row["chosen"] == (key == solution_key(choice["algorithm"], choice["k"]))
        for reason in verdicts[key]:
            assert reason in row["why"], f"{key}: {reason!r} is not said"
    assert f.count(manifest["rows_clustered"]) in findings["how_we_know"]


def test_agreement_readings_quote_the_agreement_artifact(artifacts):
    findings, agreement = artifacts["findings"], artifacts["agreement"]
    algorithms = findings["agreement"]["algorithms"]
    assert algorithms["k"] == agreement["k"]
    assert algorithms["agreement"] == pytest.approx(agreement["agreement"])
    assert algorithms["kappa"] == pytest.approx(agreement["kappa"])
    labels = artifacts["labels"]
    baseline = findings["agreement"]["baseline"]
    same = (labels["tier"] == labels["baseline_tier"]).mean()
    assert baseline["agreement"] == pytest.approx(same)
