"""The benchmark suite: `python -m bench [--quick] [--only raw,ledger,e2e,pg,sse] [--docs]`.

Every figure is measured in the same run as the raw limits it is compared with (the machine is
shared and noisy: only ratios side by side mean something). Writes bench/results/latest.json and
bench/results/latest.md; `--docs` also puts the table into docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import RESULTS, access_log, appends, e2e, indicators, raw, sites, sla, sse
from bench import ledger as audit_bench
from services.case_ledger.store import LedgerStore
from services.stack.natsd import nats_server_binary

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    found = {p: version(p) for p in ("nats-py", "eventsourcing", "pydantic", "faststream")}
    out = subprocess.run(
        [str(nats_server_binary()), "--version"], capture_output=True, text=True, check=False
    )
    found["nats-server"] = out.stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    found["ventanilla"] = commit.stdout.strip()
    return found


def run_ledger(folder: Path, quick: bool) -> dict[str, float]:
    figures = appends.measure(folder, 500 if quick else 3000)
    audit = audit_bench.measure(
        LedgerStore.sqlite(folder / "audit.sqlite"), 500 if quick else 2000, 1000, folder
    )
    figures.update(
        replay_1000_ms=audit["replay_1000_ms"],
        verify_events_per_s=audit["verify_events_per_s"],
        raw_read_events_per_s=audit["raw_read_events_per_s"],
        export_1000_ms=audit["export_ms"],
        bundle_check_1000_ms=audit["bundle_check_ms"],
    )
    return figures


def ratios(r: dict[str, Any]) -> None:
    if "e2e_cases_per_s" in r and "raw_pipeline_msgs_per_s" in r:
        r["ratio_to_raw"] = (
            r["e2e_cases_per_s"] * r["bus_msgs_per_case"] / r["raw_pipeline_msgs_per_s"]
        )
    if "ledger_events_per_s" in r and "raw_ledger_events_per_s" in r:
        r["ledger_ratio_to_raw"] = r["ledger_events_per_s"] / r["raw_ledger_events_per_s"]
        r["ledger_1_per_commit_ratio_to_raw"] = (
            r["ledger_events_per_s_1_per_commit"] / r["raw_ledger_events_per_s_1_per_commit"]
        )
    if "replay_1000_ms" in r and "raw_replay_1000_ms" in r:
        r["replay_ratio_to_raw"] = r["replay_1000_ms"] / r["raw_replay_1000_ms"]


ROWS = (
    ("raw nats-py JetStream publish→pull→ack pipeline, msgs/s", "raw_pipeline_msgs_per_s", ",.0f"),
    ("raw nats-py JetStream async publish, msgs/s", "raw_publish_msgs_per_s", ",.0f"),
    ("raw eventsourcing SQLite append, 100 events/commit, ev/s", "raw_ledger_events_per_s", ",.0f"),
    (
        "raw eventsourcing SQLite append, 1 event/commit, ev/s",
        "raw_ledger_events_per_s_1_per_commit",
        ",.0f",
    ),
    ("raw eventsourcing replay of a 1,000-event aggregate, ms", "raw_replay_1000_ms", ".1f"),
    ("**e2e duplicado-dni on NATS, max completed cases/s**", "e2e_cases_per_s", ",.0f"),
    ("bus messages per duplicado-dni case (JetStream, all streams)", "bus_msgs_per_case", ".1f"),
    ("**ratio_to_raw** (cases/s × msgs/case ÷ raw pipeline)", "ratio_to_raw", ".2f"),
    ("offered rate of the latency run, cases/s", "e2e_latency_rate", ",.0f"),
    ("submit→completed p50 at that rate, ms", "e2e_p50_ms", ",.1f"),
    ("submit→completed p95 at that rate, ms", "e2e_p95_ms", ",.1f"),
    ("submit→completed p99 at that rate, ms", "e2e_p99_ms", ",.1f"),
    (
        "adapter CPU per step request handled (all adapter processes, latency run), µs",
        "adapter_cpu_us_per_request",
        ",.0f",
    ),
    ("e2e duplicado-dni through the HTTP gateway, max cases/s", "http_cases_per_s", ",.0f"),
    (
        "e2e duplicado-dni on NATS, ledger on PostgreSQL, 1 ledger worker, max cases/s",
        "pg_e2e_cases_per_s_1",
        ",.0f",
    ),
    (
        "… the same with 2 ledger workers, max cases/s",
        "pg_e2e_cases_per_s_2",
        ",.0f",
    ),
    (
        "e2e duplicado-dni through the counter console (clerk session), max cases/s",
        "console_cases_per_s",
        ",.0f",
    ),
    ("… ratio to the HTTP gateway with a bearer token", "console_ratio_to_http", ".2f"),
    ("e2e transferencia-vehicular on NATS, max cases/s", "transfer_cases_per_s", ",.0f"),
    (
        "SSE: watchers held by one gateway while cases run (most streams open)",
        "sse_most_open_streams",
        ",.0f",
    ),
    ("SSE: KV watches on the server for that gateway", "sse_kv_watches_on_the_server", "d"),
    (
        "SSE: offered rate, cases/s (each case followed by one more watcher)",
        "sse_rate_cases_per_s",
        ",.0f",
    ),
    ("SSE: ledger status change → watcher p50, ms", "sse_update_p50_ms", ",.1f"),
    ("**SSE: ledger status change → watcher p99, ms** (target ≤ 250)", "sse_update_p99_ms", ",.1f"),
    ("SSE: status change reached KV p99, ms (the ledger's part)", "sse_kv_write_p99_ms", ",.1f"),
    ("SSE: completed cases/s of that run", "sse_cases_per_s", ",.0f"),
    ("SSE again at 70% of this run's e2e limit, cases/s", "sse_at_70pct_rate_cases_per_s", ",.0f"),
    ("… status change → watcher p50, ms", "sse_at_70pct_update_p50_ms", ",.1f"),
    ("… status change → watcher p99, ms", "sse_at_70pct_update_p99_ms", ",.1f"),
    ("ledger appends as the inbox makes them (no bus), events/s", "ledger_events_per_s", ",.0f"),
    ("… ratio to raw 100 events/commit", "ledger_ratio_to_raw", ".2f"),
    (
        "ledger appends, one transaction per message (before group commit), events/s",
        "ledger_events_per_s_1_per_commit",
        ",.0f",
    ),
    ("ledger replay of a 1,000-event case, ms", "replay_1000_ms", ".1f"),
    ("… ratio to raw replay", "replay_ratio_to_raw", ".2f"),
    ("audit verify, events/s", "verify_events_per_s", ",.0f"),
    ("audit export of a 1,000-event case's bundle, ms", "export_1000_ms", ",.1f"),
    ("offline check of that bundle, ms", "bundle_check_1000_ms", ",.1f"),
    ("citizen access log at 10,000 stored cases, ms", "access_log_ms_10k", ".2f"),
    ("citizen access log at 100,000 stored cases, ms", "access_log_ms_100k", ".2f"),
    ("citizen access log at 1,000 stored cases (quick run), ms", "access_log_ms_1k", ".2f"),
    ("MAC Express site backlog forwarded after a reconnect, cases", "site_backlog_cases", ",.0f"),
    ("… forwarded to the hub's ledger, cases/s", "site_forward_cases_per_s", ",.1f"),
    ("… until every final status is back at the site, s", "site_catchup_s", ",.1f"),
    ("ANS report over its projection, ms (cases in `sla_report_cases`)", "sla_report_ms", ",.1f"),
    (
        "week's indicators over the projections, ms (cases in `indicators_cases`)",
        "indicators_ms",
        ",.1f",
    ),
)


def table(r: dict[str, Any]) -> str:
    lines = ["| figure | value |", "| --- | --- |"]
    lines += [f"| {label} | {r[key]:{fmt}} |" for label, key, fmt in ROWS if key in r]
    if "cpu_percent" in r:
        cpu = ", ".join(f"{name} {pct:.0f}%" for name, pct in r["cpu_percent"].items() if pct)
        lines.append(f"| CPU during the latency run (100% = one core) | {cpu} |")
    if "cpu_ms_per_case" in r:
        ms = ", ".join(f"{name} {v:.2f}" for name, v in r["cpu_ms_per_case"].items() if v)
        lines.append(f"| CPU ms per case in the latency run, per process | {ms} |")
    if "sse_cpu_percent" in r:
        cpu = ", ".join(f"{name} {pct:.0f}%" for name, pct in r["sse_cpu_percent"].items() if pct)
        lines.append(f"| CPU during the SSE run (100% = one core) | {cpu} |")
    return "\n".join(lines)


def write_docs(r: dict[str, Any], command: str) -> None:
    text = DOCS.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    m = r["machine"]
    block = (
        f"{BEGIN}\nMeasured with `{command}` on {r['date'][:10]} at {r['versions']['ventanilla']}"
        f": {m['cores']} × {m['cpu']}, load average {m['load_average_at_start'][0]} at the "
        f"start, Python {m['python']}, {r['versions']['nats-server']}, nats-py "
        f"{r['versions']['nats-py']}, eventsourcing {r['versions']['eventsourcing']}.\n\n"
        f"{table(r)}\n{END}"
    )
    DOCS.write_text(head + block + tail if rest else text.rstrip() + "\n\n" + block + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="shorter runs (under a minute)")
    parser.add_argument(
        "--only",
        default="raw,ledger,access,sla,indicators,e2e,pg,sse",
        help="comma-separated parts (also: sites)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("VENTANILLA_BENCH_POSTGRES", PG_DSN),
        help="the PostgreSQL server of the `pg` part (a fresh database is made on it)",
    )
    parser.add_argument("--latency-rate", type=float, default=500.0)
    parser.add_argument("--sse-rate", type=float, default=sse.RATE, help="cases/s beside SSE")
    parser.add_argument("--docs", action="store_true", help="write the table to docs/")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--merge", action="store_true", help="keep the other figures already in --out"
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ventanilla-bench-") as tmp:
        folder = Path(tmp)
        if "raw" in parts:
            print("raw: nats-py pipeline, eventsourcing appends and replay", flush=True)
            results.update(raw.run(folder, args.quick))
        if "ledger" in parts:
            print("ledger: appends, replay, verify", flush=True)
            results.update(run_ledger(folder, args.quick))
        if "access" in parts:
            print("access: the citizen's access log at two ledger sizes", flush=True)
            results.update(access_log.measure(folder, args.quick))
        if "sla" in parts:
            print("sla: the ANS report over its projection", flush=True)
            results.update(sla.measure(folder, 10_000 if args.quick else 100_000))
        if "indicators" in parts:
            print("indicators: the week's management indicators over the projections", flush=True)
            results.update(indicators.measure(folder, 10_000 if args.quick else 100_000))
        if "e2e" in parts:
            results.update(e2e.run(folder, args.quick, args.latency_rate))
        if "pg" in parts:
            results.update(e2e.run_postgres(folder, args.quick, args.postgres))
        if "sse" in parts:
            best = results.get("e2e_cases_per_s")
            sustainable = 0.7 * best if isinstance(best, float) else None
            results.update(sse.run(folder, args.quick, args.sse_rate, sustainable))
        if "sites" in parts:
            results.update(sites.run(folder, args.quick))
    results["seconds"] = round(time.perf_counter() - started, 1)
    if args.merge and args.out.exists():
        results = {**json.loads(args.out.read_text()), **results}
    ratios(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    rendered = table(results)
    args.out.with_suffix(".md").write_text(rendered + "\n")
    print(rendered)
    print(f"written: {args.out} ({results['seconds']} s)")
    if args.docs:
        write_docs(results, "make bench" if not args.quick else "make bench-quick")


if __name__ == "__main__":
    main()
