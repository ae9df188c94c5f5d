"""`ventanilla audit ...`: verify the ledger, sign checkpoints, export and check case evidence."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from services.case_ledger.audit.bundle import NotCovered
from services.case_ledger.audit.bundle_check import describe_head, verify_bundle
from services.case_ledger.audit.checkpoints import BadCheckpointLog
from services.case_ledger.audit.keys import BadKey, parse_trusted_keys, public_key_card
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.audit.signed import KeyRing
from services.cli import render
from services.cli.failures import CliError, expected_failures
from services.cli.options import DEFAULT_DIR, DataDirOption, PurposeOption, SigningKeyOption
from services.cli.reads import cli_read
from services.datadir import DataDir
from services.errors import CaseNotFound

if TYPE_CHECKING:
    from services.case_ledger.application import CaseLedger

app = typer.Typer(help="Verify the ledger and export evidence an auditor can check offline.")

PublicKeyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--public-key",
        help=(
            "A ledger public key (ed25519:…, a key file, or checkpoint-keys.json) to trust "
            "instead of the data dir's; repeat for several."
        ),
    ),
]


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def audit_files(data_dir: Path, signing_key: Path | None) -> AuditFiles:
    folder = DataDir(data_dir)
    return AuditFiles(signing_key or folder.audit_signing_key, folder.audit_checkpoints)


@contextmanager
def opened(data_dir: Path, signing_key: Path | None) -> Iterator[LedgerAudit]:
    with opened_ledger(data_dir, signing_key) as (_, audit):
        yield audit


@contextmanager
def opened_ledger(
    data_dir: Path, signing_key: Path | None
) -> Iterator[tuple["CaseLedger", LedgerAudit]]:
    from services.cli.ledger import open_ledger

    with open_ledger(DataDir(data_dir)) as ledger:
        try:
            yield ledger, LedgerAudit(ledger.recorder, audit_files(data_dir, signing_key))
        except (BadKey, BadCheckpointLog, NotCovered, LookupError) as exc:
            raise CliError(str(exc)) from None


@app.command("verify")
def verify(
    data_dir: DataDirOption = DEFAULT_DIR,
    from_position: Annotated[
        int, typer.Option("--from", help="Recompute hashes from this ledger position on.")
    ] = 0,
    signing_key: SigningKeyOption = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Check every case's hash chain and every signed checkpoint; exit 1 at the first damage."""
    with expected_failures():
        trusted = _trusted(public_key) if public_key else None
        with opened(data_dir, signing_key) as audit:
            report = audit.verify(from_position, trusted)
    out = console()
    if report.intact:
        out.print(
            f"[green]intact[/]: {report.events} events in {report.cases} cases, "
            f"{report.checkpoints} signed checkpoints"
        )
        return
    out.print(f"[bold red]TAMPERED[/] {report.findings[0]}")
    if len(report.findings) > 1:
        out.print(f"[red]{len(report.findings) - 1} more problems after it:[/]")
        for finding in report.findings[1:10]:
            out.print(f"  {finding}")
    raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(data_dir: DataDirOption = DEFAULT_DIR, signing_key: SigningKeyOption = None) -> None:
    """Sign a checkpoint over every event recorded so far (the ledger also does it periodically)."""
    with expected_failures(), opened(data_dir, signing_key) as audit:
        signed = audit.checkpoint()
    if signed is None:
        console().print("the ledger is empty: nothing to sign")
        return
    console().print(
        f"checkpoint at position {signed.position}: {signed.tree_size} events, "
        f"root {signed.root}, key {signed.key_id}"
    )


@app.command("public-key")
def public_key_command(
    data_dir: DataDirOption = DEFAULT_DIR, signing_key: SigningKeyOption = None
) -> None:
    """Print the current checkpoint public key and its fingerprint (created with the key).

    Both lines together can be passed to `--public-key`: the fingerprint is then checked too.
    """
    with expected_failures():
        try:
            key = audit_files(data_dir, signing_key).keys().current().public_key()
        except BadKey as exc:
            raise CliError(str(exc)) from None
    typer.echo(public_key_card(key))


@app.command("keys")
def keys_command(
    data_dir: DataDirOption = DEFAULT_DIR, signing_key: SigningKeyOption = None
) -> None:
    """List every checkpoint key the ledger has signed with: the current one and retired ones."""
    with expected_failures():
        try:
            entries = audit_files(data_dir, signing_key).keys().listed()
        except BadKey as exc:
            raise CliError(str(exc)) from None
    out = console()
    for entry in entries:
        state = f"retired {entry.retired_at}" if entry.retired_at else "current"
        out.print(
            f"{entry.key_id}  {entry.public_key_text}  {entry.fingerprint}  since "
            f"{entry.created_at}  {state}"
        )


