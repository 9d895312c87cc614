#!/usr/bin/env python3
"""The classic Win32 echo server (examples/win32_echo_server) with
--connections N: N connections open at once, each sends several messages of
its own and checks every echo byte for byte, then all close; the server must
then stop by itself (exit status 0) and its statistics must agree.

With --interrupt (Linux) the server runs without --connections and is sent
SIGINT once the connections have closed: its console control handler must
stop it the same way (exit status 0, the same statistics).

With --idle the server runs with --idle-timeout 1000 (ms): a client that says
nothing and one that sends without reading must both be closed by the server
within seconds, while a client that keeps talking is served throughout.

On Linux it runs against proact::win32 on the backend given (PROACT_BACKEND);
with --emulator it is the Windows build under Wine."""

import asyncio
import os
import signal
import socket
import threading
import time

import servertest as st


async def drive(host, port, count, rounds, timeout):
    conns, sent = await st.open_and_echo(host, port, count, rounds, 20000, 4321, timeout)
    for _, writer in conns:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in conns), return_exceptions=True)
    return sent


def echo_ok(sock, message):
    sock.sendall(message)
    got = b""
    while len(got) < len(message):
        chunk = sock.recv(len(message) - len(got))
        if not chunk:
            break
        got += chunk
    return got == message


def ended_by_server(sock, within):
    """Reads (and drops) what the server sent until it closes the connection:
    True once it did, False if it is still open `within` seconds later."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            if not sock.recv(1 << 16):
                return True
        except socket.timeout:
            return False
        except OSError:  # reset: the server closed with our bytes unread
            return True
    return False


def idle_case(args):
    server = st.Server([args.server, "--port", "0", "--idle-timeout", "1000", "--connections", "3"],
                       args.emulator)
    address = (server.host, server.port)
    silent = socket.create_connection(address, timeout=10)
    # It sends and never reads: once both directions' buffers are full, the
    # server's send of the echo waits for ever.
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(address)

    def flood():
        try:
            stalled.sendall(b"x" * (8 << 20))
        except OSError:
            pass

    threading.Thread(target=flood, daemon=True).start()
    active = socket.create_connection(address, timeout=10)
    t0 = time.monotonic()
    for i in range(12):  # 3.6 s, each step well below the timeout
        st.check(echo_ok(active, b"ping %d\n" % i), f"the active connection lost echo {i}")
        time.sleep(0.3)
    print(f"test: the active connection was served for {time.monotonic() - t0:.1f} s", flush=True)
    st.check(ended_by_server(silent, 5), "a silent connection is still open 5 s after the timeout")
    st.check(ended_by_server(stalled, 20),
             "a connection that does not read is still open well after the timeout")
    active.close()
    try:
        status = server.proc.wait(timeout=30)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        st.fail("the server did not stop after its 3 connections ended")
    st.check(status == 0, f"the server exited with status {status}")
    print("PASS", flush=True)


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interrupt", action="store_true")
    parser.add_argument("--idle", action="store_true")
    args = parser.parse_args()
    limit = st.raise_nofile()
    st.check(limit > 2 * args.connections + 100, f"RLIMIT_NOFILE is {limit}: too low")
    if args.backend in ("epoll", "io_uring"):
        os.environ["PROACT_BACKEND"] = args.backend  # read by CreateIoCompletionPort
    if args.idle:
        idle_case(args)
        return
    stop = [] if args.interrupt else ["--connections", str(args.connections)]
    server = st.Server([args.server, "--port", "0"] + stop, args.emulator)
    sent = asyncio.run(drive(server.host, server.port, args.connections, args.rounds, 60))
    if args.interrupt:
        server.proc.send_signal(signal.SIGINT)
    try:
        status = server.proc.wait(timeout=60)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        st.fail(f"the server did not stop within 60 s of " +
                ("SIGINT" if args.interrupt else
                 f"the last of its {args.connections} connections ending"))
    server._reader.join(timeout=10)
    while server.next_line(0.01) is not None:
        pass
    st.check(status == 0, f"the server exited with status {status}")
    stats = [l for l in server.lines if l.startswith("stats: ")]
    st.check(len(stats) == 1, f"expected one 'stats:' line on exit, got {stats}")
    values = dict(kv.split("=", 1) for kv in stats[0][len("stats: "):].split())
    st.check(int(values["connections_accepted"]) == args.connections,
             f"the server accepted {values['connections_accepted']}, expected {args.connections}")
    st.check(int(values["bytes_echoed"]) == sent,
             f"the server echoed {values['bytes_echoed']} bytes, the client sent {sent}")
    print(f"PASS ({values['workers']} workers)", flush=True)


if __name__ == "__main__":
    main()
