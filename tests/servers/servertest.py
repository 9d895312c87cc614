"""Shared helpers of the example-server tests: start a server, read the port
it prints, stop it (SIGINT, then a kill), and make sure no server outlives the
test, whatever way the test ends (failure, exception, SIGTERM from CTest).

A test exits 0 on success, 1 on failure (fail() prints why)."""

import argparse
import asyncio
import atexit
import ctypes
import os
import queue
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time

_servers = []  # every server started and not yet reaped


def _kill_all():
    for proc in list(_servers):
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(timeout=10)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass
        _servers.remove(proc)


atexit.register(_kill_all)


def _on_signal(signum, _frame):
    _kill_all()
    sys.stderr.write(f"test: stopped by signal {signum}\n")
    raise SystemExit(1)  # finally blocks remove the temporary files


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def _die_with_parent():
    """In the child before exec: SIGKILL it if this test process dies (also
    on a SIGKILL from a CTest timeout, which runs no handler here)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # noqa: BLE001 - not Linux: the atexit handler still runs
        pass


def run(argv, **kwargs):
    """subprocess.run for the clients (curl, wrk): they die with this process too."""
    return subprocess.run(argv, preexec_fn=_die_with_parent, **kwargs)


SKIP = 77  # the tests' SKIP_RETURN_CODE in CTest


def skip(message):
    """Exits with SKIP. Under ./dev test (GTEST_OUTPUT=xml:PATH) it also
    writes a GoogleTest-style report with one skipped case, so that the
    summary counts it as skipped rather than passed."""
    sys.stderr.write(f"SKIP: {message}\n")
    output = os.environ.get("GTEST_OUTPUT", "")
    if output.startswith("xml:"):
        path = re.sub(r"^[A-Za-z]:(?=/)", "", output[4:])  # Wine's Z: prefix
        name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
        quoted = (message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                  .replace('"', "&quot;"))
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
                        f'<testsuite name="servers" tests="1">\n'
                        f'<testcase name="{name}" classname="servers" result="skipped">\n'
                        f'<skipped message="{quoted}"/>\n</testcase>\n</testsuite>\n'
                        '</testsuites>\n')
        except OSError:
            pass
    sys.exit(SKIP)


def fail(message):
    sys.stderr.write(f"FAIL: {message}\n")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


async def open_connections(host, port, count, timeout, at_once=256):
    """count asyncio connections (reader, writer), at most at_once connecting
    at a time."""
    sem = asyncio.Semaphore(at_once)

    async def connect():
        async with sem:
            return await asyncio.open_connection(host, port)

    return await asyncio.wait_for(asyncio.gather(*(connect() for _ in range(count))), timeout)


async def echo_round(conns, messages, timeout, label):
    """Writes messages[i] on conns[i], all at once, then reads every echo and
    checks it byte for byte."""
    for (_, writer), message in zip(conns, messages):
        writer.write(message)
    await asyncio.wait_for(asyncio.gather(*(w.drain() for _, w in conns)), timeout)
    echoes = await asyncio.wait_for(
        asyncio.gather(*(reader.readexactly(len(m)) for (reader, _), m in zip(conns, messages))),
        timeout)
    bad = [i for i, (e, m) in enumerate(zip(echoes, messages)) if e != m]
    check(not bad, f"{label}: {len(bad)} connections got a wrong echo (first: {bad[:5]})")


async def open_and_echo(host, port, count, rounds, largest, seed, timeout):
    """count connections at once, then rounds of a random message (1 to
    largest bytes) on each, every echo checked. Returns (connections, bytes
    sent)."""
    t0 = time.monotonic()
    conns = await open_connections(host, port, count, timeout)
    print(f"test: {len(conns)} connections open after {time.monotonic() - t0:.2f} s", flush=True)
    rng = random.Random(seed)
    sent = 0
    for r in range(rounds):
        messages = [rng.randbytes(rng.randint(1, largest)) for _ in range(count)]
        await echo_round(conns, messages, timeout, f"round {r}")
        sent += sum(len(m) for m in messages)
        print(f"test: round {r}: {count} echoes verified ({time.monotonic() - t0:.2f} s)",
              flush=True)
    return conns, sent


def raise_nofile(wanted=65536):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def common_arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--server", required=True, help="the server executable")
    parser.add_argument("--backend", default="auto", help="epoll, io_uring, iocp or auto")
    parser.add_argument("--emulator", default="",
                        help="run the server through this (wine, for the cross build)")
    return parser


class Server:
    """A running server: .host, .port, .lines (stdout lines read so far)."""

    def __init__(self, command, emulator="", startup_timeout=60.0):
        argv = ([emulator] if emulator else []) + list(command)
        print("test: starting " + " ".join(argv), flush=True)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        _servers.append(self.proc)
        self.lines = []
        self.errors = []  # stderr lines
        self._queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._error_reader = threading.Thread(target=self._read_errors, daemon=True)
        self._error_reader.start()
        first = self.next_line(startup_timeout)
        if first is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._error_reader.join(timeout=5)
            errors = "\n".join(self.errors)
            # The loop throws when its port cannot open: an io_uring the
            # kernel refuses is skipped, as in the conformance suite.
            if "cannot open its port" in errors and "io_uring" in argv:
                skip(f"the io_uring backend is unavailable here: {errors}")
            fail(f"the server printed nothing within {startup_timeout} s "
                 f"(exit status {self.proc.poll()}): {errors}")
        m = re.match(r"^listening on (\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)$", first)
        check(m is not None, f"the first line is not 'listening on ADDRESS:PORT': {first!r}")
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))
        print(f"test: server at {self.host}:{self.port}", flush=True)

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            sys.stdout.write("server: " + line + "\n")
            sys.stdout.flush()
            self._queue.put(line)
        self._queue.put(None)

    def _read_errors(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            sys.stderr.write("server (stderr): " + line + "\n")
            sys.stderr.flush()
            self.errors.append(line)

    def next_line(self, timeout):
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is not None:
            self.lines.append(line)
        return line

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15.0, require_clean=True):
        """SIGINT; returns the statistics line as a dict (None if it did not
        stop cleanly and require_clean is False)."""
        check(self.alive(), f"the server died during the test (status {self.proc.poll()})")
        self.proc.send_signal(signal.SIGINT)
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            if require_clean:
                fail(f"the server did not stop within {timeout} s of SIGINT")
            return None
        self._reader.join(timeout=10)
        while self.next_line(0.01) is not None:
            pass
        if status != 0:
            if require_clean:
                fail(f"the server exited with status {status} after SIGINT")
            return None
        stats = [l for l in self.lines if l.startswith("stats: ")]
        check(len(stats) == 1, f"expected one 'stats:' line on exit, got {stats}")
        return dict(kv.split("=", 1) for kv in stats[0][len("stats: "):].split())

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
