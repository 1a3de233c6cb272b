"""The segmentation flow as a declarative list of stages: read it top to bottom.

Each stage names a function (:mod:`.nodes`, :mod:`.segment_nodes`, :mod:`.documents`), its
inputs (earlier outputs, ``params:<section>`` of the configuration, or ``progress``) and its
outputs. Outputs named like catalog files (``metrics.json`` ...) are the artifacts. To add a
stage: write the function in its domain package, add a ``Stage`` here; if it makes an
artifact, list the file in :data:`analysis.catalog.ARTIFACTS`.
"""

from __future__ import annotations

from analysis.clustering.ward import dendrogram_data
from analysis.evaluation.agreement import algorithms_agreement
from analysis.features.transform import feature_decisions
from analysis.history.snapshots import value_counts
from analysis.pipeline import campaign_nodes as camp
from analysis.pipeline import documents as doc
from analysis.pipeline import nodes as node
from analysis.pipeline import segment_nodes as seg
from analysis.pipeline.runner import PROGRESS, Stage
from analysis.report.exploration import explore
from analysis.report.projection import pca_document
from analysis.segments.baseline import baseline_tiers


def _explore(users, params, features, site):
    return explore(users, params, features, site.explore_countries)


def _pca(X, censored, described, chosen, pca):
    return pca_document(X, censored, described.user_labels, described.tiers,
                        (chosen["algorithm"], chosen["k"]), pca)


def _dendrogram(tree, distinct, ward, kmeans):
    return dendrogram_data(tree, distinct.counts, ward.dendrogram_merges, kmeans.ks)


def _agreement(described, chosen, segments, kmeans, profiles):
    return algorithms_agreement(described.user_labels, described.tiers, chosen["k"], kmeans.ks,
                                segments, profiles.top_n)


