"""W3C trace context across hops: injected into NATS headers, extracted when handling."""

from collections.abc import Mapping

from opentelemetry import context, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

TRACER_NAME = "ventanilla"

# A provider handed in explicitly (tests, an embedding host) wins over the process-wide one,
# which OpenTelemetry lets a process set only once.
_explicit_provider: trace.TracerProvider | None = None


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    global _explicit_provider
    _explicit_provider = provider


def setup_tracing(service_name: str, *, console: bool = False) -> TracerProvider:
    """Install a tracer provider for this process (spans printed only when asked)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
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
