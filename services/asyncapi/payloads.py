"""The JSON Schemas of the bus's messages, as one `components.schemas` section.

Every model goes through one `models_json_schema` call, so two packages' models with the same
class name get distinct, stable names instead of overwriting each other, and every reference
points into the document's own components (the parser never has to fetch anything).
"""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

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
            if model not in self._models:
                self._models.append(model)

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
        return self._schemas

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        if self._refs is None:
            self.render()
        assert self._refs is not None
        return {"$ref": self._refs[model]}
