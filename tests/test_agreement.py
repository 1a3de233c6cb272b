"""Agreement metrics and the disagreement table, counted on integer codes, equal the plain
text-frame computation (the reference below: what the pipeline did before, slow at 6M users)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, cohen_kappa_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from analysis.evaluation.agreement import agreement, disagreements, shared_codes


def reference_agreement(a, b):
    return {"ari": float(adjusted_rand_score(a, b)),
            "nmi": float(normalized_mutual_info_score(a, b)),
            "agreement": float(np.mean(np.asarray(a) == np.asarray(b))),
            "kappa": float(cohen_kappa_score(a, b)),
            "contingency": contingency_matrix(a, b).tolist()}


def reference_disagreements(a, b, segments, top):
    frame = pd.DataFrame({"a": np.asarray(a).astype(str), "b": np.asarray(b).astype(str),
                          "segment": np.asarray(segments).astype(str)})
    out = []
    for (x, y), part in frame[frame["a"] != frame["b"]].groupby(["a", "b"], sort=True):
        counts = part["segment"].value_counts().sort_index().sort_values(
            ascending=False, kind="stable").head(top)
        out.append({"a": x, "b": y, "users": int(len(part)),
                    "segments": [{"segment": s, "users": int(n)} for s, n in counts.items()]})
    return sorted(out, key=lambda r: (-r["users"], r["a"], r["b"]))


def labellings(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 3000))
    a = rng.integers(0, 5, n)
    b = np.where(rng.random(n) < 0.7, a, rng.integers(0, 6, n))
    names = np.array(["inactive", "moderate", "active", "x y", "Zed", "ünï"], dtype=object)
    segments = np.array([f"s{i}" for i in range(9)], dtype=object)[rng.integers(0, 9, n)]
    return a, b, names[a], names[b], segments


@pytest.mark.parametrize("seed", range(8))
def test_codes_give_the_text_computation_bit_for_bit(seed):
    a, b, text_a, text_b, segments = labellings(seed)
    for x, y in ((a, b), (text_a, text_b)):
        assert json.dumps(agreement(x, y)) == json.dumps(reference_agreement(x, y))
        for top in (1, 3, 10):
            assert disagreements(x, y, segments, top) == reference_disagreements(x, y, segments,
                                                                                 top)


def test_shared_codes_keep_equality_and_order():
    a = np.array(["b", "a", "c"], dtype=object)
    b = np.array(["c", "a", "d"], dtype=object)
    code_a, code_b, values = shared_codes(a, b)
    assert list(values) == ["a", "b", "c", "d"]
    assert values[code_a].tolist() == a.tolist() and values[code_b].tolist() == b.tolist()


def test_full_agreement_has_no_disagreement():
    tiers = np.array(["active", "inactive"] * 5, dtype=object)
    assert disagreements(tiers, tiers.copy(), tiers, 3) == []
    assert agreement(tiers, tiers.copy())["kappa"] == pytest.approx(1.0)
