"""`ventanilla clerk ...`: the counter console's clerk accounts, in the data dir's counter store.

Passwords are generated, printed once and kept only as argon2 hashes. A clerk works at one
channel and under the delegations named here (the catalog's delegation files, docs/catalog.md);
with no `--delegation`, every delegation that covers the channel.
"""

import re
from typing import Annotated

import typer
from rich.console import Console

from schemas.delegations import delegations, delegations_at
from services.cli.options import DEFAULT_DIR, DataDirOption
from services.datadir import DataDir
from services.gateway.web.counter_store import ClerkError, CounterStore, new_password

app = typer.Typer(help="Clerk accounts of the counter console: add, disable, reset, list.")
console = Console(highlight=False, soft_wrap=True)
USER = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _store(data_dir: DataDirOption) -> CounterStore:
    return CounterStore(DataDir(data_dir).counter_store)


@app.command()
def add(
    user: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    channel: Annotated[str, typer.Option(help="The channel the clerk works at.")],
    delegation: Annotated[
        list[str] | None,
        typer.Option(help="Repeatable: a delegation id. Default: every one at the channel."),
    ] = None,
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Add a clerk; the password is printed once."""
    if not USER.match(user):
        raise typer.BadParameter("use 2 to 64 lower-case letters, digits, '.', '_' or '-'")
    names = tuple(delegation) if delegation else delegations_at(channel)
    unknown = [n for n in names if n not in delegations()]
    if unknown:
        raise typer.BadParameter(
            f"unknown delegation {unknown[0]!r}; known: {', '.join(delegations())}"
        )
    outside = [n for n in names if channel not in delegations()[n].channels]
    if outside:
        raise typer.BadParameter(f"delegation {outside[0]!r} does not cover channel {channel!r}")
    password = new_password()
    try:
        _store(data_dir).add(user, channel, names, password)
    except ClerkError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"clerk       {user} at {channel}")
    console.print(f"delegations {', '.join(names) or 'none'}")
    console.print(f"password    {password}")
    console.print("[yellow]the password is shown only now; the console keeps only its hash[/]")


@app.command()
def reset(
    user: Annotated[str, typer.Argument(help="The clerk's login name.")],
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Give a clerk a new password (printed once); their open sessions end."""
    password = new_password()
    try:
        _store(data_dir).reset(user, password)
    except ClerkError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"password    {password}")


@app.command()
def disable(
    user: Annotated[str, typer.Argument(help="The clerk's login name.")],
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Disable a clerk: their sessions end and they cannot log in until `clerk reset`."""
    try:
        _store(data_dir).disable(user)
    except ClerkError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"disabled {user}")


@app.command(name="list")
def list_clerks(data_dir: DataDirOption = DEFAULT_DIR) -> None:
    """Every clerk with their channel, delegations and whether they may log in."""
    for clerk in _store(data_dir).clerks():
        state = "disabled" if clerk.disabled else "enabled"
        console.print(f"{clerk.user}  {clerk.channel}  {state}  {', '.join(clerk.delegations)}")
