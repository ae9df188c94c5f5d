"""After `ventanilla citizen erase`, no byte under the data dir reads as that citizen.

`ventanilla up` runs every demo procedure for one citizen (the applicant, and the seller's
counterpart in a transfer); the citizen is erased; the stack is stopped as a user stops it
(Ctrl-C); then every file under the data dir is scanned: the ledger (SQLite and its journal),
the bus's JetStream store and KV buckets (encrypted at rest), the logs. The fake back offices'
own databases are left out: they stand for the entities' systems, outside the bus.
"""

import subprocess
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from services.datadir import DataDir
from tests.processes import eventually, running_up, ventanilla

pytestmark = pytest.mark.e2e

CITIZEN = "40000001"  # ANA LUCÍA QUISPE MAMANI, born 1990-03-14 (the fake RENIEC's record)
TRACES = ("40000001", "ANA LUC", "QUISPE", "MAMANI", "1990-03-14", "14/03/1990", "19900314")
PROCEDURES = {
    "duplicado-dni": {"reason": "perdida"},
    "pasaporte-electronico": {},
    "transferencia-vehicular": {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000},
    "inscripcion-ruc": {"activity_code": "4711"},
}


def readable(value: str) -> list[bytes]:
    """The ways a value can sit in a file: UTF-8 and JSON's \\u escapes."""
    escaped = value.encode("ascii", "backslashreplace").decode().replace("\\x", "\\u00")
    return sorted({value.encode(), escaped.encode(), escaped.lower().encode()})


def test_an_erased_citizen_is_nowhere_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with running_up(data_dir, tmp_path / "up.out") as up:
        credentials = up.credentials
        token = next(iter(credentials.channels.values()))
        with httpx.Client(
            base_url=credentials.gateway_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        ) as client:
            cases = []
            for procedure, inputs in PROCEDURES.items():
                body = {
                    "procedure": procedure,
                    "citizen": {"document_type": "DNI", "document_number": CITIZEN},
                    "inputs": inputs,
                }
                answer = client.post(
                    "/v1/cases", json=body, headers={"Idempotency-Key": str(uuid4())}
                )
                assert answer.status_code == 202, answer.text
                cases.append(answer.json()["case_id"])
            for case_id in cases:

                def final(case_id: str = case_id) -> str | None:
                    status = client.get(f"/v1/cases/{case_id}").json().get("status")
                    return status if status in ("completed", "rejected") else None

                assert eventually(final, 60, f"case {case_id} to end") == "completed"
        erased = subprocess.run(
            [*ventanilla(), "citizen", "erase", CITIZEN, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert erased.returncode == 0, erased.stdout + erased.stderr
        assert "erased data key" in erased.stdout

    backoffices = DataDir(data_dir).backoffices
    files = [p for p in data_dir.rglob("*") if p.is_file() and backoffices not in p.parents]
    assert any("jetstream" in p.parts for p in files)  # the bus store is among them
    found = [
        (str(p.relative_to(data_dir)), value)
        for p in files
        for value in TRACES
        for form in readable(value)
        if form in p.read_bytes()
    ]
    assert found == []
