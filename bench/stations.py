"""Benchmark: one installation with many stations (issue 21): 200 stations x 50 areas.

Writes a configuration with ``--stations`` stations (station 1 = ``[station]``, the others
``[[stations]]``) of ``--areas`` areas each, then measures:

1. in process: reading and checking the configuration (`load_settings`), building every
   station's settings view (`settings_for`), a ward search by name over all stations
   (`find_stations`, what a resident's "phuong ..." costs), writing the stations table
   (`sync_stations`);
2. a real `healthbot run` process (web chat only, SQLite or ``--db``): seconds from spawn until
   `/readyz` answers 200, and its resident memory (VmRSS) then, against the same process with
   one station.

    .venv/bin/python bench/stations.py [--stations 200] [--areas 50] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STARTUP_TIMEOUT = 120.0


def write_config(folder: Path, stations: int, areas: int, port: int, db_url: str) -> Path:
    def area_lines(table: str) -> list[str]:
        return [line for a in range(1, areas + 1)
                for line in (f"[[{table}]]", f'code = "TDP{a}"', f'name = "Tổ dân phố số {a}"')]

    lines = ['[station]', 'code = "S1"', 'name = "Trạm Y tế phường Số 1"',
             'ward = "Phường Số 1"', 'address = "Số 1 đường Thử Nghiệm"',
             'phone = "024 3756 0001"', "", f'[database]\nurl = "{db_url}"', "",
             f"[web]\nport = {port}", "", *area_lines("areas"), ""]
    for sid in range(2, stations + 1):
        lines += ["[[stations]]", f"id = {sid}", f'code = "S{sid}"',
                  f'name = "Trạm Y tế phường Thử Nghiệm {sid}"', f'ward = "Phường Thử Nghiệm {sid}"',
                  f'phone = "024 3756 {sid:04d}"', *area_lines("stations.areas"), ""]
    path = folder / f"stations-{stations}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def in_process(config: Path, stations: int) -> None:
    from bot.config import load_settings
    from core.stations import find_stations, settings_for, station_ids, sync_stations
    from storage.db import open_database, upgrade

    started = time.perf_counter()
    settings = load_settings(config, env={})
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    views = [settings_for(settings, sid) for sid in station_ids(settings)]
    viewed = time.perf_counter() - started
    assert len(views) == stations and all(len(v.areas) == len(settings.areas) for v in views)
    queries = [f"phuong thu nghiem {sid}" for sid in range(2, stations + 1, 7)] or ["phuong so 1"]
    started = time.perf_counter()
    for query in queries:
        assert find_stations(settings, query)
    searched = (time.perf_counter() - started) / len(queries)

    async def sync() -> float:
        await upgrade(settings.database.url)
        db = open_database(settings.database.url)
        try:
            began = time.perf_counter()
            async with db.sessions() as session, session.begin():
                await sync_stations(session, settings)
            return time.perf_counter() - began
        finally:
            await db.close()

    synced = asyncio.run(sync())
    print(f"  load_settings            {loaded * 1000:8.1f} ms")
    print(f"  settings_for x{stations:<4}       {viewed * 1000:8.1f} ms (first build, cached after)")
    print(f"  find_stations (ward)     {searched * 1000:8.2f} ms per search over {stations} stations")
    print(f"  sync_stations (first)    {synced * 1000:8.1f} ms")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def start_up(config: Path, port: int, log: Path) -> tuple[float, float]:
    """Seconds from spawn until /readyz is 200, and the RSS (MiB) at that moment."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEALTHBOT_", "TELEGRAM_"))}
    env |= {"PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(config)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while not ready(port):
            if proc.poll() is not None or time.perf_counter() - began > STARTUP_TIMEOUT:
                raise SystemExit(f"healthbot run did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        took = time.perf_counter() - began
        time.sleep(1.0)  # settle (the first dispatcher and planner ticks)
        return took, rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--areas", type=int, default=50)
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--runs", type=int, default=3, help="start-ups measured per size")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-stations-"))
    print(f"{args.stations} stations x {args.areas} areas (python {sys.version.split()[0]})")
    for stations in (1, args.stations):
        db_url = args.db or f"sqlite+aiosqlite:///{tmp}/s{stations}.db"
        port = free_port()
        config = write_config(tmp, stations, args.areas, port, db_url)
        print(f"\n{stations} station(s): config {config.stat().st_size / 1024:.0f} KiB")
        in_process(config, stations)
        runs = [start_up(config, port, tmp / f"run-{stations}.log") for _ in range(args.runs)]
        best = min(t for t, _ in runs)
        print(f"  healthbot run to /readyz {best:8.2f} s (best of {args.runs}: "
              f"{', '.join(f'{t:.2f}' for t, _ in runs)})")
        print(f"  RSS when ready           {max(r for _, r in runs):8.1f} MiB")


if __name__ == "__main__":
    main()
