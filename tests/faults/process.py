"""Run `healthbot run` as a real process for fault tests: its own config, its stderr kept."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve_every_path(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    """A local server answering every method and path with `handler` (a platform API that
    fails in a chosen way); the caller cleans up the runner."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


# A real station: `healthbot run` refuses the placeholder one outside demo mode.
STATION = ('[station]\nname = "Trạm Y tế phường Thử Nghiệm"\nward = "Phường Thử Nghiệm"\n'
           'address = "Số 2 đường Thử Nghiệm"\nphone = "024 3756 1234"\n\n')


def write_config(path: Path, database_url: str, port: int, extra: str = "") -> Path:
    path.write_text(
        STATION + f'[database]\nurl = "{database_url}"\n\n[web]\nhost = "127.0.0.1"\nport = {port}\n{extra}',
        encoding="utf-8",
    )
    return path


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`healthbot ARGS...` to completion (start-up faults exit by themselves)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


class BotProcess:
    """`healthbot run --config PATH` in the background; `stop()` sends SIGTERM, returns the log."""

    def __init__(self, config: Path, port: int, log_path: Path) -> None:
        self.port, self.log_path = port, log_path
        self._log = log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"the bot exited: {self.log()}")
                try:
                    async with http.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"the bot did not become ready: {self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode
