"""The indicators report as operators take it away: with the bus's dead letters, and as CSV.

The ledger computes what its projections know; the dead letters are the bus's (each source's
dead-letter subject), added by whoever asked the bus: the gateway or the CLI.
"""

import csv
import io
from collections.abc import Mapping

from schemas.indicators import EntityFigures, IndicatorsReport


def with_dead_letters(report: IndicatorsReport, by_source: Mapping[str, int]) -> IndicatorsReport:
    """Each entity's dead letters filled in; a source with letters but no step this period
    gets its own line; the ledger's own letters go apart (they are results it could not use)."""
    entities = [
        e.model_copy(update={"dead_letters": by_source.get(e.entity, 0)}) for e in report.entities
    ]
    seen = {e.entity for e in entities}
    for source, n in sorted(by_source.items()):
        if source not in seen and source != "ledger" and n:
            entities.append(
                EntityFigures(
                    entity=source,
                    attentions=0,
                    completed=0,
                    rejected=0,
                    failed=0,
                    retries=0,
                    dead_letters=n,
                )
            )
    return report.model_copy(
        update={"entities": entities, "ledger_dead_letters": by_source.get("ledger", 0)}
    )


CSV_COLUMNS = ("section", "channel", "day", "procedure", "entity", "service", "kind",
               "measure", "value")  # fmt: skip
PROCEDURE_MEASURES = ("attentions", "completed", "rejected", "open", "mean_s", "p95_s")
SAVINGS_MEASURES = ("cases", "not_counted", "documents", "entities", "trips", "hours", "soles")
ENTITY_MEASURES = ("attentions", "completed", "rejected", "failed", "retries", "dead_letters")


def csv_rows(report: IndicatorsReport) -> list[dict[str, object]]:
    """A row per figure, named by its section, its keys and its measure (None: no value)."""
    rows: list[dict[str, object]] = []
    for day in report.channel_days:
        rows.append({"section": "channel_day", "channel": day.channel,
                     "day": day.day.isoformat(), "measure": "attentions",
                     "value": day.attentions})  # fmt: skip
    for sd in report.step_days:
        rows.append({"section": "step_day", "day": sd.day.isoformat(), "entity": sd.entity,
                     "procedure": sd.procedure, "kind": sd.outcome, "measure": "steps",
                     "value": sd.steps})  # fmt: skip
    for proc in report.procedures:
        for measure in PROCEDURE_MEASURES:
            rows.append({"section": "procedure", "procedure": proc.procedure,
                         "measure": measure, "value": getattr(proc, measure)})  # fmt: skip
    for entity in report.entities:
        for measure in ENTITY_MEASURES:
            rows.append({"section": "entity", "entity": entity.entity, "measure": measure,
                         "value": getattr(entity, measure)})  # fmt: skip
    for reason in report.rejection_reasons:
        rows.append({"section": "rejection", "entity": reason.entity, "service": reason.service,
                     "kind": reason.kind, "measure": "cases", "value": reason.cases})  # fmt: skip
    for line in report.savings:
        for measure in SAVINGS_MEASURES:
            rows.append({"section": "savings", "channel": line.channel,
                         "procedure": line.procedure, "kind": report.savings_basis,
                         "measure": measure, "value": getattr(line, measure)})  # fmt: skip
    if report.ledger_dead_letters is not None:
        rows.append({"section": "ledger", "measure": "dead_letters",
                     "value": report.ledger_dead_letters})  # fmt: skip
    return rows


def as_csv(report: IndicatorsReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
