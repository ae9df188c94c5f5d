"""`ventanilla adapter new|check`: what they refuse, before anything touches the bus."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.cli.serve import back_office_variable
from services.entity_adapters import main as adapter_main
from services.entity_adapters.main import serve

runner = CliRunner(env={"COLUMNS": "250"})


def test_new_refuses_an_entity_id_the_bus_cannot_use(tmp_path: Path) -> None:
    done = runner.invoke(app, ["adapter", "new", "MTC_Lima", "--out", str(tmp_path / "out")])
    assert done.exit_code == 1
    assert "entity id 'MTC_Lima': use lowercase ascii letters" in " ".join(done.output.split())
    assert not (tmp_path / "out").exists()


def test_new_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    done = runner.invoke(app, ["adapter", "new", "mtc", "--out", str(tmp_path)])
    assert done.exit_code == 1
    assert "Choose an empty --out folder" in done.output


def test_check_names_the_installed_entities_when_asked_for_another(tmp_path: Path) -> None:
    done = runner.invoke(app, ["adapter", "check", "nowhere", "--data-dir", str(tmp_path)])
    assert done.exit_code == 1
    out = " ".join(done.output.split())
    assert "no installed entity package 'nowhere'" in out
    assert "reniec" in out


def test_check_without_a_running_stack_says_where_it_looked(tmp_path: Path) -> None:
    done = runner.invoke(app, ["adapter", "check", "reniec", "--data-dir", str(tmp_path)])
    assert done.exit_code == 1
    assert f"no credentials at {tmp_path}" in " ".join(done.output.split())


def test_serve_adapter_refuses_a_factory_and_a_url_together(tmp_path: Path) -> None:
    # With both, one back office would silently never be reached.
    with pytest.raises(SystemExit, match="either --back-office or --back-office-url, not both"):
        serve(
            "sunarp",
            tmp_path,
            "nats://127.0.0.1:1",
            back_office="services.entity_adapters.backoffices.sunarp:FakeSunarp",
            back_office_url="http://127.0.0.1:1",
        )


def test_each_entity_reads_its_own_back_office_variable() -> None:
    assert back_office_variable("banco-nacion") == "VENTANILLA_BACK_OFFICE_BANCO_NACION"
    assert back_office_variable("reniec") != back_office_variable("sunarp")


def test_serve_adapter_takes_the_factory_from_the_entitys_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, object] = {}
    monkeypatch.setattr(adapter_main, "serve", lambda *args, **kwargs: served.update(kwargs))
    monkeypatch.setenv("VENTANILLA_BACK_OFFICE_RENIEC", "reniec_office:build")
    monkeypatch.setenv("VENTANILLA_BACK_OFFICE_SUNARP", "sunarp_office:build")
    done = runner.invoke(
        app,
        ["serve", "adapter", "sunarp", "--data-dir", str(tmp_path), "--nats-url", "nats://x:1"],
    )
    assert done.exit_code == 0, done.output
    assert served["back_office"] == "sunarp_office:build"
