"""Processes under test: `hub serve`, `hub worker` and the baseline app, started on 127.0.0.1 and measured."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

RESULTS = Path(__file__).parent / "results"


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of a process so far (psutil if installed, else /proc VmHWM)."""
    try:
        import psutil

        info = psutil.Process(pid).memory_full_info()
        peak = getattr(info, "peak_wset", None) or None
        if peak:
            return float(peak) / 2**20
    except Exception:  # psutil missing or without a peak figure on this platform: /proc has it
        pass
    kb = _status_kb(pid, "VmHWM")
    return kb / 1024 if kb is not None else None


@dataclass
class Proc:
    """A child process we started (and will stop): its name, port and log file."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int | None = None
    log: Path | None = None
    peak_mb: float | None = field(default=None)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:port."""
        return f"http://127.0.0.1:{self.port}"

    def sample(self) -> float | None:
        """Read (and keep) the peak RSS while the process lives."""
        value = peak_rss_mb(self.popen.pid)
        if value is not None:
            self.peak_mb = max(self.peak_mb or 0.0, value)
        return self.peak_mb

    def stop(self) -> None:
        """SIGINT, then SIGKILL after 10 s; only this process (by pid)."""
        self.sample()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


def hub_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a hub process on the bench database (keys in the DB, Redis db 9 when used)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATABASE_URL=database_url, HUB_LOG_JSON="true", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def start(name: str, argv: list[str], env: dict[str, str], *, port: int | None = None) -> Proc:
    """Start a child process with its output in bench/results/<name>.log."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)
    return Proc(name, popen, port, log)


def wait_ready(proc: Proc, path: str = "/healthz", timeout: float = 90.0) -> None:
    """Poll until the process answers 200 on ``path``; fail with its log's tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            break
        try:
            if httpx.get(proc.base_url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    tail = proc.log.read_text(errors="replace")[-2000:] if proc.log else ""
    proc.stop()
    raise RuntimeError(f"{proc.name} did not become ready on {proc.base_url}{path}:\n{tail}")


def start_api(database_url: str, *, workers: int = 1, **extra_env: str) -> Proc:
    """`hub serve` (uvicorn, one process unless ``workers``) on a free port, ready."""
    port = free_port()
    argv = [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        argv += ["--workers", str(workers)]
    proc = start("api", argv, hub_env(database_url, **extra_env), port=port)
    wait_ready(proc)
    return proc


def start_worker(database_url: str, redis_url: str) -> Proc:
    """`hub worker` on Redis (for its memory figure)."""
    argv = [sys.executable, "-m", "hub.cli", "worker"]
    return start("worker", argv, hub_env(database_url, HUB_REDIS_URL=redis_url))


def start_baseline(database_url: str) -> Proc:
    """The hand-written-SQL inbox app (bench/baseline_app.py) under uvicorn, ready."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = start("baseline", argv, hub_env(database_url), port=port)
    wait_ready(proc, "/healthz")
    return proc
