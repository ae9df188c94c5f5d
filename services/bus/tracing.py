"""W3C trace context across hops: injected into NATS headers, extracted when handling."""

from collections.abc import Mapping

from opentelemetry import context, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

TRACER_NAME = "ventanilla"


def setup_tracing(service_name: str, *, console: bool = False) -> TracerProvider:
    """Install a tracer provider for this process (spans printed only when asked)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def inject_trace_context(headers: dict[str, str]) -> None:
    inject(headers)


def extract_trace_context(headers: Mapping[str, str] | None) -> context.Context:
    return extract(dict(headers or {}))
