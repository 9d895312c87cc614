#!/usr/bin/env python3
"""The classic Win32 echo server (examples/win32_echo_server) with
--connections N: N connections open at once, each sends several messages of
its own and checks every echo byte for byte, then all close; the server must
then stop by itself (exit status 0) and its statistics must agree.

With --interrupt (Linux) the server runs without --connections and is sent
SIGINT once the connections have closed: its console control handler must
stop it the same way (exit status 0, the same statistics).

On Linux it runs against proact::win32 on the backend given (PROACT_BACKEND);
with --emulator it is the Windows build under Wine."""

import asyncio
import os
import signal

import servertest as st


async def drive(host, port, count, rounds, timeout):
    conns, sent = await st.open_and_echo(host, port, count, rounds, 20000, 4321, timeout)
    for _, writer in conns:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in conns), return_exceptions=True)
    return sent


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interrupt", action="store_true")
    args = parser.parse_args()
    limit = st.raise_nofile()
    st.check(limit > 2 * args.connections + 100, f"RLIMIT_NOFILE is {limit}: too low")
    if args.backend in ("epoll", "io_uring"):
        os.environ["PROACT_BACKEND"] = args.backend  # read by CreateIoCompletionPort
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
