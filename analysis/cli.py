"""The ``c2c`` command line: wires stages together, turns C2CError into one sentence + exit code.

Exit codes (DESIGN.md): 0 ok, 1 the data broke a rule (or rows were rejected, or a page failed
to render), 2 unreadable input, bad usage, a bad configuration or another build running.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from analysis.errors import C2CError, terminal_safe

#: ``--data PATH``: the raw export; commands fall back to analysis.config.default_data_path.
data_option = click.option(
    "--data", "data_path", type=click.Path(path_type=Path), default=None,
    help="Raw export (CSV or zip). Default: $C2C_DATA, then data/raw/.")
wait_option = click.option(
    "--wait", is_flag=True, help="Wait for another running build instead of exiting 2.")


def _settings():
    from analysis.config import load_config

    return load_config()


def _home(settings):
    from analysis.publishing.release import home_for

    return home_for(settings)


def _data(settings, data_path: Path | None) -> Path:
    from analysis.config import default_data_path

    return data_path or default_data_path(settings.data)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Segment the users of a C2C fashion marketplace and publish the findings."""


@cli.command("segment")
@data_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Artifacts folder, replaced atomically on success. Default: work/artifacts/ "
                   "(not published: `c2c render --artifacts DIR` or `c2c build` publish).")
def segment_command(data_path: Path | None, out_dir: Path | None) -> int:
    """Validate, cluster all users (K-Means and Ward over the k range), evaluate, write
    artifacts (compared with the published release's history)."""
    from analysis.publishing.build import segment
    from analysis.publishing.release import history

    settings = _settings()
    home = _home(settings)
    out = out_dir or home.work / "artifacts"
    segment(_data(settings, data_path), out, settings, history(home))
    click.echo(f"artifacts written to {out}")
    return 0


@cli.command("build")
@data_option
@wait_option
def build_command(data_path: Path | None, wait: bool) -> int:
    """Validate, segment, render the site and publish all three as one release.

    Exit 1 when the data fails validation or a page fails to render, 2 when the input cannot
    be read or another build is running; either way the published release is untouched.
    """
    from analysis.publishing.build import build

    settings = _settings()
    build(_data(settings, data_path), settings, _home(settings), wait=wait, log=click.echo)
    return 0


@cli.command("render")
@click.option("--artifacts", "artifacts_dir", type=click.Path(path_type=Path), default=None,
              help="Artifacts folder (e.g. from `c2c segment --out`). Default: the published "
                   "release's.")
@wait_option
def render_command(artifacts_dir: Path | None, wait: bool) -> int:
    """Render the site again from checked artifacts and publish them as a new release."""
    from analysis.publishing.build import render

    settings = _settings()
    render(settings, _home(settings), artifacts_dir, wait=wait, log=click.echo)
    return 0


@cli.command("score")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="CSV of scored users: identifierHash, cluster, tier, distance, margin, "
                   "algorithm, k.")
@click.option("--rejects", type=click.Path(path_type=Path), default=None,
              help="CSV of rejected rows: their cells, line and reject_reason.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="model.json of a release. Default: the published release's.")
@click.option("--algorithm", default=None, help="kmeans or ward. Default: the chosen solution's.")
@click.option("--k", type=int, default=None, help="Number of clusters. Default: the chosen k.")
def score_command(input_path: Path, out: Path, rejects: Path | None, model_path: Path | None,
                  algorithm: str | None, k: int | None) -> int:
    """Classify new users (CSV or zipped CSV, raw export columns) with the saved model.

    Each user gets the cluster whose centroid is nearest in the scaled feature space, that
    cluster's tier, the distance to it and the margin to the next nearest centroid. A new user
    joins the Ward cluster with the nearest centroid. Rows that break a rule are rejected with
    their reasons; exit 1 when any row was rejected, 2 when the input or model is unusable.
    """
    from analysis.errors import clip_list
    from analysis.intake.reader import InputLimits
    from analysis.scoring import output, score

    settings = _settings()
    output.check_paths(input_path, out, rejects)
    model = score.load_model(model_path or _home(settings).root / settings.scoring.model)
    solution = score.pick_solution(model, algorithm, k)
    result = score.score_file(input_path, model, solution["algorithm"], solution["k"],
                              limits=InputLimits.of(settings.validation))
    if result.extra_columns:
        click.echo(terminal_safe(f"warning: ignoring column(s) not in the schema: "
                                 f"{clip_list(result.extra_columns)}"), err=True)
    output.write_outputs(result, out, rejects)
    for line in output.summary_lines(result, settings.scoring.show_rejects, rejects):
        click.echo(terminal_safe(line))  # cell text may hold escape sequences
    return 1 if len(result.rejected) else 0


@cli.command("validate")
@data_option
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=None,
              help="JSON report to write. Default: work/validation_report.json (never the "
                   "published artifacts).")
