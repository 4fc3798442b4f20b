"""The results: one table on stdout (figure, value, baseline, ratio, target, verdict) and JSON in bench/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import RESULTS


@dataclass
class Row:
    """One line of the table."""

    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Report:
    """Everything a run measured."""

    mode: str
    data: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def add(
        self, figure: str, value: str, baseline: str = "", ratio: str = "", target: str = "", ok: bool | None = None
    ) -> None:
        """Add a table line; ``ok`` None means no target applies."""
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        self.rows.append(Row(figure, value, baseline, ratio, target, verdict))
        print(
            f"  {figure}: {value}"
            + (f"  (baseline {baseline})" if baseline else "")
            + (f"  {verdict}" if verdict else ""),
            flush=True,
        )

    def skip(self, figure: str, why: str) -> None:
        """A section that could not run, with the reason."""
        self.rows.append(Row(figure, why))
        print(f"  {figure}: {why}", flush=True)

    def table(self) -> str:
        """The Markdown table."""
        head = ("figure", "value", "baseline (same run)", "ratio", "target", "verdict")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = (r.figure, r.value, r.baseline, r.ratio, r.target, r.verdict)
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        return "\n".join(lines)

    def save(self, stamp: str) -> Path:
        """Write bench/results/<mode>-<stamp>.json and latest-<mode>.json."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        body = {"mode": self.mode, "machine": machine(), "figures": self.data, "table": [r.__dict__ for r in self.rows]}
        text = json.dumps(body, ensure_ascii=False, indent=2, default=str)
        path = RESULTS / f"{self.mode}-{stamp}.json"
        path.write_text(text)
        (RESULTS / f"latest-{self.mode}.json").write_text(text)
        return path


def machine() -> dict[str, Any]:
    """What the figures were taken on (a shared machine: say so)."""
    info: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        info["load_average"] = os.getloadavg()
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()
        info["memory_gib"] = round(int(mem[1]) / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        info["postgresql"] = out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def ms(value: float | None) -> str:
    """A latency for the table."""
    return "—" if value is None else f"{value:,.1f} ms"


def rate(value: float | None, unit: str = "/s") -> str:
    """A rate for the table."""
    return "—" if value is None else f"{value:,.0f}{unit}"


def ratio(a: float | None, b: float | None) -> str:
    """a / b as ×."""
    return "—" if not a or not b else f"{a / b:.2f}×"
