"""OTLP export is the operator's choice, made with the standard OTEL_* variables only."""

import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.bus.tracing import otlp_requested, sampler


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


@pytest.mark.parametrize(
    ("env", "console", "recorded"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False, True),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"},
            False,
            False,
        ),
    ],
)
def test_spans_are_recorded_only_where_something_takes_them_and_keep_their_trace_id(
    env: dict[str, str], console: bool, recorded: bool
) -> None:
    tracer = TracerProvider(sampler=sampler(env, console=console)).get_tracer("test")
    with (
        tracer.start_as_current_span("ledger cmd") as parent,
        tracer.start_as_current_span("dispatch") as child,
    ):
        assert child.is_recording() is recorded
        context = child.get_span_context()
    # Dropped or not, a span has a trace id (stamped on the case) shared by its children.
    assert context.is_valid
    assert context.trace_id == parent.get_span_context().trace_id
    assert context.trace_flags.sampled is recorded
