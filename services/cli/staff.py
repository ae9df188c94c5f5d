"""`ventanilla auditor ...` and `ventanilla operator ...`: staff accounts of the web console.

Auditors read the audit pages under /auditoria, operators the operations pages under
/operaciones. Like clerks' (`ventanilla clerk`), passwords are generated, printed once and kept
only as argon2 hashes in the data dir's counter store; the same login form serves every account.
"""

from typing import Annotated

import typer
from rich.console import Console

from services.cli.clerk import USER
from services.cli.options import DEFAULT_DIR, DataDirOption
from services.datadir import DataDir
from services.gateway.web.counter_store import (
    ROLE_HOMES,
    ClerkError,
    CounterStore,
    Role,
    new_password,
)

console = Console(highlight=False, soft_wrap=True)


def _store(data_dir: DataDirOption) -> CounterStore:
    return CounterStore(DataDir(data_dir).counter_store)


def _member_of(store: CounterStore, user: str, role: Role) -> None:
    """Refuse to touch an account of another role under this role's commands."""
    member = store.staff_member(user)
    if member is None or member.role != role:
        console.print(f"[bold red]there is no {role} {user!r}[/]")
        raise typer.Exit(1)


def staff_app(role: Role) -> typer.Typer:
    app = typer.Typer(help=f"{role.capitalize()} accounts of the web console ({ROLE_HOMES[role]}).")
    UserArg = Annotated[str, typer.Argument(help=f"The {role}'s login name.")]

    @app.command()
    def add(
        user: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
        data_dir: DataDirOption = DEFAULT_DIR,
    ) -> None:
        """Add an account; the password is printed once."""
        if not USER.match(user):
            raise typer.BadParameter("use 2 to 64 lower-case letters, digits, '.', '_' or '-'")
        password = new_password()
        try:
            _store(data_dir).add_staff(user, role, password)
        except ClerkError as exc:
            console.print(f"[bold red]{exc}[/]")
            raise typer.Exit(1) from None
        console.print(f"{role:<11} {user}")
        console.print(f"password    {password}")
        console.print("[yellow]the password is shown only now; the console keeps only its hash[/]")

    @app.command()
    def reset(user: UserArg, data_dir: DataDirOption = DEFAULT_DIR) -> None:
        """Give the account a new password (printed once); its open sessions end."""
        store = _store(data_dir)
        _member_of(store, user, role)
        password = new_password()
        store.reset_staff(user, password)
        console.print(f"password    {password}")

    @app.command()
    def disable(user: UserArg, data_dir: DataDirOption = DEFAULT_DIR) -> None:
        """Disable the account: its sessions end and it cannot log in until `reset`."""
        store = _store(data_dir)
        _member_of(store, user, role)
        store.disable_staff(user)
        console.print(f"disabled {user}")

    @app.command(name="list")
    def list_members(data_dir: DataDirOption = DEFAULT_DIR) -> None:
        """Every account of this role and whether it may log in."""
        for member in _store(data_dir).staff_members(role):
            console.print(f"{member.user}  {'disabled' if member.disabled else 'enabled'}")

    return app
