"""`ventanilla catalog check` reads the data dir's catalog/ folder with the shipped files."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas import procedures
from schemas.procedures import CATALOG_DIRS_ENV, forget_catalog
from services.cli.main import app
from services.credentials import issue_dev_credentials
from services.datadir import DataDir
from tests.factories import VALID_PROCEDURE as VALID

runner = CliRunner(env={"COLUMNS": "250"})


@pytest.fixture(autouse=True)
def no_data_dirs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(procedures, "_data_dir_folders", [])
    monkeypatch.delenv(CATALOG_DIRS_ENV, raising=False)
    forget_catalog()
    yield
    forget_catalog()


def test_check_lists_the_procedures_of_every_folder(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "firma.yaml").write_text(VALID)

    done = runner.invoke(app, ["catalog", "check", "--data-dir", str(tmp_path)])

    assert done.exit_code == 0, done.output
    assert "legalizacion-firma  Legalización de firma  (1 steps)" in done.output
    assert "5 procedures, 4 delegations, no fault" in done.output
    assert (
        "convenio-sunarp-007-2026  sunarp: transferencia-vehicular at mac-lima-norte  "
        "(Convenio N.° 007-2026-PCM/SGP)"
    ) in done.output


def test_check_names_a_delegated_channel_the_gateway_has_no_token_for(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    issue_dev_credentials(data.gateway_tokens, data.dev_credentials, "http://gw", "nats://n")
    kiosk = tmp_path / "catalog" / "delegations" / "tambo.yaml"
    kiosk.parent.mkdir(parents=True)
    kiosk.write_text(
        "id: convenio-reniec-040-2026\n"
        "administering_entity: pcm-sgp\n"
        "entity: reniec\n"
        "procedures: [duplicado-dni]\n"
        "channels: [mac-express-tambo-ccorca]\n"
        "instrument: Convenio de colaboración interinstitucional\n"
        "reference: Convenio N.° 040-2026-PCM/SGP\n"
    )

    done = runner.invoke(app, ["catalog", "check", "--data-dir", str(tmp_path)])

    assert done.exit_code == 1, done.output
    lines = [line.strip() for line in done.output.splitlines()]
    assert lines == [
        "the procedure catalog has 1 fault(s):",
        f"{kiosk}:5: delegation 'convenio-reniec-040-2026': unknown channel "
        "'mac-express-tambo-ccorca' (known: mac-express-pias-napo, mac-lima-norte)",
    ]


def test_check_names_every_fault_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    broken = tmp_path / "catalog" / "firma.yaml"
    broken.write_text(
        VALID.replace("service: verificacion-identidad", "service: x").replace("1h30m", "1")
    )

    done = runner.invoke(app, ["catalog", "check", "--data-dir", str(tmp_path)])

    assert done.exit_code == 1
    lines = [line.strip() for line in done.output.splitlines()]
    assert lines[0] == "the procedure catalog has 2 fault(s):"
    assert lines[1] == (
        f"{broken}:12: procedure 'legalizacion-firma', step 'identidad': "
        "entity 'reniec' offers no service 'x'"
    )
    assert lines[2] == (
        f"{broken}:15: step 'identidad': deadline: within: '1' is not a duration such as "
        "90s, 30m, 1h30m or 2d"
    )
