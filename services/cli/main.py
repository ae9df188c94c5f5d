"""Entry point of the `ventanilla` command; each group of commands lives in its own module."""

import typer

from services.cli import (
    adapter,
    asyncapi,
    audit,
    case,
    catalog,
    citizen,
    clerk,
    deploy,
    dlq,
    ledger_streams,
    serve,
    sites,
    staff,
    token,
    up,
)
from services.cli.indicators import indicators, savings
from services.cli.observe import metrics_app, status
from services.cli.sla import app as sla_app

app = typer.Typer(
    name="ventanilla",
    help="Ventanilla, the interchange bus of the MAC platform: one case, many institutions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="up")(up.up)
app.command(name="asyncapi")(asyncapi.asyncapi)
app.add_typer(case.app, name="case")
app.add_typer(adapter.app, name="adapter")
app.add_typer(catalog.app, name="catalog")
app.add_typer(audit.app, name="audit")
app.add_typer(citizen.app, name="citizen")
app.add_typer(serve.app, name="serve")
app.add_typer(deploy.app, name="deploy")
app.add_typer(token.app, name="token")
app.add_typer(clerk.app, name="clerk")
app.add_typer(staff.staff_app("auditor"), name="auditor")
app.add_typer(staff.staff_app("operator"), name="operator")
app.add_typer(dlq.app, name="dlq")
app.add_typer(ledger_streams.app, name="ledger")
app.add_typer(sites.app, name="site")
app.command(name="sites")(sites.sites)
app.add_typer(sla_app, name="sla")
app.add_typer(metrics_app, name="metrics")
app.command("status")(status)
app.command("indicators")(indicators)
app.command("savings")(savings)
