#!/usr/bin/env python3
"""A handful of echoes through the echo server (also the Wine smoke test):
several connections, small messages, one large message that needs several
reads and writes, 16 connections busy at once, then a clean stop (one
connection still open) with its statistics line; with --idle-timeout a
silent connection is closed."""

import socket
import threading
import time

import servertest as st


def recv_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        st.check(chunk, f"eof after {len(data)} of {n} echoed bytes")
        data += chunk
    return bytes(data)


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--no-clean-stop", action="store_true",
                        help="do not require a clean stop on SIGINT")
    args = parser.parse_args()
    server = st.Server([args.server, "--port", "0", "--backend", args.backend], args.emulator)
    total = 0
    socks = [socket.create_connection((server.host, server.port), timeout=30) for _ in range(3)]
    for i, s in enumerate(socks):
        for j in range(4):
            message = f"hello {i}.{j} from the smoke test\n".encode()
            s.sendall(message)
            st.check(recv_exactly(s, len(message)) == message, f"wrong echo on connection {i}")
            total += len(message)
    big = bytes(range(256)) * 1024  # 256 KiB
    socks[0].sendall(big)
    st.check(recv_exactly(socks[0], len(big)) == big, "wrong echo of the 256 KiB message")
    total += len(big)
    # A little concurrency: 16 connections at once, each writing 128 KiB in
    # pieces while reading its echo (several loop threads busy together).
    size = 128 * 1024
    results = []

    def busy(n):
        data = bytes((n * 7 + i) % 251 for i in range(size))
        c = socket.create_connection((server.host, server.port), timeout=60)

        def write_in_pieces():
            for i in range(0, size, 7919):
                c.sendall(data[i:i + 7919])

        writer = threading.Thread(target=write_in_pieces)
        writer.start()
        echoed = recv_exactly(c, size)
        writer.join()
        c.close()
        results.append(echoed == data)

    threads = [threading.Thread(target=busy, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    st.check(results == [True] * 16, f"concurrent echoes: {results}")
    total += 16 * size
    for s in socks:
        s.shutdown(socket.SHUT_WR)
        st.check(s.recv(1) == b"", "expected eof after the client's shutdown")
        s.close()
    # Stop with a connection open (its pending receive is cancelled).
    idle = socket.create_connection((server.host, server.port), timeout=30)
    idle.sendall(b"last")
    st.check(recv_exactly(idle, 4) == b"last", "wrong echo on the last connection")
    total += 4
    stats = server.stop(require_clean=not args.no_clean_stop)
    try:
        st.check(idle.recv(1) == b"", "the open connection got data after the stop")
    except ConnectionResetError:
        pass
    idle.close()
    if stats is not None:
        st.check(stats["connections_accepted"] == "20", f"statistics: {stats}")
        st.check(int(stats["bytes_echoed"]) == total, f"echoed {stats['bytes_echoed']}, sent {total}")
    else:
        print("test: no clean stop (allowed with --no-clean-stop)", flush=True)
    idle_timeout(args)
    print("PASS", flush=True)


def idle_timeout(args):
    server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                        "--idle-timeout", "500"], args.emulator)
    c = socket.create_connection((server.host, server.port), timeout=30)
    c.sendall(b"ping")
    st.check(recv_exactly(c, 4) == b"ping", "wrong echo before going idle")
    begin = time.monotonic()
    try:
        st.check(c.recv(1) == b"", "data on the idle connection")
    except ConnectionResetError:
        pass
    took = time.monotonic() - begin
    st.check(0.4 <= took < 15, f"the idle connection closed after {took:.2f} s, expected 0.5 s")
    c.close()
    server.stop(require_clean=not args.no_clean_stop)


if __name__ == "__main__":
    main()
