"""What the project tells its users about itself: the API's version, the CLI's help."""

from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

from services.cli.main import app
from tests.fakes import gateway


def test_the_api_document_carries_the_package_version(tmp_path: Path) -> None:
    document = gateway(tmp_path).client.get("/openapi.json").json()

    assert document["info"]["version"] == version("ventanilla")


def test_erase_help_says_what_an_erased_value_reads() -> None:
    result = CliRunner().invoke(app, ["citizen", "erase", "--help"])

    assert result.exit_code == 0, result.output
    assert "reads `[erased]`" in " ".join(result.output.split())  # however the help wraps
