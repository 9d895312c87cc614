#!/usr/bin/env python3
"""The echo server holds 1,000 connections at once: open them all, keep them
all open, send a different message on each (twice), check every echo byte for
byte; then close half of them, stop the server (SIGINT) with the other half
open: it must stop cleanly, close them, and its statistics must agree."""

import asyncio

import servertest as st


async def drive(host, port, count, rounds, timeout):
    conns, sent = await st.open_and_echo(host, port, count, rounds, 2048, 1234, timeout)
    # Still all open: none was closed by the server meanwhile.
    st.check(all(not r.at_eof() for r, _ in conns), "a connection was closed by the server")
    # The client closes half of them; the server stops with the other half
    # open (their pending receives are cancelled), which then read eof.
    half = count // 2
    for _, writer in conns[:half]:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in conns[:half]), return_exceptions=True)
    return conns[half:], sent


async def expect_closed(conns, timeout):
    async def closed(reader):
        try:
            return await reader.read(1) == b""
        except ConnectionResetError:
            return True

    results = await asyncio.wait_for(asyncio.gather(*(closed(r) for r, _ in conns)), timeout)
    st.check(all(results), f"{results.count(False)} connections got data after the stop")
    for _, writer in conns:
        writer.close()


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    limit = st.raise_nofile()
    st.check(limit > args.connections + 100, f"RLIMIT_NOFILE is {limit}: too low")

    server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                        "--threads", "4"], args.emulator)
    async def scenario():
        still_open, sent = await drive(server.host, server.port, args.connections, args.rounds, 60)
        stats = server.stop()
        await expect_closed(still_open, 30)
        print(f"test: the server stopped with {len(still_open)} connections open; "
              "each read eof", flush=True)
        return stats, sent

    stats, sent = asyncio.run(scenario())
    st.check(int(stats["connections_accepted"]) == args.connections,
             f"the server accepted {stats['connections_accepted']} connections, "
             f"expected {args.connections}")
    st.check(int(stats["bytes_echoed"]) == sent,
             f"the server echoed {stats['bytes_echoed']} bytes, the client sent {sent}")
    st.check(args.backend in ("auto", stats["backend"]),
             f"the server ran on {stats['backend']}, not {args.backend}")
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
