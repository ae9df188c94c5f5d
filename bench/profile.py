"""Where a case's CPU goes: py-spy on the stack's processes under a steady load.

`python -m bench.profile [--rate 150] [--seconds 20] [--path nats|http] [--out DIR]` starts the
stack as the e2e part does, warms it up, then offers `duplicado-dni` cases at a fixed rate while
`py-spy record --format raw` samples the ledger, the RENIEC and Banco de la Nación adapters and
the gateway (and the load generator itself on the HTTP path, whose client costs as much). It
prints the run and each process's CPU ms per case, and the heaviest frames of each profile
(inclusive, by function); the raw files stay in DIR for flame graphs or a closer look.
"""

import argparse
import asyncio
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.e2e import CpuSample, LoadGenerator, _children, _line
from harness.devstack import local_stack
from services.stack.up import StackInfo

PROFILED = ("ledger", "adapter banco-nacion", "adapter reniec", "gateway")
PY_SPY = Path(sys.executable).with_name("py-spy")


# Frames in nearly every sample (the thread's entry, the event loop, the CLI) say nothing.
EVERYWHERE = 85.0


def heaviest(raw: Path, top: int) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Of a py-spy raw profile: the functions in the most samples (each counted once a sample,
    those in nearly all of them left out), and the frames running in the most (self time)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        total += int(count)
        for function in {frame.split(" (")[0] for frame in frames}:
            inclusive[function] += int(count)
        leaves[frames[-1]] += int(count)

    def shares(counts: Counter[str]) -> list[tuple[float, str]]:
        return [(100 * n / max(total, 1), name) for name, n in counts.most_common()]

    wide = [(share, name) for share, name in shares(inclusive) if share < EVERYWHERE]
    return wide[:top], shares(leaves)[:top]


async def profile(info: StackInfo, args: argparse.Namespace) -> list[Path]:
    async with LoadGenerator(info) as load:
        await load.run("duplicado-dni", args.path, 20, 2.0)
        me = os.getpid()
        spies: list[asyncio.subprocess.Process] = []
        files: list[Path] = []
        for pid, name in _children().items():
            wanted = name.startswith(PROFILED) or (pid == me and args.path == "http")
            if not wanted:
                continue
            raw = args.out / f"{name.split(' (')[0].replace(' ', '-')}.txt"
            spies.append(
                await asyncio.create_subprocess_exec(
                    *(str(PY_SPY), "record", "--rate", "100", "--duration", str(args.seconds)),
                    *("--pid", str(pid), "--format", "raw", "--nonblocking", "-o", str(raw)),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
            files.append(raw)
        cpu = CpuSample()
        run = await load.run("duplicado-dni", args.path, args.rate, args.seconds)
        print(_line(run))
        print("CPU ms per case:", cpu.ms_per_case(run.completed + run.rejected))
        for spy in spies:
            await spy.wait()
    return files


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--rate", type=float, default=150.0, help="cases/s offered")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--path", choices=("nats", "http"), default="nats")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="profile-")))
    parser.add_argument("--top", type=int, default=25, help="frames shown per process")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="ventanilla-profile-") as tmp,
        local_stack(Path(tmp) / "stack") as info,
    ):
        files = asyncio.run(profile(info, args))
    for raw in files:
        if not raw.exists():
            print(f"{raw.name}: no profile (py-spy needs ptrace rights on the process)")
            continue
        wide, running = heaviest(raw, args.top)
        print(f"--- {raw.name}: functions in the most samples")
        for share, function in wide:
            print(f"{share:5.1f}% {function}")
        print(f"--- {raw.name}: frames running in the most samples")
        for share, frame in running:
            print(f"{share:5.1f}% {frame}")
    print(f"raw profiles in {args.out}")


if __name__ == "__main__":
    main()
