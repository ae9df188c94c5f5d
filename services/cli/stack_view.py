"""What `ventanilla up` tells its user: where things are, how to try them, what happened."""

import os
import shlex
import shutil
import sys
from pathlib import Path

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from services.stack.supervisor import SupervisorEvent
from services.stack.up import StackInfo

DEMO_BODY = (
    '{"procedure": "duplicado-dni", '
    '"citizen": {"document_type": "DNI", "document_number": "40000001"}, '
    '"inputs": {"reason": "perdida"}}'
)


def moved_ports(info: StackInfo) -> list[str]:
    """Loud notices for requested ports that were busy (a busy port is never taken over)."""
    notices = []
    for what, choice in (("gateway", info.http_port), ("NATS", info.nats_port)):
        if choice.moved:
            notices.append(
                f"[bold black on yellow] port {choice.requested} is busy [/] "
                f"[bold yellow]the {what} listens on port {choice.port} instead[/]"
            )
    return notices


def program() -> str:
    """How the user can call this command again: plain `ventanilla` only when it is on PATH."""
    if shutil.which("ventanilla") or not sys.argv[0].endswith("ventanilla"):
        return "ventanilla"
    return shlex.quote(os.path.relpath(sys.argv[0]))


def summary(info: StackInfo, data_dir: Path) -> RenderableType:
    places = Table.grid(padding=(0, 2))
    places.add_row("gateway", f"{info.gateway_url}  (API docs: {info.gateway_url}/docs)")
    places.add_row("NATS", info.nats_url)
    if info.leafnode_url is not None:
        sites = info.data_dir.root / "sites"
        places.add_row(
            "sites", f"{info.leafnode_url}  (MAC Express leaf nodes; bundles in {sites}/)"
        )
    places.add_row("NATS users", f"{info.nats_users}/  (one nkey seed per process)")
    places.add_row("data", str(info.data_dir.root))
    if info.ledger_store:
        places.add_row("ledger", info.ledger_store)
    places.add_row("credentials", str(info.data_dir.dev_credentials))
    places.add_row("logs", f"{info.data_dir.logs}/  ({', '.join(info.children)}, nats-server)")

    tokens = Table.grid(padding=(0, 2))
    for channel, token in info.credentials.channels.items():
        tokens.add_row(f"channel {channel}", token)
    tokens.add_row("auditor", info.credentials.auditor)
    tokens.add_row("operator", info.credentials.operator)

    # The channel and its delegations share one column, a delegation a line: in an 80-column
    # terminal four columns side by side cut the ids off with an ellipsis.
    clerks = Table.grid(padding=(0, 2))
    for column in ("user", "password"):
        clerks.add_column(column, no_wrap=True)
    clerks.add_column("channel and delegations", overflow="fold")
    for user, clerk in info.credentials.clerks.items():
        under = "".join(f"\n  {d}" for d in clerk.delegations)
        clerks.add_row(user, clerk.password, f"{clerk.channel}{under}")
    staff = Table.grid(padding=(0, 2))
    for role, accounts, home in (
        ("auditor", info.credentials.auditors, "/auditoria"),
        ("operator", info.credentials.operators, "/operaciones"),
    ):
        for user, account in accounts.items():
            staff.add_row(user, account.password, role, f"{info.gateway_url}{home}")

    channel, token = next(iter(info.credentials.channels.items()))
    where = f" --data-dir {shlex.quote(str(data_dir))}"
    curl = (
        f"curl -s -X POST {info.gateway_url}/v1/cases "
        f"-H 'Authorization: Bearer {token}' -H 'Idempotency-Key: demo-1' "
        f"-H 'Content-Type: application/json' -d '{DEMO_BODY}'"
    )
    cli = program()
    examples = [
        f"# as channel {channel}:",
        curl,
        f"{cli} case submit --procedure duplicado-dni --dni 40000001 --input reason=perdida{where}",
        f"{cli} case show CASE_ID{where} --wait",
        f"{cli} case history CASE_ID{where}",
    ]
    return Group(
        Text("\nVentanilla is starting", style="bold"),
        places,
        Text("\ndemo credentials (bearer tokens)", style="bold"),
        tokens,
        Text(
            f"\ncounter console {info.gateway_url}/"
            "  (demo clerks: user, password, channel and the delegations under it)",
            style="bold",
        ),
        clerks,
        Text("\nstaff pages (demo accounts: user, password, role, home)", style="bold"),
        staff,
        Text("\ntry", style="bold"),
        *(Text(line, style="dim" if line.startswith("#") else "") for line in examples),
        Text(""),
    )


def event(e: SupervisorEvent, data_dir: Path) -> str:
    name, pid = escape(e.name), e.pid
    match e.kind:
        case "started":
            return f"[dim]started {name} (pid {pid})[/]"
        case "exited" if e.failing:
            return (
                f"[bold red]{name} cannot start: it {how_it_ended(e.exit_code)}"
                f"{last_words(data_dir, e.name)}; retrying in {e.restart_in:g}s[/] "
                f"— see {data_dir}/logs/{name}.log"
            )
        case "exited":
            return (
                f"[bold yellow]{name} (pid {pid}) {how_it_ended(e.exit_code)}; "
                f"restarting in {e.restart_in:g}s[/] — see {data_dir}/logs/{name}.log"
            )
        case "start-failed":
            return (
                f"[bold red]{name} could not start: {escape(e.detail or '')}; "
                f"retrying in {e.restart_in:g}s[/]"
            )
        case "stopping":
            return f"[dim]stopping {name} (pid {pid})[/]"
        case "killed":
            return f"[yellow]{name} (pid {pid}) did not stop in time: killed[/]"
        case "stopped":
            return f"[dim]stopped {name}[/]"
    return f"{e.kind} {name}"


def last_words(data_dir: Path, name: str, limit: int = 600) -> str:
    """The last line a child wrote to its log, as `: …`; empty when there is none."""
    try:
        with (Path(data_dir) / "logs" / f"{name}.log").open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 8192))
            lines = [ln for ln in log.read().decode(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    if not lines:
        return ""
    last = lines[-1].strip()
    return f": {escape(last[:limit])}"


def how_it_ended(code: int | None) -> str:
    if code is not None and code < 0:
        return f"was killed by signal {-code}"
    return f"exited with code {code}"
