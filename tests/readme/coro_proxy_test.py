#!/usr/bin/env python3
"""Runs the README's coroutine TCP proxy (docs/examples/coro_proxy.cpp) in
front of an echo server in this process, named by host name (localhost, so
the proxy's resolver is used): 10 connections echo through it at once, each
client's end of stream reaches the echo server and its close comes back; a
proxy whose target refuses, or whose target host cannot exist, closes the
client's connection. SIGINT (on Windows: Wine turns it into Ctrl-C) stops
the proxy cleanly: it prints "stopped" and exits with status 0.

usage: coro_proxy_test.py PROXY [EMULATOR]
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading


def fail(why):
    print("FAIL: " + why, flush=True)
    sys.exit(1)


def echo_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def session(c):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return  # the proxy passed the client's end of stream on
                c.sendall(data)

    def accept_forever():
        while True:
            c, _ = listener.accept()
            threading.Thread(target=session, args=(c,), daemon=True).start()

    threading.Thread(target=accept_forever, daemon=True).start()
    return listener.getsockname()[1]


def start_proxy(target_port, target_host="localhost"):
    argv = sys.argv[2:3] + [sys.argv[1], "0", target_host, str(target_port)]
    proxy = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
    ready, _, _ = select.select([proxy.stdout], [], [], 60)
    if not ready:
        fail("the proxy printed nothing within 60 s")
    first = proxy.stdout.readline().decode().strip()
    if "cannot listen" in first or not first:
        err = proxy.stderr.read().decode() if proxy.poll() is not None else ""
        if "io_uring" in os.environ.get("PROACT_BACKEND", "") and "unavailable" in err:
            print("SKIP: io_uring is not available here: " + err, flush=True)
            sys.exit(77)
        fail(f"unexpected first line {first!r} {err!r}")
    m = re.match(r"^listening on ([0-9.]+):(\d+)$", first)
    if not m:
        fail(f"the first line is not 'listening on ADDRESS:PORT': {first!r}")
    return proxy, (m.group(1), int(m.group(2)))


def recv_exactly(c, n, what):
    got = b""
    while len(got) < n:
        chunk = c.recv(n - len(got))
        if not chunk:
            fail(f"{what}: closed after {len(got)} of {n} bytes")
        got += chunk
    return got


def stop_proxy(proxy):
    """SIGINT: the proxy's signal_set stops its loop; it must exit cleanly."""
    proxy.send_signal(signal.SIGINT)
    try:
        out, err = proxy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proxy.kill()
        proxy.wait()
        fail("the proxy did not stop within 60 s of SIGINT")
    if proxy.returncode != 0 or b"stopped" not in out:
        fail(f"after SIGINT: exit status {proxy.returncode}, output {out!r} {err!r}")


def expect_closed(address, what):
    c = socket.create_connection(address, timeout=30)
    try:
        if c.recv(1) != b"":
            fail(f"data from a proxy whose {what}")
    except ConnectionResetError:
        pass
    c.close()


def main():
    proxy, address = start_proxy(echo_server())
    stopped = False
    try:
        conns = [socket.create_connection(address, timeout=30) for _ in range(10)]
        big = os.urandom(200 * 1024)
        for i, c in enumerate(conns):
            c.sendall(big if i == 0 else f"hello {i}\n".encode())
        for i, c in enumerate(conns):
            want = big if i == 0 else f"hello {i}\n".encode()
            if recv_exactly(c, len(want), f"connection {i}") != want:
                fail(f"connection {i}: wrong echo")
        for i, c in enumerate(conns):
            c.shutdown(socket.SHUT_WR)
            if c.recv(1) != b"":
                fail(f"connection {i}: no end of stream after the client's")
            c.close()
        stop_proxy(proxy)
        stopped = True
    finally:
        if not stopped:
            proxy.kill()
            proxy.wait()
    # A target that refuses: the proxy closes the client's connection.
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    refused_port = unused.getsockname()[1]
    unused.close()
    proxy, address = start_proxy(refused_port)
    try:
        expect_closed(address, "target refused")
    finally:
        proxy.kill()
        proxy.wait()
    # A target host that cannot exist (RFC 6761): the lookup fails.
    proxy, address = start_proxy(refused_port, "no-such-host.invalid")
    try:
        expect_closed(address, "target host does not exist")
    finally:
        proxy.kill()
        proxy.wait()
    print("PASS: 10 connections relayed both ways through localhost, SIGINT stops the proxy, "
          "a refused or nonexistent target closes the client", flush=True)


if __name__ == "__main__":
    main()
