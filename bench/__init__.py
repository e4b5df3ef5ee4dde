"""Benchmarks: scripts that print figures, each beside a baseline measured in the same run."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def machine() -> str:
    """The CPU's model name and the number of cores, for the figures' record."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                 platform.processor() or platform.machine())
    return f"{model}, {os.cpu_count()} cores"


def publish(what: str, table: str, figures: dict, out: Path) -> None:
    """Print a bench's figures under one headline (what was measured, the machine, the date)
    and write them, with the machine, to `out` as JSON."""
    where = machine()
    print(f"\n{what}, {where}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": where, **figures}, indent=1) + "\n")
    print(f"figures written to {out}")
