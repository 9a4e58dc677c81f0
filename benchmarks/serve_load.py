"""Load on the data service: 50 concurrent clients asking for the prefill of random projects.

Starts ``quancheng serve`` over a published home as its own process on a free loopback port, registers
one client credential per simulated window (spread over the catalog's departments, so answers go through
the access rules of each), warms the service up (the first call of each copy reads it), then runs
``--clients`` clients in this second process (coroutines speaking plain HTTP/1.1 by default, or aiohttp
coroutines, or threads: ``--generator``), each on its own keep-alive connection, asking
``GET /v1/prefill/{stage}/{project}`` for random (stage, project) pairs of the home's stage forms.
Bounded: at most ``--requests`` calls and ``--max-seconds`` of wall time, loopback only. ``--think-ms``
makes each client pause between calls (a clerk at a window) and start within one such pause (without it all
50 clients fired their first call in the same millisecond, and that one burst was the whole 1 % tail); 0 is a
closed loop (the server's saturation), all clients starting at once.
Any status other than 200 counts as an error. The credentials are revoked at the end.

Run: .venv/bin/python benchmarks/serve_load.py --dir work [--clients 50] [--requests 20000] [--workers 2] [--write]
(writes benchmarks/results/serve.md with --write).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def targets(home: Path) -> list[str]:
    import pyarrow.parquet as pq

    out = []
    for stage in ("s1_project_land", "s2_engineering", "s3_construction", "s4_acceptance"):
        p = home / "shared" / "areas" / "shared_open" / f"stage.{stage}" / "data.parquet"
        if p.exists():
            out += [f"/v1/prefill/{stage}/{c}" for c in pq.read_table(p, columns=["project_code"])["project_code"]
                    .to_pylist()]
    return out


def cpu_seconds(pid: int, kind: str = "user+system") -> dict[int, float]:
    """CPU so far (``user``, ``system`` or both) of a process and of each of its children (the ``--workers``
    processes)."""
    import psutil

    proc = psutil.Process(pid)
    out: dict[int, float] = {}
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            out[p.pid] = (t.user if "user" in kind else 0.0) + (t.system if "system" in kind else 0.0)
        except psutil.NoSuchProcess:
            continue
    return out


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q))]


def summary(latencies: list[float], statuses: Counter[int | str], wall: float) -> dict[str, Any]:
    """Calls, rate and latency percentiles (ms) of one run; any status but 200 is an error."""
    latencies = sorted(latencies)
    return {"requests": len(latencies), "seconds": round(wall, 2), "rps": round(len(latencies) / wall, 1),
            "p50": round(percentile(latencies, 0.50), 1), "p95": round(percentile(latencies, 0.95), 1),
            "p99": round(percentile(latencies, 0.99), 1), "max": round(latencies[-1], 1),
            "errors": sum(n for s, n in statuses.items() if s != 200), "statuses": dict(statuses)}


def run(port: int, keys: list[str], paths: list[str], *, requests: int, max_seconds: float, think_ms: float,
        seed: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    lock = threading.Lock()
    budget = [requests]
    stop_at = time.monotonic() + max_seconds

    def client(i: int) -> None:
        rnd = random.Random(seed + i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {keys[i]}"}
        mine: list[float] = []
        seen: Counter[int | str] = Counter()
        if think_ms:  # clerks do not all press the button in the same millisecond: start within one pause
            time.sleep(rnd.uniform(0, think_ms / 1000))
        while time.monotonic() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            path = rnd.choice(paths)
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                seen[resp.status] += 1
            except (OSError, http.client.HTTPException) as exc:
                seen[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - t) * 1000)
            if think_ms:
                time.sleep(rnd.uniform(0.5, 1.5) * think_ms / 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(keys))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return summary(latencies, statuses, wall)


def gather(client: Callable[[int, float], Coroutine[Any, Any, None]], n: int, max_seconds: float) -> float:
    """Run ``n`` client coroutines at once until they stop or ``max_seconds`` pass; the wall seconds."""
    import asyncio

    async def all_clients() -> float:
        started = time.perf_counter()
        stop_at = time.monotonic() + max_seconds
        await asyncio.gather(*(client(i, stop_at) for i in range(n)))
        return time.perf_counter() - started

    return asyncio.run(all_clients())


def run_raw(port: int, keys: list[str], paths: list[str], *, requests: int, max_seconds: float,
            think_ms: float, seed: int) -> dict[str, Any]:
    """The same clients as coroutines on one event loop, each on one keep-alive connection speaking just
    enough HTTP/1.1 (a GET, then the status line, the headers and ``Content-Length`` bytes of body). A load
    generator on the same two cores takes its CPU from the server: aiohttp spends ~0.6 ms of it a call on a
    170 kB answer, this ~0.1 ms, so the server is measured, not its client."""
    import asyncio

    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    budget = [requests]

    async def call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, key: str) -> int:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        return status

    async def client(i: int, stop_at: float) -> None:
        rnd = random.Random(seed + i)
        if think_ms:  # clerks do not all press the button in the same millisecond: start within one pause
            await asyncio.sleep(rnd.uniform(0, think_ms / 1000))
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        try:
            while time.monotonic() < stop_at and budget[0] > 0:
                budget[0] -= 1
                path = rnd.choice(paths)
                t = time.perf_counter()
                try:
                    statuses[await asyncio.wait_for(call(reader, writer, path, keys[i]), 30)] += 1
                except (OSError, TimeoutError, asyncio.IncompleteReadError, StopIteration) as exc:
                    statuses[type(exc).__name__] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
                latencies.append((time.perf_counter() - t) * 1000)
                if think_ms:
                    await asyncio.sleep(rnd.uniform(0.5, 1.5) * think_ms / 1000)
        finally:
            writer.close()

    return summary(latencies, statuses, gather(client, len(keys), max_seconds))


def run_async(port: int, keys: list[str], paths: list[str], *, requests: int, max_seconds: float,
              think_ms: float, seed: int) -> dict[str, Any]:
    """The same clients as :func:`run`, as coroutines on one event loop (aiohttp, one keep-alive connection
    each): 50 Python threads reading 190 kB answers fight over the interpreter lock of the load generator
    itself and add their own tail to what is measured."""
    import asyncio

    import aiohttp

    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    budget = [requests]

    async def client(i: int, stop_at: float) -> None:
        rnd = random.Random(seed + i)
        headers = {"Authorization": f"Bearer {keys[i]}"}
        conn = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=conn,
                                         timeout=aiohttp.ClientTimeout(total=30)) as session:
            if think_ms:  # clerks do not all press the button in the same millisecond: start within one pause
                await asyncio.sleep(rnd.uniform(0, think_ms / 1000))
            while time.monotonic() < stop_at and budget[0] > 0:
                budget[0] -= 1
                path = rnd.choice(paths)
                t = time.perf_counter()
                try:
                    async with session.get(path, headers=headers) as resp:
                        await resp.read()
                        statuses[resp.status] += 1
                except (TimeoutError, aiohttp.ClientError) as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append((time.perf_counter() - t) * 1000)
                if think_ms:
                    await asyncio.sleep(rnd.uniform(0.5, 1.5) * think_ms / 1000)

    return summary(latencies, statuses, gather(client, len(keys), max_seconds))


def main() -> None:
    from quancheng.catalog import load_catalog
    from quancheng.publish.store import SharedStore
    from quancheng.serve.clients import ClientStore
    from quancheng.sharing.postgres import departments

    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("work"))
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20000, help="at most this many calls in all")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="and at most this long")
    ap.add_argument("--think-ms", type=float, default=0.0, help="pause between a client's calls (0: closed loop)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=1, help="server processes (quancheng serve --workers)")
    ap.add_argument("--generator", choices=["raw", "asyncio", "threads"], default="raw",
                    help="clients as coroutines speaking plain HTTP/1.1 (default), as aiohttp coroutines, or as "
                         "threads (http.client)")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    home = a.dir.resolve()
    paths = targets(home)
    if not paths:
        raise SystemExit(f"no stage forms published under {home} (run `make demo` first)")
    catalog = load_catalog()
    store = ClientStore(SharedStore(home).engine)
    depts = list(departments(catalog))
    run_id = uuid.uuid4().hex[:6]
    names = [f"bench-{run_id}-{i}" for i in range(a.clients)]
    keys = [store.add(n, depts[i % len(depts)], catalog) for i, n in enumerate(names)]
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    server = subprocess.Popen([sys.executable, "-m", "quancheng.cli", "serve", "--dir", str(home), "--port", str(port),
                               "--workers", str(a.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("quancheng serve did not start") from None
                time.sleep(0.2)
        t = time.perf_counter()  # warm-up: every client's department reads its copies once
        run(port, keys, paths, requests=a.clients * 4, max_seconds=120, think_ms=0, seed=a.seed + 999)
        warm = time.perf_counter() - t
        measure = {"raw": run_raw, "asyncio": run_async, "threads": run}[a.generator]
        server_cpu, server_sys = cpu_seconds(server.pid), cpu_seconds(server.pid, "system")
        own_cpu = time.process_time()
        result = measure(port, keys, paths, requests=a.requests, max_seconds=a.max_seconds, think_ms=a.think_ms,
                         seed=a.seed)
        # CPU per call, the figure the machine's load does not move much: two cores serve at most
        # 2000 / (server + generator ms) calls a second
        calls = max(1, result["requests"])
        used = {pid: t - server_cpu.get(pid, 0.0) for pid, t in cpu_seconds(server.pid).items()}
        result["server_cpu_ms"] = round(sum(used.values()) * 1000 / calls, 3)
        kernel = sum(t - server_sys.get(pid, 0.0) for pid, t in cpu_seconds(server.pid, "system").items())
        result["server_system_cpu_ms"] = round(kernel * 1000 / calls, 3)  # of which in the kernel (sockets)
        # how evenly the calls spread over the worker processes (the kernel hands each connection to one)
        result["worker_cpu_s"] = sorted((round(t, 1) for t in used.values() if t > 0.5), reverse=True)
        result["generator_cpu_ms"] = round((time.process_time() - own_cpu) * 1000 / calls, 3)
    finally:
        server.terminate()
        server.wait(timeout=30)
        for n in names:
            store.revoke(n)
    result.update(clients=a.clients, think_ms=a.think_ms, targets=len(paths), warmup_s=round(warm, 1),
                  workers=a.workers, generator=a.generator)
    print(json.dumps(result))
    if a.write:
        write(a, result)


def write(a: argparse.Namespace, r: dict[str, Any]) -> None:
    """Add the run to the table of ``benchmarks/results/serve.md`` (the one headed ``| code | workers``) and
    its command to the list after it."""
    out = ROOT / "benchmarks" / "results" / "serve.md"
    row = (f"| now | {r['workers']} | {r['think_ms']:g} | {r['requests']:,} | {r['seconds']} | {r['rps']} | "
           f"{r['p50']} | {r['p95']} | {r['p99']} | {r['max']} | {r['errors']} | {r['server_cpu_ms']} |")
    cmd = (f"- `.venv/bin/python benchmarks/serve_load.py --dir {a.dir} --clients {a.clients} --requests "
           f"{a.requests} --max-seconds {a.max_seconds:g} --think-ms {a.think_ms:g} --workers {a.workers} "
           f"--generator {a.generator}`")
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    head = next((i for i, line in enumerate(lines) if line.startswith("| code | workers")), None)
    if head is None:
        lines += ["", "| code | workers | think ms | calls | seconds | calls/s | p50 ms | p95 ms | p99 ms | max ms | "
                  "errors | server CPU ms/call |", "| --- " * 12 + "|", "", "commands:"]
        head = len(lines) - 4
    end = next(i for i in range(head, len(lines) + 1) if i == len(lines) or not lines[i].startswith("|"))
    lines.insert(end, row)
    listed = next((i for i in range(end, len(lines)) if lines[i].startswith("commands")), len(lines) - 1)
    after = next(i for i in range(listed + 1, len(lines) + 1) if i == len(lines) or not lines[i].startswith("- "))
    if cmd not in lines:
        lines.insert(after, cmd)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
