#!/usr/bin/env python3
"""Runs the README's coroutine echo server (docs/examples/coro_echo.cpp) on an
ephemeral port, echoes messages on 20 connections at once, and stops it.

usage: coro_echo_test.py SERVER [EMULATOR]
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys


def fail(why):
    print("FAIL: " + why, flush=True)
    sys.exit(1)


def main():
    argv = sys.argv[2:3] + [sys.argv[1], "0"]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([server.stdout], [], [], 60)
        if not ready:
            fail("the server printed nothing within 60 s")
        first = server.stdout.readline().decode().strip()
        if "cannot listen" in first or not first:
            err = server.stderr.read().decode() if server.poll() is not None else ""
            if "io_uring" in os.environ.get("PROACT_BACKEND", "") and "unavailable" in err:
                print("SKIP: io_uring is not available here: " + err, flush=True)
                sys.exit(77)
            fail(f"unexpected first line {first!r} {err!r}")
        m = re.match(r"^listening on ([0-9.]+):(\d+)$", first)
        if not m:
            fail(f"the first line is not 'listening on ADDRESS:PORT': {first!r}")
        address = (m.group(1), int(m.group(2)))
        conns = [socket.create_connection(address, timeout=30) for _ in range(20)]
        for round_ in range(5):
            for i, c in enumerate(conns):
                c.sendall(f"round {round_} connection {i}\n".encode())
            for i, c in enumerate(conns):
                want = f"round {round_} connection {i}\n".encode()
                got = b""
                while len(got) < len(want):
                    chunk = c.recv(len(want) - len(got))
                    if not chunk:
                        fail(f"connection {i} closed early")
                    got += chunk
                if got != want:
                    fail(f"connection {i}: echoed {got!r}, sent {want!r}")
        for c in conns:
            c.close()
        print("PASS: 20 connections x 5 rounds echoed", flush=True)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()


if __name__ == "__main__":
    main()
