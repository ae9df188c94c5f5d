"""Writes a new entity package from the files under `template/`.

Each template file is copied with `{{entity}}`, `{{module}}`, `{{name}}`, `{{procedure}}` and
`{{service}}` filled in; `src/module/` becomes `src/<module>/` and a `.tmpl` suffix is dropped
(it keeps the templates out of this repository's own linting and test collection).
"""

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

ENTITY_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
SERVICE = "constancia-registro"


class EntityIdError(ValueError):
    """An entity id the bus cannot use (it appears in subjects, users and file names)."""


@dataclass(frozen=True)
class Names:
    entity: str

    @property
    def module(self) -> str:
        return "ventanilla_" + self.entity.replace("-", "_")

    @property
    def procedure(self) -> str:
        return f"{SERVICE}-{self.entity}"

    def fill(self, text: str) -> str:
        for key, value in {
            "entity": self.entity,
            "module": self.module,
            "name": self.entity.upper(),
            "procedure": self.procedure,
            "service": SERVICE,
        }.items():
            text = text.replace("{{" + key + "}}", value)
        return text


def check_entity_id(entity: str) -> None:
    if not ENTITY_ID.fullmatch(entity) or len(entity) > 40:
        raise EntityIdError(
            f"entity id {entity!r}: use lowercase ascii letters and digits, words joined by "
            "single dashes, starting with a letter, at most 40 characters (e.g. mtc, notaria-lima)"
        )


def write_package(entity: str, out: Path) -> list[Path]:
    """Write the package for `entity` into `out` (which must be empty or absent)."""
    check_entity_id(entity)
    names = Names(entity)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(0, "not empty", str(out))
    written: list[Path] = []
    for relative, source in _templates(files("services.scaffold") / "template", ""):
        target = out / names.fill(relative.replace("src/module/", f"src/{names.module}/"))
        target = target.with_name(target.name.removesuffix(".tmpl"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(names.fill(source.read_text(encoding="utf-8")), encoding="utf-8")
        written.append(target)
    return sorted(written)


def _templates(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in folder.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found += _templates(entry, f"{prefix}{entry.name}/")
        else:
            found.append((f"{prefix}{entry.name}", entry))
    return found
