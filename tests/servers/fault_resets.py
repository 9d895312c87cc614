#!/usr/bin/env python3
"""Resets in the middle of large transfers: clients start large transfers
(--kind http: GETs of a 64 MB file, sent with send_file; --kind echo: 4 MB
sent to the echo server) and reset the connection (SO_LINGER 0, so close()
sends an RST) after reading a random part of the answer; some reset in the
middle of the request itself. Afterwards the server must hold exactly the
descriptors it held before, still serve a normal request, and stop cleanly."""

import os
import random
import select
import shutil
import socket
import struct
import tempfile
import threading
import time

import procstat
import servertest as st

BIG = 64 << 20
ECHO_SEND = 4 << 20


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def one_reset(host, port, kind, rng):
    sock = socket.create_connection((host, port), timeout=10)
    try:
        if rng.random() < 0.1:
            # In the middle of the request.
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHo" if kind == "http" else b"x" * 1000)
            reset(sock)
            return
        if kind == "http":
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            to_send = b""
            want = rng.randint(1, 8 << 20)
        else:
            # The echo server sends back while we send: both at once, in one
            # thread (a send blocked in another thread would hold the socket
            # open past close(), delaying the reset).
            to_send = memoryview(b"e" * ECHO_SEND)
            want = rng.randint(1, ECHO_SEND // 2)
        sock.setblocking(False)
        got = 0
        deadline = time.monotonic() + 30
        while got < want and time.monotonic() < deadline:
            _, writable, _ = select.select([sock], [sock] if to_send else [], [], 1.0)
            if writable:
                try:
                    to_send = to_send[sock.send(to_send[:65536]):]
                except BlockingIOError:
                    pass
            try:
                data = sock.recv(min(65536, want - got))
            except BlockingIOError:
                continue
            if not data:
                break
            got += len(data)
    except OSError:
        pass
    reset(sock)


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--kind", choices=("echo", "http"), required=True)
    parser.add_argument("--resets", type=int, default=1000)
    args = parser.parse_args()
    st.raise_nofile()

    top = tempfile.mkdtemp(prefix="proact-fault-resets-")
    try:
        command = [args.server, "--port", "0", "--backend", args.backend, "--threads", "2"]
        if args.kind == "http":
            with open(os.path.join(top, "big.bin"), "wb") as f:
                f.truncate(BIG)  # sparse: cheap to make, still 64 MB to send
            with open(os.path.join(top, "small.txt"), "wb") as f:
                f.write(b"still here\n")
            command += ["--root", top]
        server = st.Server(command, args.emulator)
        pid = server.proc.pid
        time.sleep(0.5)  # let the threads start
        base = procstat.descriptors(pid)
        print(f"test: the server holds {base} descriptors", flush=True)

        t0 = time.monotonic()
        rng = random.Random(42)
        batch = 25
        for first in range(0, args.resets, batch):
            threads = [threading.Thread(target=one_reset,
                                        args=(server.host, server.port, args.kind,
                                              random.Random(rng.random())))
                       for _ in range(min(batch, args.resets - first))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
                st.check(not t.is_alive(), "a client hung for 60 s")
            st.check(server.alive(), "the server died")
        print(f"test: {args.resets} resets in {time.monotonic() - t0:.1f} s", flush=True)

        t1 = time.monotonic()
        ok = procstat.wait_for(lambda: procstat.descriptors(pid) == base, 15)
        st.check(ok, f"the server holds {procstat.descriptors(pid)} descriptors after the resets, "
                 f"{base} before")
        print(f"test: back to {base} descriptors after {time.monotonic() - t1:.1f} s",
              flush=True)

        # Still serving.
        sock = socket.create_connection((server.host, server.port), timeout=10)
        if args.kind == "http":
            sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            expected_end = b"still here\n"
        else:
            sock.sendall(b"ping\n")
            expected_end = b"ping\n"
        data = b""
        deadline = time.monotonic() + 10
        while not data.endswith(expected_end) and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        st.check(data.endswith(expected_end), f"no proper answer after the resets: {data[:200]!r}")
        server.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
