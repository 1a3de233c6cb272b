"""The Method page: input and fingerprints, the login placeholder and its effect, how
segments and the choice are made, the run, versions and the configuration."""

from __future__ import annotations

import tomli_w
from IPython.display import HTML

from analysis.report import formats as f
from analysis.report.charts.costs import cost_curve
from analysis.report.charts.present import load
from analysis.report.charts.render import chart_html
from analysis.report.pages.html import block, esc, paragraphs, table
from analysis.vocabulary import TIERS


def input_facts() -> HTML:
    """Which file, how big, its fingerprint, and how many users went where."""
    m = load("manifest")
    return block(table(["", ""], [
        ["File", m["input"]["name"]], ["Size", f"{f.count(m['input']['bytes'])} bytes"],
        ["sha256", m["input_sha256"]], ["Rows read", f.count(m["rows_in"])],
        ["Users clustered", f.count(m["rows_clustered"])],
        ["Users in the Ward tree", f.count(m["hierarchical_rows"])],
        ["Distinct behaviour rows", f.count(m["distinct_feature_rows"])]], "The input"))


def placeholder() -> HTML:
    """Why recency is censored, and what that changed (tiers before and after, never-engaged
    users split)."""
    effect = load("findings")["censoring"]
    if not effect["applied"]:
        return block(paragraphs(["No login placeholder was found in this export: recency is "
                                 "used as recorded."]))
    found = effect["placeholder"]
    bound = f.count(found["censor_days"])
    text = [f"For {f.count(found['flagged'])} users ({f.share(found['share'])}) the recorded last "
            "login is a placeholder at a fixed offset after sign-up (see Data & quality), so all "
            f"we know is that they have not logged in for at least {bound} days. Days since the "
            f"last login are therefore capped at {bound} for everybody: beyond the bound every "
            "user reads 'no login recorded for that long', one value, and no distance depends on "
            "the unknown part. The placeholder is kept out of the distance as a separate flag: a "
            "0/1 feature would make the clustering split users on the artefact itself. It names "
            "segments and words the reasons instead."]
    never = effect["never_engaged"]
    rows = [[t, f.count(effect["tiers_before"][t]), f.count(effect["tiers_after"][t])]
            for t in TIERS]
    split = [[t, f.count(v["users"]), "–" if v["median_days"] is None
              else f.days(v["median_days"])] for t, v in never["by_type"].items()]
    moved = f"Tiers of the chosen solution: {f.count(effect['moved'])} users change tier"
    return block(paragraphs(text) + table(["Tier", "Without censoring", "With censoring"], rows,
                                          moved)
                 + paragraphs([f"Without the placeholder handling, the {f.count(never['users'])} "
                               "never-engaged users look like one group with a median of "
                               f"{f.days(never['median_days_uncensored'])} days since the last "
                               "login, a number made by the placeholder. With it they split:"])
                 + table(["Never engaged", "Users", "Median days since last login (raw)"],
                         split, "The never-engaged users, split by the placeholder bound"))


def rules() -> HTML:
    """How tiers, segments and the chosen solution are made (this build's thresholds)."""
    seg, findings = load("segments"), load("findings")
    return block(paragraphs([
        "Tiers: " + seg["tier_rule"],
        f"Segments: role (sold or listed, bought, liked or wished, nothing) times recency band "
        f"(recent up to {f.count(seg['recent_days'])} days, the natural break of measured "
        f"recency; unseen from the placeholder bound; lapsed in between); small groups merge "
        "within their tier and kind.",
        "Choice: " + findings["choice"]["rule"]]))


def bootstrap_sampling() -> HTML:
    """How many users each bootstrap resample draws, and why fewer than all is sound."""
    st, threshold = load("stability"), load("manifest")["config"]["selection"]["min_stability"]
    n, m, cap = st["users"], st["resample_users"], st["max_resample_users"]
    why = (f"A clustering refitted on fewer users varies more, so clusters look less stable on "
           f"resamples of {f.count(cap)} users than they would on resamples of all users "
           "(when the best partition is unique, instability shrinks as the sample grows: "
           "Ben-David, von Luxburg and Pál, 2006). The figures therefore err on the low side: a "
           f"cluster that reaches the {f.index(threshold)} threshold here would reach it on "
           "full-size resamples too. Each cluster is still compared with the clusters fitted on "
           "all users, on the users the resample holds, and a refit costs the same whatever the "
           "size of the export.")
    if m < n:
        head = (f"Bootstrap stability refits every solution on {f.count(st['resamples'])} "
                f"resamples. This export holds {f.count(n)} users, more than {f.count(cap)}, "
                f"so each resample draws {f.count(m)} users with replacement instead of all "
                "of them (an m-out-of-n bootstrap).")
    else:
        head = (f"Bootstrap stability refits every solution on {f.count(st['resamples'])} "
                f"resamples of all {f.count(n)} users, drawn with replacement (Hennig's "
                f"clusterboot). An export of more than {f.count(cap)} users would be resampled "
                f"{f.count(cap)} users at a time (an m-out-of-n bootstrap).")
    return block(paragraphs([head, why]))


