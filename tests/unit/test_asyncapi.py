"""The bus contract (services/asyncapi): current in docs/, valid for the official parser, served
by the gateway, and true to the permission matrix the nats-server enforces."""

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from schemas import subjects
from schemas.entities import SERVICES
from services.asyncapi.document import bus_contract, bus_document, render
from services.bus.permissions import BusUser, channel_user, entity_user, gateway_user, ledger_user
from services.cli.main import app
from services.entity_adapters.registry import entity_packages
from services.sites.permissions import site_relay_user
from tests.fakes import Gateway, gateway
from tests.processes import asyncapi_parser

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
REFRESH = "ventanilla asyncapi --out docs/asyncapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(bus_contract())  # type: ignore[no-any-return]


def test_the_committed_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(bus_document()), (
        f"docs/asyncapi.json is stale: refresh it with `{REFRESH}`"
    )


def test_the_command_writes_the_same_document(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "asyncapi.json"
    done = CliRunner().invoke(app, ["asyncapi", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8") == bus_contract()


def test_the_official_parser_accepts_it_and_refuses_a_broken_copy(tmp_path: Path) -> None:
    good = tmp_path / "asyncapi.json"
    good.write_text(bus_contract(), encoding="utf-8")
    passed = asyncapi_parser(good)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "valid AsyncAPI 3.0.0" in passed.stdout

    broken = json.loads(bus_contract())
    broken["operations"]["ledger.take-commands"]["action"] = "consume"
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken), encoding="utf-8")
    failed = asyncapi_parser(bad)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "operations/ledger.take-commands/action" in failed.stdout
    assert '"action" property must be equal to one of the allowed values' in failed.stdout
    assert failed.stdout.rstrip().endswith("1 error(s)")


def test_the_gateway_serves_it_next_to_openapi(tmp_path: Path) -> None:
    gw: Gateway = gateway(tmp_path)
    served = gw.client.get("/asyncapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.text == bus_contract()
    assert gw.client.get("/openapi.json").status_code == 200


def test_every_entity_service_has_its_typed_work_and_result_messages(
    document: dict[str, Any],
) -> None:
    channels, messages = document["channels"], document["components"]["messages"]
    schemas = document["components"]["schemas"]
    for (entity, service), contract in SERVICES.items():
        work, result = channels[f"work.{entity}"], channels[f"result.{entity}"]
        assert work["address"] == subjects.work(entity, "{service}")
        assert result["address"] == subjects.result(entity, "{service}", "{case}")
        assert service in work["parameters"]["service"]["enum"]
        request = messages[f"work.{entity}.{service}"]["payload"]["allOf"][1]["properties"]
        assert request["payload"] == {"$ref": f"#/components/schemas/{contract.request.__name__}"}
        assert request["service"] == {"const": service}
        answered = messages[f"result.{entity}.{service}"]["payload"]["allOf"][1]["properties"]
        assert {"$ref": f"#/components/schemas/{contract.result.__name__}"} in answered["data"][
            "anyOf"
        ]
        # Field descriptions reach the document.
        for name, field in contract.request.model_fields.items():
            if field.description:
                described = schemas[contract.request.__name__]["properties"][name]
                assert described["description"] == field.description


def test_personal_fields_are_marked_as_the_ledger_encrypts_them(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    marked = {
        (model, field): prop["x-personal"]
        for model, schema in schemas.items()
        for field, prop in schema.get("properties", {}).items()
        if "x-personal" in prop
    }
    assert marked[("CitizenRef", "document_number")] == "identifies"
    assert marked[("PassportRequest", "given_names")] == "describes"
    assert ("CitizenRef", "document_type") not in marked  # NotPersonal: stays unmarked
    assert ("NoDebtRequest", "plate") not in marked


def test_faststream_describes_each_adapters_subscription(document: dict[str, Any]) -> None:
    for entity in entity_packages():
        operation = document["operations"][f"adapter-{entity}"]
        assert operation["action"] == "receive"
        assert operation["channel"] == {"$ref": f"#/channels/work.{entity}"}
        assert {"name": f"entity:{entity}"} in operation["tags"]
        # FastStream's binding keeps the consumer's real filter subject.
        binding = document["channels"][f"work.{entity}"]["bindings"]["nats"]
        assert binding["subject"] == subjects.entity_work(entity)


def test_dead_letters_carry_why_and_where_from(document: dict[str, Any]) -> None:
    headers = document["components"]["messages"]["DeadLetter"]["headers"]
    for header in (
        subjects.HEADER_DEAD_LETTER_REASON,
        subjects.HEADER_ORIGIN_STREAM,
        subjects.HEADER_ORIGIN_SEQUENCE,
        subjects.HEADER_ORIGIN_SUBJECT,
    ):
        assert header in headers["required"]
    assert document["channels"]["dlq"]["address"] == subjects.dead_letter("{origin}")


def test_the_event_types_the_ledger_announces_are_listed(document: dict[str, Any]) -> None:
    listed = document["channels"]["event"]["parameters"]["event_type"]["enum"]
    # A case's end only: the steps are in the status bucket, not announced.
    assert set(listed) == {"CaseCompleted", "CaseRejected"}


def test_the_ledgers_queries_are_request_reply(document: dict[str, Any]) -> None:
    for query in (
        subjects.LEDGER_QUERY_CASE,
        subjects.LEDGER_QUERY_HISTORY,
        subjects.LEDGER_QUERY_ACCESS_LOG,
        subjects.LEDGER_QUERY_SLA,
        subjects.LEDGER_PING,
    ):
        key = query.removeprefix(f"{subjects.PREFIX}.")
        assert document["channels"][key]["address"] == query
        answering = [
            op
            for op in document["operations"].values()
            if op["channel"] == {"$ref": f"#/channels/{key}"} and op["action"] == "receive"
        ]
        assert [op["tags"][0] for op in answering] == [{"name": "role:ledger"}]
        assert answering[0]["reply"]["channel"] == {"$ref": f"#/channels/{key}.reply"}


# --- the document against the permission matrix --------------------------------------------


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` one token, `>` one or more trailing tokens."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


def _subjects_of(document: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """Every subject the operation's channel address stands for, one per parameter value."""
    channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[1]]
    address: str = channel["address"]
    names = re.findall(r"\{(\w+)\}", address)
    values = [
        channel["parameters"][n].get("enum") or channel["parameters"][n].get("examples")
        for n in names
    ]
    found = []
    for combination in itertools.product(*values):
        subject = address
        for name, value in zip(names, combination, strict=True):
            subject = subject.replace(f"{{{name}}}", value)
        found.append(subject)
    return found


def _sent(document: dict[str, Any], *tags: str) -> list[list[str]]:
    return [
        _subjects_of(document, op)
        for op in document["operations"].values()
        if op["action"] == "send" and all({"name": t} in op["tags"] for t in tags)
    ]


ROLES: tuple[tuple[BusUser, tuple[str, ...]], ...] = (
    (ledger_user(), ("role:ledger",)),
    (gateway_user(), ("role:gateway",)),
    (channel_user("mac-lima-norte"), ("role:channel",)),
    (site_relay_user(("pias-napo",)), ("role:site-relay",)),
    *((entity_user(e), ("role:entity-adapter", f"entity:{e}")) for e in ("reniec", "sat")),
)


@pytest.mark.parametrize(("user", "tags"), ROLES, ids=lambda v: getattr(v, "name", ""))
def test_each_roles_sends_are_what_its_bus_user_may_publish_and_all_of_it(
    document: dict[str, Any], user: BusUser, tags: tuple[str, ...]
) -> None:
    sent = _sent(document, *tags)
    assert sent, f"no send operation tagged {tags}"
    for candidates in sent:  # each operation: some subject it names is allowed
        assert any(_matches(p, s) for p in user.publish for s in candidates), (
            f"{user.name} may publish none of {candidates}"
        )
    for pattern in user.publish:  # each bus subject it may publish: some operation says so
        if pattern.startswith(f"{subjects.PREFIX}."):
            assert any(_matches(pattern, s) for c in sent for s in c), (
                f"{user.name} may publish {pattern}, and no operation of {tags} says so"
            )
