#!/usr/bin/env python3
"""10,000 idle connections to the echo server: it must accept and hold them
all, its memory must grow by a bounded amount per connection
(--max-kib-per-connection), the connections must still be served after
sitting idle, and the server's descriptors must return to their count once
they close. The test raises its own descriptor limit (soft to hard) and
needs a hard limit above 10,000 for itself and for the server."""

import resource
import socket
import time

import procstat
import servertest as st


def echo_ok(sock, message):
    sock.sendall(message)
    got = b""
    deadline = time.monotonic() + 10
    while len(got) < len(message) and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got == message


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--max-kib-per-connection", type=float, default=12.0)
    args = parser.parse_args()
    limit = st.raise_nofile()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < args.connections + 200:
        st.skip(f"the hard descriptor limit is {hard}: {args.connections} connections "
                "need more (ulimit -Hn)")
    st.check(limit > args.connections + 100, f"RLIMIT_NOFILE is {limit}: too low")

    server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                        "--threads", "2"], args.emulator)
    pid = server.proc.pid
    addr = (server.host, server.port)
    time.sleep(0.5)  # let the threads start
    base_fds = procstat.descriptors(pid)
    # Warm up (first allocations), then measure.
    warm = [socket.create_connection(addr, timeout=10) for _ in range(20)]
    for s in warm:
        st.check(echo_ok(s, b"warm\n"), "no echo while warming up")
        s.close()
    st.check(procstat.wait_for(lambda: procstat.descriptors(pid) <= base_fds, 10),
             "the warm-up connections were not closed")
    base_rss = procstat.rss_kib(pid)

    t0 = time.monotonic()
    conns = []
    for i in range(args.connections):
        conns.append(socket.create_connection(addr, timeout=30))
    held = procstat.wait_for(
        lambda: procstat.descriptors(pid) >= base_fds + args.connections, 60, 0.2)
    st.check(held, f"the server holds {procstat.descriptors(pid) - base_fds} of "
             f"{args.connections} connections")
    rss = procstat.rss_kib(pid)
    per_connection = (rss - base_rss) / args.connections
    print(f"test: {args.connections} connections held after {time.monotonic() - t0:.1f} s; "
          f"resident memory {base_rss} KiB -> {rss} KiB: {per_connection:.2f} KiB per "
          "connection", flush=True)
    st.check(per_connection <= args.max_kib_per_connection,
             f"{per_connection:.2f} KiB per idle connection, more than "
             f"{args.max_kib_per_connection}")

    time.sleep(2)  # idle
    for s in conns[:: max(1, args.connections // 100)]:
        st.check(echo_ok(s, b"still there?\n"), "an idle connection was not served")
    for s in conns:
        s.close()
    ok = procstat.wait_for(lambda: procstat.descriptors(pid) <= base_fds, 30, 0.2)
    st.check(ok, f"the server holds {procstat.descriptors(pid)} descriptors after every "
             f"connection closed, {base_fds} before")
    stats = server.stop()
    st.check(int(stats["connections_accepted"]) >= args.connections, f"statistics: {stats}")
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
