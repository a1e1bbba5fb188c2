"""Start-up, CPU and memory of ``deskunit run --sim`` with its audio running, as systemd would see them.

    python tests/bench/bench_startup.py [--call-seconds 20] [--runs 3] [--profile out.prof]

- start-up: from spawning the process to READY=1 on a NOTIFY_SOCKET (aim <= 2 s);
- CPU: utime+stime from /proc/PID/stat over ``--call-seconds`` off-hook (a call, the line monitor
  judging the simulated audio), as a share of one core (aim < 2 %); idle too, for comparison;
- memory: VmRSS and VmHWM from /proc/PID/status during the call (aim < 80 MB).

``--profile FILE`` runs one more start under cProfile (``python -m cProfile -o FILE``) to see what
the start-up and the call cost.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15 of stat(5))


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def wait_ready(sock: socket.socket, timeout: float) -> float:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        if b"READY=1" in data.split(b"\n"):
            return time.monotonic()
    raise SystemExit("no READY=1 within the time limit")


def run_once(call_s: float, idle_s: float, prefix: list[str]) -> dict[str, float]:
    address = f"\0deskunit-bench-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address.encode())
    sock.settimeout(0.05)
    env = dict(os.environ, NOTIFY_SOCKET="@" + address[1:], WATCHDOG_USEC="30000000", DESKUNIT_CONFIG="")
    with tempfile.TemporaryDirectory(prefix="deskunit-bench-") as state:
        t0 = time.monotonic()
        cmd = [*prefix, "-m", "deskunit.cli", "run", "--sim", "--http-port", "0", "--state-dir", state]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        try:
            ready = wait_ready(sock, 30) - t0
            start_cpu = cpu_seconds(proc.pid)
            rss_ready = status_kb(proc.pid, "VmRSS")
            time.sleep(idle_s)
            idle_cpu = (cpu_seconds(proc.pid) - start_cpu) / idle_s
            assert proc.stdin is not None
            proc.stdin.write("h\n")  # off-hook: a call, the line monitor now judges the audio
            proc.stdin.flush()
            time.sleep(1.0)
            c0, w0 = cpu_seconds(proc.pid), time.monotonic()
            rss_peak = 0
            while time.monotonic() - w0 < call_s:
                time.sleep(0.5)
                rss_peak = max(rss_peak, status_kb(proc.pid, "VmRSS"))
            call_cpu = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - w0)
            hwm = status_kb(proc.pid, "VmHWM")
            proc.stdin.write("h\nq\n")
            proc.stdin.flush()
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
            sock.close()
    return {"ready_s": ready, "idle_cpu": idle_cpu, "call_cpu": call_cpu, "rss_ready_mb": rss_ready / 1024,
            "rss_call_mb": rss_peak / 1024, "hwm_mb": hwm / 1024}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--call-seconds", type=float, default=20.0)
    ap.add_argument("--idle-seconds", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", help="also run once under cProfile, writing this file")
    args = ap.parse_args()

    results = [run_once(args.call_seconds, args.idle_seconds, [sys.executable]) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    print(f"deskunit run --sim, {args.runs} runs, median (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"  start-up to READY=1     {med('ready_s'):6.2f} s     (aim <= 2 s)  "
          f"runs: {', '.join(format(r['ready_s'], '.2f') for r in results)}")
    print(f"  CPU idle                {100 * med('idle_cpu'):6.2f} % of one core")
    print(f"  CPU during a call       {100 * med('call_cpu'):6.2f} % of one core (aim < 2 %), "
          f"over {args.call_seconds:.0f} s off-hook")
    print(f"  RSS at READY            {med('rss_ready_mb'):6.1f} MB")
    print(f"  RSS during the call     {med('rss_call_mb'):6.1f} MB    (aim < 80 MB); peak (VmHWM) "
          f"{med('hwm_mb'):.1f} MB")
    if args.profile:
        run_once(args.call_seconds, args.idle_seconds, [sys.executable, "-m", "cProfile", "-o", args.profile])
        print(f"  profile written to {args.profile} (python -m pstats {args.profile})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
