"""`ventanilla sla report`: the ANS compliance of each entity's services over a period."""

import csv
import io
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.case_ledger.projections.sla import SlaLine, ledger_sla_report
from services.cli.failures import CliError, expected_failures
from services.cli.options import DEFAULT_DIR, DataDirOption
from services.datadir import DataDir

app = typer.Typer(help="Service-level agreements (ANS) of the entities.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def parse_moment(text: str, option: str) -> datetime:
    """An ISO date or date-time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{option} {text!r} is not a date", "Use ISO 8601: 2026-12-01 or 2026-12-01T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("report")
def sla_report(
    start: Annotated[str, typer.Option("--from", help="Start of the period (ISO, inclusive).")],
    end: Annotated[str, typer.Option("--to", help="End of the period (ISO, exclusive).")],
    entity: Annotated[str | None, typer.Option(help="Only this entity, e.g. reniec.")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Per entity, service and procedure: steps, % within the deadline, p50/p95, breaches."""
    from services.cli.ledger import open_ledger

    with expected_failures():
        since, until = parse_moment(start, "--from"), parse_moment(end, "--to")
        if until <= since:
            raise CliError("--to must come after --from")
        with open_ledger(DataDir(data_dir)) as ledger:
            lines = ledger_sla_report(ledger, since, until, datetime.now(UTC), entity)
    if output is Format.json:
        typer.echo(json.dumps({"from": since.isoformat(), "to": until.isoformat(),
                               "lines": [line.as_dict() for line in lines]}, indent=2))  # fmt: skip
    elif output is Format.csv:
        typer.echo(as_csv(lines), nl=False)
    else:
        Console(highlight=False, soft_wrap=True).print(as_table(lines))


CSV_COLUMNS = (
    "entity", "service", "procedure", "deadline_s", "steps", "within_deadline",
    "within_deadline_pct", "open", "p50_s", "p95_s", "breaches",
)  # fmt: skip


def as_csv(lines: list[SlaLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        row = line.as_dict()
        row["breaches"] = " ".join(f"{b['case_id']}/{b['step_id']}" for b in row["breaches"])
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


def as_table(lines: list[SlaLine]) -> Table:
    table = Table(title="ANS compliance")
    for column in ("entity", "service", "procedure", "steps", "within", "p50 s", "p95 s"):
        table.add_column(column)
    table.add_column("breaches (case/step)")
    for line in lines:
        table.add_row(
            line.entity,
            line.service,
            line.procedure,
            str(line.steps),
            "-" if line.within_pct is None else f"{line.within_pct}%",
            _seconds(line.p50_s),
            _seconds(line.p95_s),
            "\n".join(f"{b.case_id}/{b.step_id}" for b in line.breaches) or "-",
        )
    return table


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
