#!/usr/bin/env python3
"""Descriptor exhaustion while accepting: the server's descriptor limit is
lowered (prlimit) so that it can hold only about 40 connections, then 100
clients connect and each sends a message. While it is out of descriptors the
server must keep serving the connections it has, must not spin (CPU time),
and must log the accept failures at a bounded rate (about one line a
second); when connections close it must recover and serve every waiting
client. Then it stops cleanly.

--kind echo: the echo server (the message comes back); --kind http: the
HTTP server (a GET of a small file; while out of descriptors it cannot open
the file, so any complete response counts as served then, and a GET must
succeed once descriptors are free again).

Not run under UndefinedBehaviorSanitizer: its vptr check opens a pipe and
aborts when the process is out of descriptors (a false alarm); the plain
build runs it."""

import os
import resource
import selectors
import shutil
import socket
import tempfile
import time

import procstat
import servertest as st

CLIENTS = 100
HEADROOM = 40  # descriptors the server gets beyond those it has at start
BODY = b"served\n"


class Client:
    def __init__(self, host, port, index, kind):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setblocking(False)
        self.index = index
        self.kind = kind
        self.got = b""
        self.expected = b""

    def ask(self, round_number):
        if self.kind == "echo":
            message = f"client {self.index} round {round_number}\n".encode()
            self.expected = message
        else:
            message = b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
            self.expected = BODY
        self.got = b""
        self.sock.sendall(message)

    def answered(self):
        if self.kind == "echo":
            return self.got == self.expected
        return self.status() is not None

    def status(self):
        """The status of a complete HTTP response, else None."""
        head, sep, body = self.got.partition(b"\r\n\r\n")
        if not sep:
            return None
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(body) < length:
            return None
        return int(head.split(b" ")[1])

    def close(self):
        self.sock.close()


def collect(clients, timeout):
    """Reads from `clients` for up to `timeout` seconds (less once all
    answered); returns the set of those that answered."""
    sel = selectors.DefaultSelector()
    waiting = {c for c in clients if not c.answered()}
    for c in waiting:
        sel.register(c.sock, selectors.EVENT_READ, c)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if not data:
                sel.unregister(c.sock)
                waiting.discard(c)
                continue
            c.got += data
            if c.answered():
                sel.unregister(c.sock)
                waiting.discard(c)
    sel.close()
    return {c for c in clients if c.answered()}


def accept_log_lines(server):
    return sum(1 for line in server.errors if line.startswith("accept:"))


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--kind", choices=("echo", "http"), required=True)
    args = parser.parse_args()
    st.raise_nofile()

    top = tempfile.mkdtemp(prefix="proact-fault-fds-")
    try:
        command = [args.server, "--port", "0", "--backend", args.backend, "--threads", "2"]
        if args.kind == "http":
            with open(os.path.join(top, "small.txt"), "wb") as f:
                f.write(BODY)
            command += ["--root", top]
        server = st.Server(command, args.emulator)
        run(server, args.kind)
        stats = server.stop()
        print(f"test: statistics {stats}", flush=True)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


def run(server, kind):
    pid = server.proc.pid
    base = procstat.descriptors(pid)
    limit = base + HEADROOM
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    print(f"test: the server has {base} descriptors open; its limit is now {limit}", flush=True)

    clients = [Client(server.host, server.port, i, kind) for i in range(CLIENTS)]
    for c in clients:
        c.ask(0)
    served = collect(clients, 3.0)
    print(f"test: {len(served)} of {CLIENTS} clients served while out of descriptors", flush=True)
    st.check(0 < len(served) <= HEADROOM,
             f"{len(served)} clients served: expected some, at most {HEADROOM}")
    st.check(len(served) < CLIENTS, "every client was served: the limit did not bite")

    # Out of descriptors: the connections it has are still served, the
    # server does not spin, and it logs about once a second.
    lines_before = accept_log_lines(server)
    cpu_before = procstat.cpu_seconds(pid)
    t0 = time.monotonic()
    for round_number in range(1, 4):
        for c in served:
            c.ask(round_number)
        again = collect(served, 5.0)
        if kind == "http":
            statuses = sorted({c.status() for c in again})
            print(f"test: round {round_number}: HTTP statuses {statuses}", flush=True)
            # A file that cannot be opened for want of descriptors is 503
            # (try again), never 404: the file is there.
            st.check(set(statuses) <= {200, 503},
                     f"round {round_number}: statuses {statuses}, expected only 200 and 503")
        st.check(again == served, f"round {round_number}: {len(served) - len(again)} of the "
                 f"{len(served)} connections held were not served while out of descriptors")
        time.sleep(1.0)
    elapsed = time.monotonic() - t0
    cpu = procstat.cpu_seconds(pid) - cpu_before
    st.check(server.alive(), "the server died while out of descriptors")
    lines = accept_log_lines(server) - lines_before
    print(f"test: out of descriptors for {elapsed:.1f} s: {cpu:.2f} s of CPU, "
          f"{lines} 'accept:' log lines", flush=True)
    st.check(cpu < 0.5 * elapsed, f"the server used {cpu:.2f} s of CPU in {elapsed:.1f} s: spinning?")
    st.check(accept_log_lines(server) > 0, "no 'accept:' line was logged at all")
    st.check(lines <= elapsed + 2,
             f"{lines} 'accept:' lines in {elapsed:.1f} s: not a bounded rate (one a second)")

    # Recovery: close the connections held; every waiting client is served
    # in turn (each closed once served, freeing a descriptor for the next).
    for c in served:
        c.close()
    waiting = [c for c in clients if c not in served]
    deadline = time.monotonic() + 30
    while waiting and time.monotonic() < deadline:
        done = collect(waiting, 1.0)
        for c in done:
            c.close()
        waiting = [c for c in waiting if c not in done]
    st.check(not waiting, f"{len(waiting)} clients were never served after descriptors freed up")
    print(f"test: all {CLIENTS} clients served after descriptors freed up", flush=True)
    # And served properly again.
    late = Client(server.host, server.port, CLIENTS, kind)
    late.ask(0)
    collect([late], 10.0)
    st.check(late.answered() and (kind == "echo" or (late.status() == 200 and
                                                     late.got.endswith(BODY))),
             f"a client after the recovery got {late.got[:200]!r}")
    late.close()
    # Back to where it started once every connection is closed.
    st.check(procstat.wait_for(lambda: procstat.descriptors(pid) <= base, 10),
             f"the server holds {procstat.descriptors(pid)} descriptors, {base} at start")


if __name__ == "__main__":
    main()