S = Stage
STAGES: tuple[Stage, ...] = (
    # intake and features
    S("read", node.read_input, ("data_path", "params:validation"), ("raw", "source")),
    S("validate (Great Expectations)", node.validate,
      ("raw", "source", "params:validation", "params:placeholder"),
      ("validation_report.json", "users")),
    S("login placeholder", node.find_placeholder, ("users", "params:placeholder"),
      ("placeholder",)),
    S("censored recency", node.censor_users, ("users", "placeholder"), ("censored",),
      quiet=True),
    S("features", node.build_features, ("users", "params:features", "placeholder"),
      ("params", "X", "distinct")),
    # clustering and evaluation
    S("k-means", node.cluster_kmeans, ("distinct", "params:kmeans", "params:tiers"),
      ("kmeans",)),
    S("ward (all users, exact)", node.cluster_ward,
      ("distinct", "params:kmeans", "params:tiers"), ("tree", "ward")),
    S("silhouette and metrics (exact)", node.evaluate,
      ("distinct", "kmeans", "ward", "params:selection"), ("solutions", "metrics_raw")),
    S("bootstrap stability", node.run_bootstrap,
      ("distinct", "solutions", "params:kmeans", "params:stability", PROGRESS), ("boot",),
      steps=lambda s: s.stability.resamples),
    # the tiers inside every cluster: one rule on recency band x product history
    S("segment types", seg.user_types, ("users", "placeholder"),
      ("types", "recent_days", "on_placeholder")),
    S("tiers and profiles", node.describe, ("censored", "distinct", "solutions", "types",
                                            "params:tiers", "params:profiles"), ("described",)),
    S("gap statistic", node.gaps, ("distinct", "metrics_raw", "params:gap"), ("gap",)),
    S("choose", node.choose_solution, ("metrics_raw", "boot", "described", "gap",
                                       "params:selection"), ("metrics", "chosen", "knee")),
    S("chosen tiers", node.chosen_tiers, ("described", "chosen"), ("tiers",), quiet=True),
    # segments inside the tiers
    S("segments", seg.segment_maps, ("described", "types", "params:segments"), ("maps",)),
    S("chosen segments", seg.chosen_segments, ("maps", "chosen", "tiers", "types"),
      ("segments",), quiet=True),
    S("design comparison", seg.design_comparison,
      ("censored", "distinct", "solutions", "chosen", "boot", "tiers", "types", "params",
       "recent_days", "placeholder", "params:features", "params:kmeans", "params:designs",
       "params:selection"),
      ("designs",)),
    S("reasons", seg.user_reasons, ("users", "on_placeholder", "placeholder"), ("reasons",)),
    S("segment stability", seg.stability_of_segments,
      ("boot", "censored", "placeholder", "chosen", "maps"), ("segment_stability",)),
    S("segment records", seg.segments_section,
      ("censored", "segments", "maps", "chosen", "on_placeholder", "placeholder", "recent_days",
       "segment_stability", "params:profiles"), ("segments_section",)),
    S("personas (threshold tree)", seg.persona_section,
      ("distinct", "solutions", "chosen", "params", "tiers", "segments", "censored",
       "segments_section", "params:profiles"), ("personas",)),
    # campaigns: channel and control group of every user, plans, the previous campaign's result
    S("campaign groups", camp.campaign_groups, ("users", "recent_days", "params:campaigns"),
      ("channels", "groups"), quiet=True),
    S("campaigns.json", camp.campaigns_json,
      ("users", "segments_section", "segments", "channels", "groups", "params:campaigns"),
      ("campaigns.json",)),
    S("campaign result", camp.campaign_result, ("previous", "source", "users", "tiers"),
      ("campaign_result",)),
    S("baseline", baseline_tiers, ("users", "params:baseline"), ("baseline",), quiet=True),
    S("placeholder effect", seg.censoring_effect,
      ("users", "placeholder", "tiers", "types"), ("censoring",)),
    # artifacts
    S("PCA", _pca, ("X", "censored", "described", "chosen", "params:pca"), ("pca.json",)),
    S("exploration aggregates", _explore, ("users", "params", "params:features", "params:site"),
      ("exploration.json",)),
    S("features.json", feature_decisions, ("params", "params:features"), ("features.json",),
      quiet=True),
    S("distributions.json", value_counts, ("users",), ("distributions.json",), quiet=True),
    S("metrics.json", doc.metrics_doc, ("metrics", "knee", "gap", "chosen"), ("metrics.json",),
      quiet=True),
    S("stability.json", doc.stability_doc, ("boot", "segment_stability", "params:stability",
                                            "params:selection"), ("stability.json",), quiet=True),
    S("agreement.json", _agreement, ("described", "chosen", "segments", "params:kmeans",
                                     "params:profiles"), ("agreement.json",), quiet=True),
    S("segments.json", doc.segments_doc,
      ("censored", "described", "tiers", "baseline", "segments", "segments_section",
       "personas", "designs", "params:baseline", "params:profiles"), ("segments.json",)),
    S("profiles.json", doc.profiles_doc, ("censored", "described", "tiers", "params:profiles"),
      ("profiles.json",)),
    S("dendrogram.json", _dendrogram, ("tree", "distinct", "params:ward", "params:kmeans"),
      ("dendrogram.json",), quiet=True),
    S("model.json", doc.model_doc,
      ("users", "params", "features.json", "distinct", "solutions", "described", "chosen",
       "placeholder", "segments_section", "maps", "params:validation", "params:tiers",
       "params:scoring"), ("model.json",)),
    S("labels.parquet", doc.labels_doc,
      ("users", "described", "baseline", "segments", "reasons", "chosen", "channels", "groups"),
      ("labels.parquet",),
      quiet=True),
    S("summary", doc.summarise, ("source", "validation_report.json", "users", "distinct", "tree",
                                 "chosen", "tiers", "segments", "settings"), ("summary",),
      quiet=True),
    S("what changed", doc.what_changed,
      ("history", "summary", "validation_report.json", "model.json", "labels.parquet", "users",
       "campaign_result", "params:drift"), ("changes.json",)),
    S("costs.json", doc.costs_doc, ("params:scale",), ("costs.json",), quiet=True),
    S("findings.json", doc.findings_doc,
      ("validation_report.json", "exploration.json", "metrics.json", "segments.json",
       "profiles.json", "agreement.json", "changes.json", "summary", "censoring",
       "params:selection"), ("findings.json",)),
)
