#!/usr/bin/env python3
"""The HTTP server against nginx, out of process.

proact-http-server (one thread, on each Linux backend) and nginx (Debian's
nginx-light: one worker, no master, sendfile on, access log off) serve the
same directory, each alone on core 0 (taskset); wrk runs on core 1 with
CONNS keep-alive connections, for SECONDS per run, fetching a 4 KiB and a
1 MiB file. Measured: requests per second and per server-CPU-second (user +
system time over the run, /proc/PID/stat). Rounds are interleaved; the
medians are reported with each server's ratio to nginx. A run whose wrk
reports errors or non-2xx answers fails the comparison.

  run_http.py --bin-dir build-release [--seconds 5] [--conns 32]
              [--repetitions 3] [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")
FILES = {"4KiB": ("file-4k.bin", 4096), "1MiB": ("file-1m.bin", 1 << 20)}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def pinned(cpu, argv):
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu)] + argv
    return argv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} does not listen on {port}")


def nginx_server(work, root):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        return None

    def start():
        port = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  types {{ application/octet-stream bin; }}
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
""")
        proc = subprocess.Popen(pinned(0, [nginx, "-c", conf, "-p", work]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(port, proc, "nginx")
        return proc, port
    return start


def proact_server(bin_dir, root, backend):
    binary = os.path.join(bin_dir, "examples", "proact-http-server")
    if not os.path.exists(binary):
        return None

    def start():
        proc = subprocess.Popen(
            pinned(0, [binary, "--root", root, "--port", "0", "--threads", "1",
                       "--concurrency", "1", "--backend", backend]),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        m = re.search(r":(\d+)\s*$", line)
        if not m:
            proc.kill()
            raise RuntimeError(f"proact-http-server: no 'listening on' line: {line!r}")
        return proc, int(m.group(1))
    return start


def run_wrk(port, path, conns, seconds):
    out = subprocess.run(pinned(1, ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
                                    f"http://127.0.0.1:{port}/{path}"]),
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", default="build-release")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("run_http.py: wrk is not installed (./dev setup)")
    work = tempfile.mkdtemp(prefix="proact-http-bench-")
    try:
        root = os.path.join(work, "root")
        os.makedirs(root)
        for name, size in FILES.values():
            with open(os.path.join(root, name), "wb") as f:
                f.write(os.urandom(size))
        servers = [(n, s) for n, s in (
            ("nginx", nginx_server(work, root)),
            ("proact-epoll", proact_server(args.bin_dir, root, "epoll")),
            ("proact-io_uring", proact_server(args.bin_dir, root, "io_uring"))) if s]
        samples = {}
        for rep in range(args.repetitions):
            shift = rep % len(servers)
            for name, start in servers[shift:] + servers[:shift]:
                for label, (path, _) in FILES.items():
                    proc, port = start()
                    try:
                        run_wrk(port, path, args.conns, 1)  # warm-up
                        before = cpu_seconds(proc.pid)
                        t0 = time.monotonic()
                        rps = run_wrk(port, path, args.conns, args.seconds)
                        elapsed = time.monotonic() - t0
                        cpu = cpu_seconds(proc.pid) - before
                    finally:
                        proc.terminate()
                        try:
                            proc.wait(timeout=10)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                            proc.wait()
                    per_cpu = rps * elapsed / cpu if cpu > 0 else float("nan")
                    samples.setdefault((name, label), []).append((rps, per_cpu))
                    print(f"  round {rep + 1}: {name:15} {label:5}: {rps:9.0f} requests/s, "
                          f"{per_cpu:9.0f} per server-CPU-s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {k: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v))
               for k, v in samples.items()}
    print()
    print(f"## Out of process: HTTP GET against nginx, {args.conns} connections (wrk), "
          f"one server thread on its own core; medians of {args.repetitions} interleaved "
          f"rounds of {args.seconds} s")
    print()
    print("| server | file | requests/s | per server-CPU-s | vs nginx (requests/s) "
          "| vs nginx (CPU-s) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for label in FILES:
        base = medians.get(("nginx", label))
        for name, _ in servers:
            rps, per_cpu = medians[(name, label)]
            r1 = f"{rps / base[0]:.2f}x" if base else "-"
            r2 = f"{per_cpu / base[1]:.2f}x" if base else "-"
            print(f"| {name} | {label} | {rps:.0f} | {per_cpu:.0f} | {r1} | {r2} |")
    print_targets(medians, [n for n, _ in servers])
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"server": n, "file": l, "requests_per_s": m[0],
                        "requests_per_cpu_s": m[1]} for (n, l), m in sorted(medians.items())],
                      f, indent=1)


def print_targets(medians, names):
    """The HTTP server's target: at least nginx's requests per second (and
    per server-CPU-second) on every file size; PASS, MISS or n/a."""
    print()
    print("### Targets (HTTP, out of process)")
    print()
    print("| target | result | details |")
    print("| --- | --- | --- |")
    for name in names:
        if name == "nginx":
            continue
        for i, what in enumerate(("requests/s", "requests per server-CPU-s")):
            misses, checked = [], 0
            for label in FILES:
                a = medians.get((name, label))
                b = medians.get(("nginx", label))
                if not a or not b or not b[i]:
                    continue
                checked += 1
                if a[i] / b[i] < 1.0:
                    misses.append(f"{label}: {a[i] / b[i]:.2f}x")
            if checked == 0:
                status, detail = "n/a", "no results to compare"
            elif misses:
                status, detail = "MISS", f"{len(misses)} of {checked} below nginx: " + ", ".join(misses)
            else:
                status, detail = "PASS", f"all {checked} at or above nginx"
            print(f"| {name} >= 1.0x nginx, {what} | **{status}** | {detail} |")


if __name__ == "__main__":
    main()