def _cost_table(points: list[dict]) -> str:
    rows = [[f.count(p["users"]), f.count(p["distinct_rows"]), f.count(p["build_seconds"]),
             "–" if p["ward_seconds"] is None else f.number(p["ward_seconds"]),
             "–" if p["silhouette_seconds"] is None else f.number(p["silhouette_seconds"]),
             f.count(p["peak_memory_mb"]),
             {True: "identical", False: "DIFFERENT", None: "not run at this size"}[
                 p["ward_equals_float64_reference"]]] for p in points]
    return table(["Users", "Distinct rows", "Build, seconds", "Ward, seconds",
                  "Silhouettes, seconds", "Peak memory, MiB", "Ward vs float64 reference"], rows,
                 "The whole c2c build on generated exports (c2c bench --scale)")


def _growth_text(costs: dict) -> list[str]:
    growth, memory = costs["growth_exponents"], costs["memory_ratio"]
    if growth["distinct_rows"] is None:
        return ["Only one export size was measured: no growth can be stated."]
    text = [f"Distinct behaviour rows grow as users to the power {growth['distinct_rows']}, "
            f"the build's seconds to the power {growth['build_seconds']} and its peak memory "
            f"to the power {growth['peak_memory_mb']} (least squares on the log-log points)."]
    if memory:
        text.append(f"From {f.count(memory['from_users'])} to {f.count(memory['to_users'])} "
                    f"users ({memory['users_ratio']}x) peak memory grows "
                    f"{memory['memory_ratio']}x.")
    return [" ".join(text)]


def _beyond_text(costs: dict) -> list[str]:
    ahead = costs["projection"]
    if ahead is None:
        return []
    return [f"Past one machine. Exact Ward and the exact silhouettes cost the square of the "
            f"distinct rows, not of the users, and distinct rows grow slower than users: at "
            f"{f.count(ahead['users'])} users the measured growth projects about "
            f"{f.count(ahead['distinct_rows'])} distinct rows, {ahead['pairwise_work_ratio']}x "
            "the pairwise work of the largest run"
            + ("" if None in (ahead["ward_seconds"], ahead["silhouette_seconds"]) else
               f" (about {f.count(ahead['ward_seconds'])} s of Ward and "
               f"{f.count(ahead['silhouette_seconds'])} s of silhouettes on this machine)")
            + ". "
            "What grows with users is reading, typing, the feature transform and the "
            "GROUP BY that collapses users to distinct rows with their counts: that is the "
            "part to move to Spark or a SQL engine (DuckDB, BigQuery) next to the export, "
            "with the transform's caps from the engine's exact quantiles. The engine hands "
            "the same exact kernels a table of distinct rows and counts, and joins each "
            "user's cluster back through the row's feature values; the bootstrap already "
            "resamples a fixed number of users."]


def cost_at_scale() -> HTML:
    """The committed scale run: the cost curve, its table, the growth, the path beyond."""
    costs = load("costs")
    if not costs["measured"]:
        return block(paragraphs([f"No scale run is committed at {costs['source']}: run "
                                 "c2c bench --scale --json and commit the file."]))
    chart, description = cost_curve(costs)
    machine = costs["machine"]
    where = (f"Measured on {costs['measured_at'][:10]} on {machine['cpus']} CPUs "
             f"({machine['cpu_model']}, {f.count(machine['memory_mb'])} MiB), commit "
             f"{(machine['git_commit'] or 'unknown')[:10]}; exports generated from the real "
             "rows by scripts/make_export.py.")
    failed = [f"The run of {f.count(x['n'])} users failed: {x['error']}" for x in
              costs["failed"]]
    return block(chart_html(chart, description) + _cost_table(costs["points"])
                 + paragraphs([where] + failed + _growth_text(costs) + _beyond_text(costs)))


def run_facts() -> HTML:
    """When the pipeline ran, how long it took and its peak memory."""
    run = load("run")
    return block(paragraphs([f"The pipeline run started at {run['started_at']}, took "
                             f"{f.count(run['seconds_total'])} s and peaked at "
                             f"{f.count(run['peak_rss_mb'])} MiB of memory."]))


def versions() -> HTML:
    """Software versions of the run."""
    m = load("manifest")
    return block(table(["Package", "Version"], [list(x) for x in sorted(m["versions"].items())],
                       "Software versions of the pipeline run"))


def fingerprints() -> HTML:
    """Every artifact with its sha256, as the manifest lists them."""
    m = load("manifest")
    return block(table(["File", "sha256"], [list(x) for x in sorted(m["files"].items())],
                       "Files the pipeline wrote (manifest.json lists them)"))


def configuration() -> HTML:
    """The whole configuration in force, as recorded in the manifest, as TOML."""
    text = tomli_w.dumps(load("manifest")["config"])
    return block(f'<div class="highlight"><pre class="c2c-config">{esc(text)}</pre></div>')
