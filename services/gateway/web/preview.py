"""The citizen's preview: which data the State will obtain about them, from whom, and why.

Built from the procedure's data flows in the catalog (the same ones the ledger records as
`DataShared` when they happen), so the preview cannot promise less than the case will do.
"""

from dataclasses import dataclass

from schemas.catalog import FromStep, ProcedureSpec

from . import texts


@dataclass(frozen=True)
class Flow:
    from_entity: str
    from_step: str
    to_entity: str
    to_step: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    legal_bases: tuple[str, ...]

    @property
    def record(self) -> str:
        """How the consent in the ledger names the flow."""
        return (
            f"{self.from_entity}/{self.from_step} -> {self.to_entity}/{self.to_step}: "
            + ", ".join(self.fields)
        )


@dataclass(frozen=True)
class FlowText:
    """A flow as the page shows it, in the page's language."""

    source: str
    recipient: str
    recipient_step: str
    data: str
    purposes: tuple[str, ...]
    legal_bases: tuple[str, ...]


def flows(proc: ProcedureSpec) -> tuple[Flow, ...]:
    """The data flows between entities of a procedure's steps, in the catalog's order."""
    found: list[Flow] = []
    for step in proc.steps:
        by_origin: dict[str, list[tuple[str, FromStep]]] = {}
        for name, source in step.request.items():
            if isinstance(source, FromStep):
                by_origin.setdefault(source.step, []).append((name, source))
        for origin_id, sources in by_origin.items():
            origin = proc.step(origin_id)
            found.append(
                Flow(
                    from_entity=origin.entity,
                    from_step=origin.id,
                    to_entity=step.entity,
                    to_step=step.id,
                    fields=tuple(dict.fromkeys(s.field for _, s in sources)),
                    purposes=tuple(dict.fromkeys(s.purpose for _, s in sources)),
                    legal_bases=tuple(dict.fromkeys(s.legal_basis for _, s in sources)),
                )
            )
    return tuple(found)


def flow_texts(proc: ProcedureSpec) -> list[FlowText]:
    return [
        FlowText(
            source=texts.entity_name(flow.from_entity),
            recipient=texts.entity_name(flow.to_entity),
            recipient_step=texts.step_title(
                flow.to_entity, proc.step(flow.to_step).service, flow.to_step
            ),
            data=", ".join(texts.data_field(f) for f in flow.fields),
            purposes=tuple(texts.purpose(p) for p in flow.purposes),
            legal_bases=tuple(texts.legal_basis(b) for b in flow.legal_bases),
        )
        for flow in flows(proc)
    ]
