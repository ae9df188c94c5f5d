"""`python -m services.cli`: how `ventanilla up` starts its children with this interpreter."""

from services.cli.main import app

app(prog_name="ventanilla")
