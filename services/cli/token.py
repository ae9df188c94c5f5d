"""`ventanilla token ...`: issue and revoke gateway tokens in the data dir's token file.

The gateway keeps only SHA-256 hashes and re-reads the file when it changes, so an issued token
works, and a revoked one stops working, without a restart.
"""

from typing import Annotated, get_args

import typer
from rich.console import Console

from services.cli.options import DEFAULT_DIR, DataDirOption
from services.credentials import DEFAULT_RATE_PER_MINUTE, Principal, PrincipalKind, Scope
from services.datadir import DataDir
from services.tokens import issue_token, revoke_token

app = typer.Typer(help="Issue and revoke bearer tokens for channels, auditors and operators.")
console = Console(highlight=False, soft_wrap=True)
SCOPES: tuple[str, ...] = get_args(Scope)


@app.command()
def issue(
    channel: Annotated[str | None, typer.Option(help="A channel id, e.g. mac-lima-norte.")] = None,
    auditor: Annotated[str | None, typer.Option(help="An auditor's id.")] = None,
    operator: Annotated[str | None, typer.Option(help="An operator's id.")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help=f"Repeatable; one of {', '.join(SCOPES)}. Default: the kind's usual."),
    ] = None,
    rate: Annotated[
        int, typer.Option(help="Requests per minute.", min=1)
    ] = DEFAULT_RATE_PER_MINUTE,
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Issue a token; it is printed once and only its hash is kept."""
    candidates: tuple[tuple[PrincipalKind, str | None], ...] = (
        ("channel", channel),
        ("auditor", auditor),
        ("operator", operator),
    )
    named = [(kind, who) for kind, who in candidates if who is not None]
    if len(named) != 1:
        raise typer.BadParameter("give exactly one of --channel, --auditor, --operator")
    unknown = [s for s in scope or () if s not in SCOPES]
    if unknown:
        raise typer.BadParameter(f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    kind, who = named[0]
    principal = Principal.model_validate(
        {"kind": kind, "id": who, "scopes": frozenset(scope) if scope else None}
    )
    token_id, token = issue_token(DataDir(data_dir).gateway_tokens, principal, rate)
    console.print(f"token id  {token_id}")
    console.print(f"token     {token}")
    console.print("[yellow]the token is shown only now; the gateway keeps only its hash[/]")


@app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="The id printed by `token issue`.")],
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Revoke a token: the gateway refuses it from its next request on."""
    if not revoke_token(DataDir(data_dir).gateway_tokens, token_id):
        console.print(f"[bold red]no token with id {token_id}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {token_id}")
