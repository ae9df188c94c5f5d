"""`ventanilla up`: the whole stack in the foreground until Ctrl-C or SIGTERM."""

import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from nats.errors import Error as NatsError
from rich.console import Console
from rich.markup import escape

from schemas.catalog import CatalogError
from schemas.entities import EntityPackageError
from services.cli import stack_view
from services.cli.options import (
    DEFAULT_DIR,
    DataDirOption,
    TlsCaOption,
    TlsCertOption,
    TlsKeyOption,
    tls_files,
)
from services.datadir import DataDir
from services.entity_adapters.registry import BackOfficeFactoryError
from services.shutdown import stop_flag_on_signals
from services.stack.held import StackAlreadyRunning
from services.stack.natsd import NatsServerError
from services.stack.supervisor import Supervisor
from services.stack.up import (
    LocalStack,
    UpOptions,
    gateway_unready,
    ledger_partitions,
    wait_until,
)

READY_TIMEOUT = 90.0

console = Console(highlight=False, soft_wrap=True)


def up(
    data_dir: DataDirOption = DEFAULT_DIR,
    http_port: Annotated[
        int, typer.Option(help="Gateway port; 0 = any free port. A busy port is never taken.")
    ] = 8000,
    nats_port: Annotated[
        int, typer.Option(help="NATS port; 0 = any free port. A busy port is never taken.")
    ] = 4222,
    host: Annotated[str, typer.Option(help="Interface every server listens on.")] = "127.0.0.1",
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    tls_ca: TlsCaOption = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="The ledger's database, e.g. postgresql://user@host:5432/db; kept in the data "
            "dir for later runs. Default: what the data dir says (SQLite in it at first).",
        ),
    ] = None,
    ledger_workers: Annotated[
        int,
        typer.Option(
            help="Ledger worker processes sharing the store's partitions (more than one needs "
            "--store postgresql://...); when one dies, the others take its partitions over.",
            min=1,
        ),
    ] = 1,
    back_office: Annotated[
        list[str] | None,
        typer.Option(
            help="entity=module:factory: the back office of one entity (repeatable); the others "
            "use their package's default, the demo's fakes.",
        ),
    ] = None,
) -> None:
    """Start NATS, the ledger, the adapters and the gateway; restart what dies; Ctrl-C stops."""
    tls = tls_files(tls_cert, tls_key, tls_ca)
    if store is not None and urlsplit(store).scheme not in ("postgresql", "postgres", "sqlite"):
        raise typer.BadParameter("use postgresql://… or sqlite:///…", param_hint="--store")
    back_offices = []
    for item in back_office or ():
        entity, sep, factory = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: write it as entity=module:factory")
        back_offices.append((entity, factory))
    try:
        ledger_partitions(store or DataDir(data_dir).ledger_store_url(), ledger_workers)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ledger-workers") from None
    stopping = stop_flag_on_signals()
    supervisor = Supervisor(on_event=lambda e: console.print(stack_view.event(e, data_dir)))
    options = UpOptions(
        data_dir,
        host,
        http_port,
        nats_port,
        tls,
        store,
        back_offices=tuple(back_offices),
        ledger_workers=ledger_workers,
    )
    stack = LocalStack(options, supervisor)
    console.print(f"starting Ventanilla in [bold]{data_dir}[/] …")
    try:
        info = stack.start()
    except CatalogError as exc:
        console.print(
            f"[bold red]could not start the stack: the procedure catalog has "
            f"{len(exc.faults)} fault(s) (docs/catalog.md):[/]"
        )
        for fault in exc.faults:
            console.print(f"  {escape(fault)}", style="red")
        raise typer.Exit(1) from None
    except (EntityPackageError, BackOfficeFactoryError) as exc:
        console.print(f"[bold red]could not start the stack: {exc}[/]")
        raise typer.Exit(1) from None
    except (StackAlreadyRunning, NatsServerError, NatsError, OSError) as exc:
        console.print(f"[bold red]could not start the stack: {exc}[/]")
        console.print(f"[red]logs: {Path(data_dir) / 'logs'}[/]")
        raise typer.Exit(1) from None
    for warning in stack_view.moved_ports(info):
        console.print(warning)
    console.print(stack_view.summary(info, data_dir))

    def ready() -> bool:
        # "Running" only when every child is up and the gateway says it can serve.
        return not supervisor.failing() and gateway_unready(info.gateway_url) is None

    said_ready = wait_until(
        ready, timeout=READY_TIMEOUT, tick=supervisor.tick, interrupted=stopping.is_set
    )
    if said_ready:
        _print_ready(info.gateway_url)
    elif not stopping.is_set():
        failing = supervisor.failing()
        why = gateway_unready(info.gateway_url) or "the gateway is ready"
        console.print(
            f"[bold red]Ventanilla does not serve yet after {READY_TIMEOUT:.0f}s[/]: "
            + (f"[bold red]{', '.join(failing)} cannot start[/]; " if failing else "")
            + f"{why}; still trying — see {data_dir}/logs/"
        )
    last_check = 0.0
    while not stopping.is_set():
        supervisor.tick()
        if not said_ready and time.monotonic() - last_check > 2.0:
            last_check = time.monotonic()
            said_ready = ready()
            if said_ready:
                _print_ready(info.gateway_url)
        stopping.wait(0.2)
    console.print("stopping …")
    stack.stop()
    console.print("[bold]stopped[/]")


def _print_ready(gateway_url: str) -> None:
    console.print(
        f"[bold green]Ventanilla is running[/]: ready at {gateway_url} — Ctrl-C stops everything"
    )
