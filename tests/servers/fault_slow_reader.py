#!/usr/bin/env python3
"""Slow readers of a large file: several clients GET a 256 MB file from the
HTTP server and read it at a trickle. The server's memory must stay bounded
(it must not read ahead what the clients do not take: --max-growth-mib),
and it must keep serving other clients at full speed meanwhile. With --tls,
the same over HTTPS (the file is read and encrypted in pieces: one piece per
connection at most)."""

import os
import shutil
import socket
import ssl
import tempfile
import threading
import time

import procstat
import servertest as st

SIZE = 256 << 20


def connect(host, port, tls, rcvbuf=None):
    sock = socket.create_connection((host, port), timeout=10)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    return tls.wrap_socket(sock, server_hostname="localhost") if tls else sock


def slow_read(host, port, seconds, rate, result, index, tls):
    try:
        sock = connect(host, port, tls, 64 << 10)
        sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            chunk = sock.recv(16 << 10)
            if not chunk:
                break
            got += len(chunk)
            time.sleep(len(chunk) / rate)
        sock.close()
        result[index] = got
    except (OSError, ssl.SSLError) as e:
        result[index] = e


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--max-growth-mib", type=float, default=16.0)
    parser.add_argument("--tls", action="store_true", help="HTTPS (--tls-cert, --tls-key)")
    args = parser.parse_args()

    top = tempfile.mkdtemp(prefix="proact-fault-slow-")
    cleanup = [top]
    try:
        with open(os.path.join(top, "big.bin"), "wb") as f:
            f.truncate(SIZE)
        with open(os.path.join(top, "small.txt"), "wb") as f:
            f.write(b"quick\n")
        tls, extra = None, []
        if args.tls:
            from https import make_certificates  # tests/servers/https.py
            # Outside the served root.
            certs = tempfile.mkdtemp(prefix="proact-fault-slow-certs-")
            cleanup.append(certs)
            ca, cert, key = make_certificates(certs)
            tls = ssl.create_default_context(cafile=ca)
            extra = ["--tls-cert", cert, "--tls-key", key]
        server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                            "--threads", "2", "--root", top, *extra], args.emulator)
        pid = server.proc.pid
        time.sleep(0.5)
        base = procstat.rss_kib(pid)
        results = [None] * args.readers
        readers = [threading.Thread(target=slow_read,
                                    args=(server.host, server.port, args.seconds, 256 << 10,
                                          results, i, tls))
                   for i in range(args.readers)]
        for t in readers:
            t.start()
        peak = base
        fast = []
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            peak = max(peak, procstat.rss_kib(pid))
            # Another client meanwhile: served at once.
            t0 = time.monotonic()
            sock = connect(server.host, server.port, tls)
            sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                try:
                    chunk = sock.recv(65536)
                except ssl.SSLZeroReturnError:
                    break
                if not chunk:
                    break
                data += chunk
            sock.close()
            st.check(data.endswith(b"quick\n"), f"the other client got {data[:200]!r}")
            fast.append(time.monotonic() - t0)
            time.sleep(0.25)
        for t in readers:
            t.join(30)
        peak = max(peak, procstat.rss_kib(pid))
        bad = [r for r in results if not isinstance(r, int) or r == 0]
        st.check(not bad, f"slow readers failed: {bad}")
        growth = (peak - base) / 1024
        print(f"test: {args.readers} slow readers took {sum(results) >> 20} MiB in "
              f"{args.seconds} s; server memory {base} KiB -> peak {peak} KiB "
              f"(+{growth:.1f} MiB); other requests took at most {max(fast) * 1000:.0f} ms",
              flush=True)
        st.check(growth <= args.max_growth_mib,
                 f"server memory grew by {growth:.1f} MiB with slow readers "
                 f"(bound {args.max_growth_mib} MiB)")
        st.check(max(fast) < 2.0, f"a quick request took {max(fast):.2f} s during slow reads")
        server.stop()
    finally:
        for d in cleanup:
            shutil.rmtree(d, ignore_errors=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
