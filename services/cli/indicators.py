"""`ventanilla indicators`: the management indicators of a period, as tables or CSV."""

import asyncio
import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from nats.aio.client import Client
from rich.console import Console
from rich.table import Table

from schemas.indicators import IndicatorsReport
from services.case_ledger.projections.indicators import ledger_case_savings, ledger_indicators
from services.cli.dlq import NatsUrlOverride, with_bus
from services.cli.failures import CliError, expected_failures
from services.cli.options import DEFAULT_DIR, CredentialsOption, DataDirOption, TlsCaOption
from services.cli.sla import parse_moment
from services.datadir import DataDir
from services.logging import setup_logging
from services.observability.bus_state import dead_letters_by_source
from services.observability.indicator_views import as_csv, with_dead_letters


def indicators(
    start: Annotated[str, typer.Option("--from", help="Start of the period (ISO, inclusive).")],
    end: Annotated[str, typer.Option("--to", help="End of the period (ISO, exclusive).")],
    csv: Annotated[bool, typer.Option("--csv", help="One long CSV instead of tables.")] = False,
    bus: Annotated[
        bool, typer.Option("--bus/--no-bus", help="Ask the stack's NATS for the dead letters.")
    ] = True,
    data_dir: DataDirOption = DEFAULT_DIR,
    nats_url: NatsUrlOverride = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """Attentions per channel and day, per procedure and entity; times per procedure;
    rejection reasons ranked; retries and dead letters per entity."""
    from services.cli.ledger import open_ledger

    with expected_failures():
        since, until = parse_moment(start, "--from"), parse_moment(end, "--to")
        if until <= since:
            raise CliError("--to must come after --from")
        with open_ledger(DataDir(data_dir)) as ledger:
            report = ledger_indicators(ledger, since, until)
    if bus:
        report = _with_letters(report, data_dir, nats_url, credentials, tls_ca)
    if csv:
        typer.echo(as_csv(report), nl=False)
        return
    out = Console(highlight=False, soft_wrap=True)
    for table in as_tables(report, since, until):
        out.print(table)


def _with_letters(
    report: IndicatorsReport,
    data_dir: Path,
    nats_url: str | None,
    credentials: Path | None,
    tls_ca: Path | None,
) -> IndicatorsReport:
    async def letters(nc: Client) -> dict[str, int]:
        return await dead_letters_by_source(nc.jetstream())

    # The NATS client logs (a closed connection, a reconnect): to stderr, so stdout stays the
    # report alone (a CSV read by another program).
    setup_logging("ventanilla-indicators", "WARNING")
    try:
        by_source = asyncio.run(with_bus(data_dir, nats_url, credentials, tls_ca, letters))
    except (CliError, OSError, ValueError) as exc:
        # The ledger's figures stand without the bus; say what is missing instead of failing.
        typer.echo(f"dead letters left out (no bus): {exc}", err=True)
        return report
    return with_dead_letters(report, by_source)


def _n(value: float | int | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def as_tables(report: IndicatorsReport, since: datetime, until: datetime) -> list[Table]:
    period = f"{since.isoformat()} to {until.isoformat()}"
    days = Table(title=f"Attentions per channel and day ({period})")
    for column in ("channel", "day (UTC)", "attentions"):
        days.add_column(column)
    for d in report.channel_days:
        days.add_row(d.channel, d.day.isoformat(), str(d.attentions))
    procs = Table(title="Per procedure")
    for column in ("procedure", "attentions", "completed", "rejected", "open", "mean s", "p95 s"):
        procs.add_column(column)
    for p in report.procedures:
        values = (p.attentions, p.completed, p.rejected, p.open, p.mean_s, p.p95_s)
        procs.add_row(p.procedure, *(_n(v) for v in values))
    ents = Table(title="Per entity")
    for column in ("entity", "steps", "completed", "rejected", "failed", "retries", "dead letters"):
        ents.add_column(column)
    for e in report.entities:
        figures = (e.attentions, e.completed, e.rejected, e.failed, e.retries, e.dead_letters)
        ents.add_row(e.entity, *(_n(v) for v in figures))
    saved = Table(title=f"Citizens' savings (completed cases; values: {report.savings_basis})")
    for column in ("channel", "procedure", "cases", "not counted", "documents", "entities",
                   "trips", "hours", "soles"):  # fmt: skip
        saved.add_column(column)
    for s in report.savings:
        counts = (s.cases, s.not_counted, s.documents, s.entities, s.trips, s.hours, s.soles)
        saved.add_row(s.channel, s.procedure, *(_n(v) for v in counts))
    reasons = Table(title="Rejection reasons, most frequent first")
    for column in ("kind", "entity", "service", "cases"):
        reasons.add_column(column)
    for r in report.rejection_reasons:
        reasons.add_row(r.kind, r.entity or "-", r.service or "-", str(r.cases))
    return [days, procs, ents, reasons, saved]


SAVINGS_COLUMNS = ("case_id", "procedure", "channel", "submitted_at", "status", "counted",
                   "documents", "entities", "trips", "hours", "soles")  # fmt: skip


def savings(
    start: Annotated[str, typer.Option("--from", help="Start of the period (ISO, inclusive).")],
    end: Annotated[str, typer.Option("--to", help="End of the period (ISO, exclusive).")],
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Per case submitted in the period: the documents, entity visits, trips, hours and soles
    its citizen was spared (CSV; docs/impact.md states the method)."""
    from services.cli.ledger import open_ledger

    with expected_failures():
        since, until = parse_moment(start, "--from"), parse_moment(end, "--to")
        if until <= since:
            raise CliError("--to must come after --from")
        with open_ledger(DataDir(data_dir)) as ledger:
            cases = ledger_case_savings(ledger, since, until)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SAVINGS_COLUMNS)
    for case, saved in cases:
        figures = ("", "", "", "", "") if saved is None else (
            saved.documents, saved.entities, saved.trips, saved.hours, saved.soles
        )  # fmt: skip
        writer.writerow([case.case_id, case.procedure, case.channel,
                         case.submitted_at.isoformat(), case.status,
                         "yes" if saved is not None else "no", *figures])  # fmt: skip
    typer.echo(out.getvalue(), nl=False)
