"""Benchmarks: scripts that print figures, each beside a baseline measured in the same run."""

import os
import platform
from pathlib import Path


def machine() -> str:
    """The CPU's model name and the number of cores, for the figures' record."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                 platform.processor() or platform.machine())
    return f"{model}, {os.cpu_count()} cores"
