"""OTLP export is the operator's choice, made with the standard OTEL_* variables only."""

import pytest

from services.bus.tracing import otlp_requested


@pytest.mark.parametrize(
    ("env", "exported"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_spans_leave_the_process_only_when_an_endpoint_is_configured(
    env: dict[str, str], exported: bool
) -> None:
    assert otlp_requested(env) is exported
