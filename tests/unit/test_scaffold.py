"""`ventanilla adapter new`: which entity ids it takes, and what it writes."""

from pathlib import Path

import pytest

from services.scaffold.writer import EntityIdError, write_package


@pytest.mark.parametrize(
    "entity", ["MTC", "mtc_lima", "-mtc", "mtc-", "mtc--lima", "1mtc", "mtc.x", "méxico", ""]
)
def test_an_entity_id_the_bus_cannot_use_is_refused(entity: str, tmp_path: Path) -> None:
    with pytest.raises(EntityIdError, match="lowercase ascii"):
        write_package(entity, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_it_writes_an_installable_package_with_its_procedure(tmp_path: Path) -> None:
    out = tmp_path / "notaria"
    written = write_package("notaria-lima", out)
    relative = sorted(str(p.relative_to(out)) for p in written)
    assert relative == [
        "README.md",
        "procedures/constancia-registro-notaria-lima.yaml",
        "pyproject.toml",
        "src/ventanilla_notaria_lima/__init__.py",
        "src/ventanilla_notaria_lima/back_office.py",
        "src/ventanilla_notaria_lima/contract.py",
        "src/ventanilla_notaria_lima/handlers.py",
        "tests/test_handler.py",
        "tests/test_on_nats.py",
    ]
    pyproject = (out / "pyproject.toml").read_text()
    assert '[project.entry-points."ventanilla.entities"]' in pyproject
    assert 'notaria-lima = "ventanilla_notaria_lima:package"' in pyproject
    assert "{{" not in "".join(p.read_text() for p in written)


def test_it_never_writes_over_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        write_package("mtc", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
