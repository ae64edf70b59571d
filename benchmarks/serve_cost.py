"""What one `megatron serve` process costs (issue 12): memory (RSS) and CPU while it serves every deployment.

Starts `megatron serve` (its own local Prefect server, SQLite, offline) against a fresh migrated database,
waits until the deployments are registered, then samples /proc every second for --window seconds:

* serve_process_rss / local_server_rss — resident memory of the serve process (with the screener it serves
  from a thread) and of the Prefect server it started (the flow runs themselves are separate child processes and are reported apart);
* serve_process_cpu / local_server_cpu — CPU time used over the window as % of one core;
* flow_run_children — the largest number of flow-run processes seen at once.

Baseline, measured in the same run: a bare Python interpreter that imported prefect and sleeps.
Prints `name: value unit (ratio vs baseline)` lines.

    .venv/bin/python benchmarks/serve_cost.py --window 180
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_db import drop, fresh_database  # noqa: E402

from megatron import db  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        out += [int(k) for k in kids]
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(pid: int, window: float, others: list[int] | None = None) -> dict[str, float]:
    start = {p: cpu_seconds(p) for p in [pid, *(others or [])]}
    t0 = time.monotonic()
    peak_rss = {p: 0.0 for p in start}
    peak_kids = 0
    while time.monotonic() - t0 < window:
        for p in start:
            peak_rss[p] = max(peak_rss[p], rss_mb(p))
        kids = [k for k in children(pid) if k not in start]
        peak_kids = max(peak_kids, len(kids))
        time.sleep(1)
    elapsed = time.monotonic() - t0
    out = {f"rss_{p}": peak_rss[p] for p in start}
    out |= {f"cpu_{p}": 100 * (cpu_seconds(p) - start[p]) / elapsed for p in start}
    out["kids"] = peak_kids
    return out


def line(name: str, value: float, unit: str, baseline: float | None = None) -> None:
    ratio = f" ({value / baseline:.2f}× baseline)" if baseline else ""
    print(f"{name}: {value:.4g} {unit}{ratio}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=180.0, help="seconds to sample once serving")
    args = parser.parse_args()

    bare = subprocess.Popen([sys.executable, "-c", "import prefect, prefect.flows, time; time.sleep(100000)"])
    time.sleep(8)
    base = measure(bare.pid, min(args.window, 30))
    bare.terminate()
    bare.wait()
    line("baseline_python_with_prefect_rss", base[f"rss_{bare.pid}"], "MB")
    line("baseline_python_with_prefect_cpu", base[f"cpu_{bare.pid}"], "% of a core")

    server = db.database_url()
    url = fresh_database(server, "serve")
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= {"DATABASE_URL": url, "MEGATRON_PREFECT_HOME": home, "MEGATRON_INBOX": f"{home}/inbox"}
        started = time.monotonic()
        # the screener is served from the same process (a thread): its cost is in serve_process_*
        proc = subprocess.Popen([str(Path(sys.executable).with_name("megatron")), "serve", "--port", str(port),
                                 "--web-port", str(free_port())],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            api = f"http://127.0.0.1:{port}/api/deployments/filter"
            while True:
                try:
                    req = urllib.request.Request(api, data=b"{}", headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        if len(json.loads(resp.read())) >= 10:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() - started > 300:
                    raise SystemExit("megatron serve did not register its deployments within 300 s")
                time.sleep(1)
            line("serve_ready_after", time.monotonic() - started, "s")
            srv = [k for k in children(proc.pid) if "server start" in cmdline(k)]
            got = measure(proc.pid, args.window, srv)
            line("serve_process_rss", got[f"rss_{proc.pid}"], "MB", base[f"rss_{bare.pid}"])
            line("serve_process_cpu", got[f"cpu_{proc.pid}"], "% of a core")
            for s in srv:
                line("local_server_rss", got[f"rss_{s}"], "MB", base[f"rss_{bare.pid}"])
                line("local_server_cpu", got[f"cpu_{s}"], "% of a core")
            line("flow_run_children_at_once", got["kids"] - 0, "processes")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
            drop(server, url)


if __name__ == "__main__":
    main()
