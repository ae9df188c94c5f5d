"""One trace per case, exported over OTLP/HTTP by a real `ventanilla up` to a receiver here.

The receiver decodes what the standard exporter sends with opentelemetry-proto, as a collector
would; the stack is told where it is only through the standard OTEL_* variables.
"""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.credentials import DevCredentials
from services.datadir import DataDir
from tests.http import auth, case_to_its_end
from tests.processes import eventually, running_up

pytestmark = pytest.mark.e2e

BUYER, SELLER = "40000001", "40000007"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


@dataclass
class Receiver:
    bodies: list[bytes] = field(default_factory=list)
    spans: list[ReceivedSpan] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.lock:
            self.bodies.append(body)
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append(
                            ReceivedSpan(
                                service=service,
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_id=span.parent_span_id.hex(),
                                attributes={a.key: str(a.value) for a in span.attributes},
                            )
                        )

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


def tree(spans: list[ReceivedSpan]) -> list[str]:
    """The spans as an indented tree, one line each (`service: name`), children in order."""
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in by_id else ""
        children.setdefault(parent, []).append(span)

    def lines(parent: str, depth: int) -> Iterator[str]:
        for span in children.get(parent, []):
            yield f"{'  ' * depth}{span.service}: {span.name}"
            yield from lines(span.span_id, depth + 1)

    return list(lines("", 0))


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                received.take(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_transfer_is_one_trace_from_the_channel_through_the_ledger_to_each_entity(
    receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    received, endpoint = receiver
    data_dir, output = tmp_path / "var", tmp_path / "up.out"
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    with running_up(data_dir, output, env):
        credentials = DevCredentials.model_validate_json(
            DataDir(data_dir).dev_credentials.read_text()
        )
        token = next(iter(credentials.channels.values()))
        transfer = {"plate": "ABC-123", "seller_dni": SELLER, "price_pen": 25000}
        view = case_to_its_end(
            credentials.gateway_url, token, "transferencia-vehicular", transfer, dni=BUYER
        )
        assert view["status"] == "completed", view
        history = httpx.get(
            f"{credentials.gateway_url}/v1/cases/{view['case_id']}/history",
            headers=auth(token),
            timeout=10.0,
        ).json()
    # Leaving `running_up` stopped the stack with Ctrl-C: a clean stop flushes every exporter.

    # The history names the trace: every event the ledger wrote from a message carries it.
    trace_ids = {e["trace_id"] for e in history["events"]}
    assert len(trace_ids) == 1, trace_ids
    trace_id = trace_ids.pop()
    assert trace_id is not None
    assert len(trace_id) == 32

    def whole_trace() -> list[ReceivedSpan] | None:
        found = received.of_trace(trace_id)
        last = {"ledger results", "result sunarp.inscripcion-transferencia"}
        return found if last <= {s.name for s in found} else None

    spans = eventually(whole_trace, 30, "the case's spans at the receiver")
    services = {s.service for s in spans}
    assert {"gateway", "ledger"} <= services
    adapters = {s for s in services if s.startswith("adapter-")}
    assert len(adapters) >= 3, services
    assert {"adapter-reniec", "adapter-sat", "adapter-sunarp", "adapter-banco-nacion"} <= adapters

    print(f"trace {trace_id}\n" + "\n".join(tree(spans)))  # shown with `pytest -s`

    # Parent and child follow the steps: dispatch -> FastStream's delivery to the adapter -> the
    # entity's handling -> its back-office call and its result -> the ledger taking the result.
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if s.parent_id == "" or s.parent_id not in by_id]
    assert [r.service for r in roots] == ["gateway"], roots
    handling = next(s for s in spans if s.name == "sat.certificado-no-adeudo")
    delivery = by_id[handling.parent_id]
    assert delivery.name == "ventanilla.work.sat.certificado-no-adeudo process"
    dispatch = by_id[delivery.parent_id]
    assert dispatch.name == "dispatch sat.certificado-no-adeudo"
    assert by_id[dispatch.parent_id].service == "ledger"
    children = {s.name for s in spans if s.parent_id == handling.span_id}
    assert children == {"back-office sat.certificado-no-adeudo", "result sat.certificado-no-adeudo"}
    result = next(s for s in spans if s.name == "result sat.certificado-no-adeudo")
    assert any(s.name == "ledger results" and s.parent_id == result.span_id for s in spans), (
        "the ledger's handling of the SAT result is a child of the SAT's result"
    )

    # No personal data anywhere in what left the processes.
    with received.lock:
        everything = b"".join(received.bodies)
    for dni in (BUYER, SELLER):
        assert dni.encode() not in everything
