"""What an operator runs against a real `ventanilla up`: status, the ANS report, the metrics."""

import csv
import io
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas.savings import savings_assumptions
from services.credentials import DevCredentials
from services.entity_adapters.registry import entity_ids
from tests.processes import eventually, running_up, ventanilla

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DevCredentials]]:
    root = tmp_path_factory.mktemp("ops")
    data_dir = root / "var"
    with running_up(data_dir, root / "up.out") as up:
        yield data_dir, up.credentials


def run_cases(credentials: DevCredentials, dnis: list[str]) -> list[str]:
    token = next(iter(credentials.channels.values()))
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=credentials.gateway_url, headers=headers, timeout=10) as http:
        ids = []
        for dni in dnis:
            response = http.post(
                "/v1/cases",
                json={
                    "procedure": "duplicado-dni",
                    "citizen": {"document_type": "DNI", "document_number": dni},
                    "inputs": {"reason": "perdida"},
                },
                headers={"Idempotency-Key": str(uuid4())},
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["case_id"])

        def final(case_id: str) -> str | None:
            status: str = http.get(f"/v1/cases/{case_id}").json()["status"]
            return status if status in ("completed", "rejected") else None

        return [eventually(lambda c=c: final(c), 60, "the case to finish") for c in ids]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ventanilla(), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        timeout=60,
    )


def test_status_report_and_metrics_agree_with_the_cases_run(
    stack: tuple[Path, DevCredentials],
) -> None:
    data_dir, credentials = stack
    assert run_cases(credentials, ["40000001", "40000002", "40000001"]) == [
        "completed",
        "rejected",
        "completed",
    ]

    status = cli("status", "--data-dir", str(data_dir))
    assert status.returncode == 0, status.stderr
    rows = [line for line in status.stdout.splitlines() if "s ago" in line]
    for process in ("ledger", *entity_ids()):
        [row] = [r for r in rows if f" {process} " in r]
        assert " up " in row, row
    assert "DOWN" not in status.stdout

    report = cli(
        "sla", "report", "--data-dir", str(data_dir),
        "--from", "2000-01-01", "--to", "2100-01-01", "--format", "json",
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    lines = {(x["entity"], x["service"]): x for x in json.loads(report.stdout)["lines"]}
    assert lines[("banco-nacion", "pago-tasa")]["steps"] == 3
    assert lines[("reniec", "duplicado-dni")]["steps"] == 3
    assert all(x["within_deadline_pct"] == 100 for x in lines.values())
    as_csv = cli(
        "sla", "report", "--data-dir", str(data_dir),
        "--from", "2000-01-01", "--to", "2100-01-01", "--format", "csv",
    )  # fmt: skip
    assert as_csv.stdout.splitlines()[0].startswith("entity,service,procedure,deadline_s,steps")
    assert len(as_csv.stdout.splitlines()) == 1 + len(lines)

    indicators = cli(
        "indicators", "--data-dir", str(data_dir), "--from", "2000-01-01", "--to", "2100-01-01",
        "--csv",
    )  # fmt: skip
    assert indicators.returncode == 0, indicators.stderr
    figures = {
        (r["section"], r["procedure"] or r["entity"] or r["kind"], r["measure"]): r["value"]
        for r in csv.DictReader(io.StringIO(indicators.stdout))
    }
    assert figures[("procedure", "duplicado-dni", "attentions")] == "3"
    assert figures[("procedure", "duplicado-dni", "rejected")] == "1"
    assert figures[("entity", "reniec", "attentions")] == "3"
    assert figures[("entity", "reniec", "dead_letters")] == "0"  # asked the stack's bus
    assert figures[("rejection", "reniec", "cases")] == "1"
    tables = cli("indicators", "--data-dir", str(data_dir), "--from", "2000-01-01",
                 "--to", "2100-01-01")  # fmt: skip
    assert tables.returncode == 0, tables.stderr
    assert "Rejection reasons" in tables.stdout
    assert "refused" in tables.stdout
    per_case = cli("savings", "--data-dir", str(data_dir), "--from", "2000-01-01",
                   "--to", "2100-01-01")  # fmt: skip
    assert per_case.returncode == 0, per_case.stderr
    cases = list(csv.DictReader(io.StringIO(per_case.stdout)))
    assert sorted(c["status"] for c in cases) == ["completed", "completed", "rejected"]
    fee = savings_assumptions().of("banco-nacion", "pago-tasa")
    assert fee is not None
    for case in cases:  # a duplicate's one spared document: the bank's receipt
        if case["status"] == "completed":
            assert (case["counted"], case["documents"], case["entities"]) == ("yes", "1", "1")
            assert float(case["soles"]) == fee.soles
        else:
            assert (case["counted"], case["documents"]) == ("no", "")

    exporter = subprocess.Popen(
        [*ventanilla(), "metrics", "serve", "--data-dir", str(data_dir), "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert exporter.stderr is not None
        url = exporter.stderr.readline().strip().removeprefix("metrics at ")
        assert url.startswith("http://127.0.0.1:"), url

        def scraped() -> dict[str, Any] | None:
            text = httpx.get(url, timeout=15).text
            found: dict[str, Any] = {}
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    found[(s.name, tuple(sorted(s.labels.items())))] = s.value
            beats = [k for k in found if k[0] == "ventanilla_process_up"]
            return found if len(beats) >= 1 + len(entity_ids()) else None

        found = eventually(scraped, 20, "every process's heartbeat at the exporter")
    finally:
        exporter.send_signal(signal.SIGINT)
        exporter.wait(timeout=30)
    labels = (("channel", next(iter(credentials.channels))), ("procedure", "duplicado-dni"))
    assert found[("ventanilla_cases_submitted_total", labels)] == 3
    assert found[("ventanilla_cases_completed_total", labels)] == 2
    assert found[("ventanilla_cases_rejected_total", labels)] == 1
    for process in ("ledger", *entity_ids()):
        assert found[("ventanilla_process_up", (("process", process),))] == 1
    assert exporter.returncode == 0
