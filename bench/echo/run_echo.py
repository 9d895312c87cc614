#!/usr/bin/env python3
"""The out-of-process echo comparison.

Each echo server runs alone on one core (taskset), one thread; the load
client (proact-bench-echo-load) runs on another core and keeps CONNS
connections busy with one SIZE-byte message in flight each. Measured:
round trips per second and per server-CPU-second (the server's user +
system time over the measuring window, from /proc/PID/stat). Repetitions
are interleaved (each round runs every server once, in a rotated order),
and the medians are reported with each server's ratio to the hand-written
epoll loop and, for io_uring, to the hand-written io_uring loop.

  run_echo.py --bin-dir build-release [--conns 1,100,1000] [--size 64]
              [--seconds 3] [--warmup 1] [--repetitions 3] [--json FILE]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def servers(bin_dir):
    """(name, argv) of every server that was built, in report order."""
    example = os.path.join(bin_dir, "examples", "proact-echo-server")
    bench = os.path.join(bin_dir, "bench")
    found = []
    for backend in ("epoll", "io_uring"):
        found.append((f"proact-{backend}",
                      [example, "--port", "0", "--threads", "1", "--concurrency", "1",
                       "--backend", backend]))
    for name, binary, args in (("floor-epoll", "proact-bench-echo-epoll", []),
                               ("floor-io_uring", "proact-bench-echo-uring", []),
                               ("floor-io_uring-tuned", "proact-bench-echo-uring", ["--tuned"]),
                               ("asio", "proact-bench-echo-asio", []),
                               ("libuv", "proact-bench-echo-libuv", [])):
        found.append((name, [os.path.join(bench, binary)] + args))
    return [(n, argv) for n, argv in found if os.path.exists(argv[0])]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def pinned(cpu, argv):
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1:
        return ["taskset", "-c", str(cpu)] + argv
    return argv


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


class Unsupported(Exception):
    """The server cannot run on this machine (it said so before listening)."""


def run_one(server_argv, load, conns, size, warmup, seconds):
    """One measurement: (round trips per second, per server-CPU-second)."""
    server = subprocess.Popen(pinned(0, server_argv), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, preexec_fn=raise_fd_limit)
    try:
        line = server.stdout.readline()
        if line.startswith("unsupported"):
            raise Unsupported(line.strip())
        if not line.startswith("listening on"):
            raise RuntimeError(f"{server_argv[0]}: no 'listening on' line: {line!r}")
        port = line.strip().rsplit(":", 1)[1]
        client = subprocess.Popen(
            pinned(1, [load, port, str(conns), str(size), str(warmup), str(seconds)]),
            stdout=subprocess.PIPE, text=True, preexec_fn=raise_fd_limit)
        start_cpu = None
        result = None
        for out in client.stdout:
            if out.startswith("measuring"):
                start_cpu = cpu_seconds(server.pid)
            elif out.startswith("round_trips"):
                end_cpu = cpu_seconds(server.pid)
                _, trips, _, elapsed = out.split()
                result = (int(trips), float(elapsed), end_cpu - start_cpu)
        if client.wait() != 0 or result is None or start_cpu is None:
            raise RuntimeError(f"the load client failed against {server_argv[0]}")
        trips, elapsed, cpu = result
        return trips / elapsed, (trips / cpu if cpu > 0 else float("nan"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default="build-release")
    ap.add_argument("--conns", default="1,100,1000")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--json", help="write the medians here")
    ap.add_argument("--servers", help="only these (comma-separated names)")
    args = ap.parse_args()
    load = os.path.join(args.bin_dir, "bench", "proact-bench-echo-load")
    if not os.path.exists(load):
        sys.exit(f"run_echo.py: {load} is not built")
    impls = servers(args.bin_dir)
    if args.servers:
        wanted = args.servers.split(",")
        impls = [(n, argv) for n, argv in impls if n in wanted]
    conns_list = [int(c) for c in args.conns.split(",")]
    raise_fd_limit()
    samples = {}  # (impl, conns) -> [(rps, per_cpu)]
    for rep in range(args.repetitions):
        for conns in conns_list:
            shift = rep % len(impls)
            for name, argv in impls[shift:] + impls[:shift]:
                try:
                    rps, per_cpu = run_one(argv, load, conns, args.size, args.warmup,
                                           args.seconds)
                except Unsupported as e:
                    print(f"  {name}: skipped ({e})", flush=True)
                    impls.remove((name, argv))
                    continue
                samples.setdefault((name, conns), []).append((rps, per_cpu))
                print(f"  round {rep + 1}: {name:15} conns {conns:5}: {rps:10.0f} round trips/s, "
                      f"{per_cpu:10.0f} per server-CPU-s", flush=True)
    medians = {k: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v))
               for k, v in samples.items()}
    print()
    print(f"## Out of process: echo, {args.size} B, one server thread on its own core; "
          f"medians of {args.repetitions} interleaved rounds of {args.seconds:g} s")
    print()
    print("| server | conns | round trips/s | per server-CPU-s | vs floor-epoll (CPU-s) "
          "| vs floor-io_uring (CPU-s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for conns in conns_list:
        base_e = medians.get(("floor-epoll", conns), (None, None))[1]
        base_u = medians.get(("floor-io_uring", conns), (None, None))[1]
        for name, _ in impls:
            rps, per_cpu = medians[(name, conns)]
            ratio_e = f"{per_cpu / base_e:.2f}x" if base_e else "-"
            ratio_u = f"{per_cpu / base_u:.2f}x" if base_u and "io_uring" in name else ""
            print(f"| {name} | {conns} | {rps:.0f} | {per_cpu:.0f} | {ratio_e} | {ratio_u} |")
    print_targets(medians, conns_list)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"server": n, "conns": c, "round_trips_per_s": m[0],
                        "round_trips_per_cpu_s": m[1]} for (n, c), m in sorted(medians.items())],
                      f, indent=1)


def print_targets(medians, conns_list):
    """The performance targets that concern the echo servers, per
    server-CPU-second: PASS, MISS (with the ratios that missed) or n/a."""
    def check(impl, base, factor, conns_set):
        misses, checked = [], 0
        for conns in conns_set:
            a = medians.get((impl, conns), (None, None))[1]
            b = medians.get((base, conns), (None, None))[1]
            if not a or not b:
                continue
            checked += 1
            if a / b < factor:
                misses.append(f"{conns} conns: {a / b:.2f}x")
        if checked == 0:
            return "n/a", f"no {impl} and {base} results"
        if misses:
            return "MISS", f"{len(misses)} of {checked} below {factor:.2f}x: " + ", ".join(misses)
        return "PASS", f"all {checked} at or above {factor:.2f}x"

    many = [c for c in conns_list if c >= 100]
    rows = [
        (f"{impl} >= 1.0x floor-epoll per server-CPU-s", *check(impl, "floor-epoll", 1.0, conns_list))
        for impl in ("proact-epoll", "proact-io_uring")
    ]
    rows.append(("proact-io_uring >= 1.2x floor-epoll per server-CPU-s, 100 and 1,000 conns",
                 *check("proact-io_uring", "floor-epoll", 1.2, many)))
    rows.append(("proact-io_uring >= 1.0x floor-io_uring per server-CPU-s",
                 *check("proact-io_uring", "floor-io_uring", 1.0, conns_list)))
    print()
    print("### Targets (echo, out of process)")
    print()
    print("| target | result | details |")
    print("| --- | --- | --- |")
    for name, status, detail in rows:
        print(f"| {name} | **{status}** | {detail} |")


if __name__ == "__main__":
    main()