def validate_command(data_path: Path | None, report_path: Path | None) -> int:
    """Check the raw export against the validation suite; print a summary, write the report.

    Exit 0 when every critical expectation holds (warnings allowed), 1 when one fails,
    2 when the file cannot be read.
    """
    from rich.console import Console

    from analysis.catalog import json_bytes
    from analysis.errors import InputError
    from analysis.intake.files import display_path, file_sha256, writable_target
    from analysis.intake.reader import InputLimits, read_raw_table
    from analysis.publishing.folders import write_bytes_atomic
    from validation.runner import format_summary, validate_users

    settings = _settings()
    if data_path is None:
        data_path = _data(settings, None)
        if not data_path.exists():
            raise InputError(f"Cannot read {display_path(data_path)}: the file does not exist; "
                             "run `c2c fetch-data` or pass --data.")
    target = report_path or _home(settings).work / "validation_report.json"
    why = writable_target(target, (data_path,))  # checked before the work, not after it
    if why is not None:
        raise InputError(f"Cannot write {display_path(target)}: {why}. Choose another "
                         "--report path.")
    with Console(stderr=True).status(f"validating {display_path(data_path)} ..."):
        raw = read_raw_table(data_path, InputLimits.of(settings.validation))
        report = validate_users(raw, data_path.name, settings.validation, settings.placeholder,
                                sha256=file_sha256(data_path))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, json_bytes(report))
    click.echo(format_summary(report))
    click.echo(f"report: {display_path(target)}")
    return 1 if report["status"] == "fail" else 0


@cli.command("fetch-data")
@click.option("--dest", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder to put the export in. Default: [data].raw_dir (data/raw/).")
def fetch_data_command(dest: Path | None) -> int:
    """Put the raw export into data/raw/: copy it from a local mirror or download it.

    The sha256 is checked either way; exit 2 (nothing written) when no source has it.
    """
    from analysis.intake.fetch import fetch_data
    from analysis.intake.files import display_path

    path, how = fetch_data(_settings().data, dest)
    click.echo(f"{display_path(path)}: {how}.")
    return 0


@cli.command("bench")
@data_option
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write every figure to this JSON file.")
@click.option("--scale", "scale", is_flag=False, flag_value="config", default=None,
              help="Also run the real `c2c build` on generated exports of these many users "
                   "(comma-separated, or no value for config [scale].sizes), one child process "
                   "each; 6 million users take about half an hour.")
@click.option("--scale-only", is_flag=True,
              help="Run only the scale runs (skip the kernel comparisons on the real users).")
def bench_command(data_path: Path | None, json_path: Path | None, scale: str | None,
                  scale_only: bool) -> int:
    """Measure our stages against the baselines they replace, side by side, and print ratios.

    Ward vs fastcluster and silhouette vs scikit-learn on all real users (with exactness
    checks), the whole `c2c segment` (wall time, peak memory), scoring rows/s; with --scale,
    the whole `c2c build` on N-user exports made from the real rows (per-stage seconds,
    distinct rows, peak memory of the build's processes, output sizes).
    """
    import json

    from rich.console import Console

    settings = _settings()
    console = Console(stderr=True)

    def log(message: str) -> None:
        console.print(f"[dim]{message}[/]")

    sizes = (list(settings.scale.sizes) if scale == "config" else
             [int(float(v)) for v in scale.split(",")] if scale else [])
    if scale_only and not sizes:
        raise click.UsageError("--scale-only needs --scale")
    data = _data(settings, data_path)
    result: dict = {}
    if not scale_only:
        from analysis.bench.kernels import run_bench

        result = run_bench(data, settings, log=log)
        _print_figures(result)
    if sizes:
        from analysis.bench.scale import scale_runs

        result["scale"] = scale_runs(sizes, data, settings, log=log)
        _print_scale(result["scale"])
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def _print_figures(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="c2c bench")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if not isinstance(value, dict):
            table.add_row(key, f"{value:,.4g}" if isinstance(value, float) else str(value))
    Console().print(table)
    if "intake" in result:
        _print_intake(result["intake"])


def _print_intake(intake: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"intake, {intake['users']:,} users: pyarrow + pandas / NumPy vs polars")
    for column in ("step", "current s", "polars s", "speedup", "identical", "pipeline uses"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step, uses in intake["pipeline_uses"].items():
        row = intake[step]
        current = next(v for k, v in row.items() if k.endswith("_seconds") and "polars" not in k)
        table.add_row(step, f"{current:.2f}", f"{row['polars_seconds']:.2f}",
                      f"{row['speedup']}", str(row["identical"]), uses)
    Console().print(table)


def _print_scale(scale: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from analysis.bench.scale import TABLE_COLUMNS, table_rows

    table = Table(title=f"c2c bench --scale ({scale['measured_at']}, "
                        f"{scale['machine']['cpus']} CPUs)")
    for column in TABLE_COLUMNS:
        table.add_column(column, justify="left" if column == "slowest stages" else "right")
    for row in table_rows(scale):
        table.add_row(*row)
    Console(width=200).print(table)
    for run in scale["runs"]:
        if "error" not in run.get("intake", {"error": 1}):
            _print_intake(run["intake"])


def main() -> None:
    """Console-script entry point: run the CLI, print C2CError as one line, exit with its code.

    File-system errors that escape a command (a folder where a file is expected, no permission)
    are file-level problems: one sentence, exit 2.
    """
    try:
        status = cli.main(standalone_mode=False)
    except C2CError as err:
        click.echo(terminal_safe(f"error: {err}"), err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(2)
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        click.echo(terminal_safe(f"error: cannot use{where}: {err.strerror or err}"), err=True)
        sys.exit(2)
    # Commands return their exit status (0 ok, 1 data problem) or None for 0.
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
