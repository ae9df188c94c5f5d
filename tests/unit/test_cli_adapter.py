"""`ventanilla adapter new|check`: what they refuse, before anything touches the bus."""

from pathlib import Path

from typer.testing import CliRunner

from services.cli.main import app

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