@app.command("rotate-signing-key")
def rotate_signing_key(
    data_dir: DataDirOption = DEFAULT_DIR, signing_key: SigningKeyOption = None
) -> None:
    """Replace the checkpoint signing key; the old one is retired (its private half deleted),
    and stays listed so the checkpoints and bundles it signed keep verifying."""
    with expected_failures():
        try:
            retired, fresh = audit_files(data_dir, signing_key).keys().rotate()
        except BadKey as exc:
            raise CliError(str(exc)) from None
    out = console()
    out.print(f"retired key {retired.key_id} ({retired.fingerprint})")
    out.print(f"new key {fresh.key_id}: {fresh.public_key_text} ({fresh.fingerprint})")
    out.print("the next checkpoint is signed with the new key; a running ledger picks it up")


@app.command("export")
def export(
    case_id: Annotated[str, typer.Argument(help="The case to export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the bundle.")],
    purpose: PurposeOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    signing_key: SigningKeyOption = None,
) -> None:
    """Write a case's evidence bundle: events, hashes, inclusion proofs, a signed checkpoint.

    The export is a read of the case's personal data (encrypted in the bundle): it is recorded.
    """
    from services.case_ledger.access_log import BUNDLE_EXPORT, record_case_read
    from services.cli.case import parse_case_id

    with expected_failures():
        case_uuid = parse_case_id(case_id)
        case = str(case_uuid)
        with opened_ledger(data_dir, signing_key) as (ledger, audit):
            bundle = audit.export(case)
            record_case_read(ledger, case_uuid, cli_read(purpose), BUNDLE_EXPORT)
    output.write_text(json.dumps(bundle, indent=2) + "\n")
    state = "final" if bundle["case_head"]["final"] else "still in progress"
    console().print(
        f"{len(bundle['events'])} events of case {case} → {output} "
        f"(checkpoint at position {bundle['checkpoint']['position']}; the case is {state})"
    )


@app.command("verify-bundle")
def verify_bundle_command(
    bundle: Annotated[Path, typer.Argument(help="A bundle from `audit export`.", dir_okay=False)],
    public_key: Annotated[
        list[str],
        typer.Option(
            "--public-key",
            help="A ledger public key: ed25519:…, a key file, or checkpoint-keys.json; repeatable.",
        ),
    ],
) -> None:
    """Check a bundle offline: no database, no NATS, no network; only the public keys."""
    with expected_failures():
        trusted = _trusted(public_key)
        try:
            raw = bundle.read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {bundle}: {exc}") from None
    report = verify_bundle(raw, trusted)
    out = console()
    if not report.intact:
        for problem in report.problems:
            out.print(f"[bold red]FAIL[/] {problem.verdict}: {escape(str(problem))}")
        raise typer.Exit(1)
    cp = report.checkpoint
    assert cp is not None
    out.print(
        f"[green]verified[/]: case {report.case_id}, {len(report.events)} events, under the "
        f"checkpoint at position {cp.position} signed {cp.signed_at} by key {cp.key_id}"
    )
    out.print(describe_head(report))
    for event in report.events:
        out.print(f"  {event.version:>3}  position {event.position:>6}  {event.type}")


@app.command("replay")
def replay(
    case_id: Annotated[str, typer.Argument(help="The case to replay.")],
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            help="The moment, ISO 8601 (e.g. 2026-11-30T10:15:00+00:00; no zone means UTC).",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S"],
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="The event version.")
    ] = None,
    *,
    purpose: PurposeOption,
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """The case as it stood then: status, steps, what each entity had received, and its events.

    A replay reads the case's personal data: it is recorded with its purpose.
    """
    from services.case_ledger.access_log import CASE_REPLAY, record_case_read
    from services.cli.case import parse_case_id
    from services.cli.ledger import open_ledger

    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    with expected_failures(), open_ledger(DataDir(data_dir)) as ledger:
        case = parse_case_id(case_id)
        try:
            history = ledger.case_replay(case, as_of=as_of, version=version)
        except CaseNotFound:
            raise CliError(f"case {case} did not exist then, or not in {data_dir}") from None
        record_case_read(ledger, case, cli_read(purpose), CASE_REPLAY)
    console().print(render.replay(history))


def _trusted(texts: list[str]) -> KeyRing:
    try:
        return parse_trusted_keys(texts)
    except BadKey as exc:
        raise CliError(str(exc)) from None
