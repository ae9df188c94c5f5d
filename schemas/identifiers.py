"""The identifiers the Peruvian State issues, as types: DNI, RUC, vehicle plate, CIIU code.

Each is ASCII only, written with `[0-9]` and never `\\d`: both pydantic's regex engine and
Python's `re` read `\\d` as any Unicode digit, so `^\\d{8}$` accepts `٤٠٠٠٠٠٠١` (Arabic-Indic
digits). Such a string names no citizen, yet it would make a pseudonym of its own, out of reach
of the real citizen's erasure and access log.
"""

from typing import Annotated

from pydantic import Field, StringConstraints

DNI_PATTERN = r"^[0-9]{8}$"
RUC_PATTERN = r"^[0-9]{11}$"
PLATE_PATTERN = r"^[A-Z0-9]{3}-[0-9]{3}$"
CIIU_PATTERN = r"^[0-9]{4}$"

Dni = Annotated[str, StringConstraints(pattern=DNI_PATTERN)]
"""Documento Nacional de Identidad: exactly 8 ASCII digits, e.g. 40000001."""

Ruc = Annotated[str, StringConstraints(pattern=RUC_PATTERN)]
"""Registro Único de Contribuyentes: exactly 11 ASCII digits."""

Plate = Annotated[
    str,
    StringConstraints(pattern=PLATE_PATTERN),
    Field(description="Vehicle plate, e.g. ABC-123.", examples=["ABC-123"]),
]
"""A vehicle plate: three ASCII capitals or digits, a hyphen, three digits, e.g. ABC-123."""

CiiuCode = Annotated[str, StringConstraints(pattern=CIIU_PATTERN)]
"""An economic activity in the CIIU classification: exactly 4 ASCII digits, e.g. 4711."""
