"""`ventanilla clerk ...`: accounts for the counter console in the data dir."""

import re
from pathlib import Path

from typer.testing import CliRunner

from services.cli.main import app
from services.datadir import DataDir
from services.gateway.web.counter_store import CounterStore

runner = CliRunner(env={"COLUMNS": "200"})


def password_in(output: str) -> str:
    found = re.search(r"^password\s+(\S+)$", output, re.M)
    assert found, output
    return found.group(1)


def test_a_clerk_is_added_reset_and_disabled(tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path)]
    added = runner.invoke(
        app,
        [
            "clerk",
            "add",
            "rosa.q",
            "--channel",
            "mac-express-pias-napo",
            "--delegation",
            "convenio-reniec-014-2025",
            *where,
        ],
    )
    assert added.exit_code == 0, added.output
    store = CounterStore(DataDir(tmp_path).counter_store)
    first = password_in(added.output)
    clerk = store.check_password("rosa.q", first)
    assert clerk is not None
    assert clerk.channel == "mac-express-pias-napo"
    assert clerk.delegations == ("convenio-reniec-014-2025",)

    again = runner.invoke(app, ["clerk", "add", "rosa.q", "--channel", "mac-lima-norte", *where])
    assert again.exit_code == 1
    assert "already a clerk" in again.output

    reset = runner.invoke(app, ["clerk", "reset", "rosa.q", *where])
    assert reset.exit_code == 0, reset.output
    assert store.check_password("rosa.q", first) is None
    assert store.check_password("rosa.q", password_in(reset.output)) is not None

    disabled = runner.invoke(app, ["clerk", "disable", "rosa.q", *where])
    assert disabled.exit_code == 0
    assert store.check_password("rosa.q", password_in(reset.output)) is None
    listed = runner.invoke(app, ["clerk", "list", *where])
    assert "rosa.q  mac-express-pias-napo  disabled" in listed.output


def test_a_delegation_must_exist_and_cover_the_channel(tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path)]
    unknown = runner.invoke(
        app, ["clerk", "add", "ana", "--channel", "mac-lima-norte", "--delegation", "nope", *where]
    )
    assert unknown.exit_code != 0
    assert "unknown delegation" in unknown.output
    outside = runner.invoke(
        app,
        [
            "clerk",
            "add",
            "ana",
            "--channel",
            "mac-express-pias-napo",
            "--delegation",
            "convenio-sunarp-007-2026",
            *where,
        ],
    )
    assert outside.exit_code != 0
    assert "does not cover channel" in outside.output


def test_without_delegations_a_clerk_gets_every_one_at_the_channel(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["clerk", "add", "ana", "--channel", "mac-lima-norte", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    clerk = CounterStore(DataDir(tmp_path).counter_store).clerk("ana")
    assert clerk is not None
    assert len(clerk.delegations) == 4
