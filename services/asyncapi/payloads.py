"""The JSON Schemas of the bus's messages, as one `components.schemas` section.

Every model goes through one `models_json_schema` call, so two packages' models with the same
class name get distinct, stable names instead of overwriting each other, and every reference
points into the document's own components (the parser never has to fetch anything). A field
marked personal (schemas/personal.py) says so with `x-personal`: `identifies` (the DNI of the
person it is about) or `describes` (data about the citizen); the ledger encrypts both.
"""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.personal import models_within, personal_fields

REF_TEMPLATE = "#/components/schemas/{model}"


class Payloads:
    """Collects models, then renders them together; `ref(model)` points at a model's schema."""

    def __init__(self) -> None:
        self._models: list[type[BaseModel]] = []
        self._refs: dict[type[BaseModel], str] | None = None
        self._schemas: dict[str, Any] = {}

    def add(self, *models: type[BaseModel]) -> None:
        if self._refs is not None:
            raise RuntimeError("models added after the schemas were rendered")
        for model in models:
            for each in models_within(model):
                if each not in self._models:
                    self._models.append(each)

    def render(self) -> dict[str, Any]:
        """`components.schemas`: every collected model and every model they refer to."""
        if self._refs is None:
            keyed, definitions = models_json_schema(
                [(m, "validation") for m in self._models], ref_template=REF_TEMPLATE
            )
            self._refs = {
                model: schema["$ref"]
                for (model, _), schema in keyed.items()
                if isinstance(model, type) and issubclass(model, BaseModel)
            }
            self._schemas = definitions.get("$defs", {})
            for model in self._models:
                self._mark_personal(model)
        return self._schemas

    def _mark_personal(self, model: type[BaseModel]) -> None:
        assert self._refs is not None
        properties = self._schemas[self._refs[model].rsplit("/", 1)[1]].get("properties", {})
        for name, mark in personal_fields(model).items():
            key = model.model_fields[name].alias or name
            properties[key]["x-personal"] = "identifies" if mark.identifies else "describes"

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        if self._refs is None:
            self.render()
        assert self._refs is not None
        return {"$ref": self._refs[model]}
