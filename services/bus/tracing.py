"""W3C trace context across hops: injected into NATS headers, extracted when handling.

Spans leave the process only when the operator configures the standard OTLP exporter through
its own environment variables (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, with `OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT`, ... and
`OTEL_BSP_*` read by the SDK itself). Nothing is exported by default: a deployment that did not
ask for a collector must not try to reach one.

A process that exports nothing samples nothing either: its spans are not recorded (no
attributes kept, no span data built), yet each still has a trace id, which the ledger stamps on
the case and the gateway uses as a request id, and which travels in the headers as before.
Such a trace is marked not sampled, so a process downstream that exports, with the default
parent-based sampler, does not record it either: export from every process, or set
`OTEL_TRACES_SAMPLER=always_on` where spans are wanted regardless of upstream.
"""

import os
from collections.abc import Mapping

from opentelemetry import context, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Sampler

TRACER_NAME = "ventanilla"
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

# A provider handed in explicitly (tests, an embedding host) wins over the process-wide one,
# which OpenTelemetry lets a process set only once.
_explicit_provider: trace.TracerProvider | None = None


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    global _explicit_provider
    _explicit_provider = provider


def otlp_requested(env: Mapping[str, str]) -> bool:
    """Whether the operator asked for OTLP export, in the OpenTelemetry spec's own terms."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() in ("none", ""):
        return False
    return any(env.get(name, "").strip() for name in OTLP_ENDPOINT_VARIABLES)


def sampler(env: Mapping[str, str], *, console: bool = False) -> Sampler | None:
    """Drop every span when nothing would take it (no OTLP export, no console); otherwise the
    SDK's own choice (None: `OTEL_TRACES_SAMPLER`, by default parent-based always-on)."""
    return None if console or otlp_requested(env) else ALWAYS_OFF


def setup_tracing(service_name: str, *, console: bool = False) -> TracerProvider:
    """Install a tracer provider for this process (spans printed only when asked, exported
    over OTLP/HTTP only when the OTEL_* variables ask for it, recorded only in those cases)."""
    provider = TracerProvider(
        sampler=sampler(os.environ, console=console),
        resource=Resource.create({"service.name": service_name}),
    )
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    if otlp_requested(os.environ):
        # Imported here: a process that exports nothing never loads the exporter.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads endpoint, headers, timeout and compression from the environment;
        # the batch processor flushes on shutdown (the provider registers that at exit).
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracer_provider() -> trace.TracerProvider:
    """The provider spans of this process go to (the explicit one, else the global one)."""
    return _explicit_provider or trace.get_tracer_provider()


# The tracer of the provider in use, looked up once: `get_tracer` builds a new tracer (and its
# instrumentation scope) on every call, which the hot paths would pay per message.
_cached: tuple[trace.TracerProvider, trace.Tracer] | None = None


def tracer() -> trace.Tracer:
    global _cached
    provider = tracer_provider()
    if _cached is None or _cached[0] is not provider:
        _cached = (provider, provider.get_tracer(TRACER_NAME))
    return _cached[1]


def inject_trace_context(headers: dict[str, str]) -> None:
    inject(headers)


def extract_trace_context(headers: Mapping[str, str] | None) -> context.Context:
    return extract(dict(headers or {}))


def current_trace_id() -> str | None:
    """The W3C trace id (32 hex digits) of the span in hand, or None outside a recorded one."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return trace.format_trace_id(span_context.trace_id)
