"""Personal data is marked on the models that carry it, and the ledger encrypts what is marked.

```python
class PassportRequest(ServiceRequest):
    citizen: CitizenRef                      # its document_number is marked IDENTIFIES
    given_names: Annotated[str, PERSONAL]
    plate: str                               # not personal: stays readable
```

- `IDENTIFIES`: the value is the DNI of the person it identifies; the ledger encrypts it under
  that person's key (a seller's DNI in the buyer's case is erased with the seller);
- `PERSONAL`: the value describes the citizen the message is about (a name, a birth date, a
  natural person's RUC, which holds the DNI), encrypted under that citizen's key;
- `NotPersonal(why)`: a field whose name looks personal but whose value is not.

Start-up refuses a model with a field that looks personal by its name (`dni`, `ruc`, `name`,
`address`, ...) and carries neither mark, naming the model and the field: a new field of
personal data is never stored in clear without a word.
"""

import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Personal:
    """Personal data; `identifies` when the value is the DNI of the person it is about."""

    identifies: bool = False


PERSONAL = Personal()
IDENTIFIES = Personal(identifies=True)


@dataclass(frozen=True)
class NotPersonal:
    """A field whose name looks personal but whose value is not; says why."""

    why: str


# Words of a field name (split on "_") that say it may hold personal data.
PERSONAL_WORDS = frozenset(
    {
        "dni",
        "ruc",
        "document",
        "documents",
        "name",
        "names",
        "surname",
        "surnames",
        "address",
        "addresses",
        "phone",
        "phones",
        "telephone",
        "mobile",
        "email",
        "mail",
        "birth",
        "birthdate",
        "birthday",
        "fingerprint",
        "passport",
        "signature",
    }
)


class UnmarkedPersonalField(ValueError):
    """A field that looks personal by its name but carries no mark."""


@dataclass(frozen=True)
class PersonalMarks:
    """The field names marked personal across a set of models, as the ledger applies them."""

    identifying: frozenset[str]
    describing: frozenset[str]


def looks_personal(field_name: str) -> bool:
    return any(word in PERSONAL_WORDS for word in field_name.lower().split("_"))


def check_marks(model: type[BaseModel]) -> None:
    """Raise `UnmarkedPersonalField` for the first field that looks personal and is unmarked."""
    for owner, name, mark in _fields(model):
        if mark is None and looks_personal(name):
            raise UnmarkedPersonalField(
                f"{owner.__name__}.{name} looks like personal data by its name but is not "
                "marked: annotate it Annotated[..., PERSONAL] (or IDENTIFIES for a DNI, or "
                "NotPersonal(why))"
            )


def marks_of(models: Iterable[type[BaseModel]]) -> PersonalMarks:
    identifying: set[str] = set()
    describing: set[str] = set()
    for model in models:
        for _, name, mark in _fields(model):
            if isinstance(mark, Personal):
                (identifying if mark.identifies else describing).add(name)
    return PersonalMarks(frozenset(identifying), frozenset(describing))


def _fields(
    model: type[BaseModel], seen: frozenset[type] = frozenset()
) -> Iterator[tuple[type[BaseModel], str, Personal | NotPersonal | None]]:
    """Every field of `model` and of the models nested in it, with its mark."""
    for name, info in model.model_fields.items():
        marks = [m for m in info.metadata if isinstance(m, Personal | NotPersonal)]
        yield model, name, marks[0] if marks else None
        for nested in _models_in(info.annotation):
            if nested not in seen:
                yield from _fields(nested, seen | {model})


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def personal_fields(model: type[BaseModel]) -> dict[str, Personal]:
    """The fields of `model` itself (not of the models nested in it) marked personal."""
    return {
        name: mark
        for owner, name, mark in _fields(model)
        if owner is model and isinstance(mark, Personal)
    }


def models_within(
    model: type[BaseModel], seen: frozenset[type] = frozenset()
) -> Iterator[type[BaseModel]]:
    """`model` and every model nested in its fields, each once per path."""
    yield model
    for info in model.model_fields.values():
        for nested in _models_in(info.annotation):
            if nested not in seen | {model}:
                yield from models_within(nested, seen | {model})
