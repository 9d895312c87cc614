#!/usr/bin/env python3
"""The HTTP server's limits against slow, idle and hostile clients: a head
that does not arrive in time (sent at once, or trickled a byte at a time)
gets 408 and the connection closes; a connection that never sends a request
is closed after the header timeout, not the longer idle one; an idle
kept-alive connection is closed; 300 connections holding partial heads
under a 256-descriptor limit do not lock a normal curl request out; a
symbolic link inside the root is served, one that leads outside (relative,
absolute, or through a linked directory) is refused."""

import os
import select
import shutil
import socket
import subprocess
import tempfile
import time

import httpclient as hc
import servertest as st


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--sanitized", action="store_true",
                        help="the server is a sanitizer build (see lockout())")
    args = parser.parse_args()
    top = tempfile.mkdtemp(prefix="proact-http-limits-")
    try:
        root = os.path.join(top, "root")
        os.makedirs(os.path.join(root, "sub"))
        with open(os.path.join(root, "hello.txt"), "wb") as f:
            f.write(b"hello\n")
        with open(os.path.join(top, "secret.txt"), "wb") as f:
            f.write(b"must not be served\n")
        os.makedirs(os.path.join(top, "outside"))
        with open(os.path.join(top, "outside", "index.html"), "wb") as f:
            f.write(b"must not be served either\n")
        os.symlink("hello.txt", os.path.join(root, "inside-link.txt"))
        os.symlink("../hello.txt", os.path.join(root, "sub", "up-link.txt"))
        os.symlink("../secret.txt", os.path.join(root, "relative-out.txt"))
        os.symlink(os.path.join(top, "secret.txt"), os.path.join(root, "absolute-out.txt"))
        os.symlink(os.path.join(top, "outside"), os.path.join(root, "dir-out"))
        links(args, root)
        timeouts(args, root)
        lockout(args, root)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


def _readable(sock):
    return bool(select.select([sock], [], [], 0)[0])


def get(h, p, target):
    c = hc.Connection(h, p)
    c.send(hc.request("GET", target))
    r = c.response()
    c.close()
    st.check(r is not None, f"GET {target}: no response")
    return r


def links(args, root):
    server = st.Server([args.server, "--port", "0", "--backend", args.backend, "--root", root])
    h, p = server.host, server.port
    for target in ["/inside-link.txt", "/sub/up-link.txt"]:
        r = get(h, p, target)
        st.check(r.status == 200 and r.body == b"hello\n", f"GET {target}: {r}")
    for target in ["/relative-out.txt", "/absolute-out.txt", "/dir-out/", "/dir-out/index.html"]:
        r = get(h, p, target)
        st.check(r.status in (403, 404), f"GET {target} was served: {r}")
        st.check(b"must not" not in r.body, f"GET {target} leaked the file")
    server.stop()


def timeouts(args, root):
    server = st.Server([args.server, "--port", "0", "--backend", args.backend, "--root", root,
                        "--header-timeout", "500", "--idle-timeout", "2500"])
    h, p = server.host, server.port
    # A partial head: 408, then the server closes.
    c = hc.Connection(h, p, timeout=10)
    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
    begin = time.monotonic()
    r = c.response()
    took = time.monotonic() - begin
    st.check(r is not None and r.status == 408, f"partial head: {r}")
    st.check(0.4 <= took < 2, f"408 after {took:.2f} s, expected about 0.5 s")
    st.check(c.at_eof(), "the connection stayed open after the 408")
    c.close()
    # A head trickled a byte every 50 ms: the deadline runs from its first
    # byte, so each byte does not buy more time.
    c = hc.Connection(h, p, timeout=10)
    begin = time.monotonic()
    for byte in hc.request("GET", "/hello.txt", {"X-Slow": "y" * 200}):
        if _readable(c.sock):
            break  # the answer came
        c.send(bytes([byte]))
        time.sleep(0.05)
    r = c.response()
    took = time.monotonic() - begin
    st.check(r is not None and r.status == 408, f"trickled head: {r}")
    st.check(took < 2, f"trickled head answered after {took:.2f} s, expected about 0.5 s")
    c.close()
    # A connection that never sends a request has no answer coming: it is
    # closed after the header timeout, not kept for the idle one.
    c = hc.Connection(h, p, timeout=10)
    begin = time.monotonic()
    st.check(c.at_eof(), "the silent connection was not closed")
    took = time.monotonic() - begin
    st.check(0.4 <= took < 2, f"silent connection closed after {took:.2f} s, expected about 0.5 s")
    c.close()
    # An idle kept-alive connection is closed without an answer.
    c = hc.Connection(h, p, timeout=10)
    c.send(hc.request("GET", "/hello.txt"))
    st.check(c.response().status == 200, "first request")
    begin = time.monotonic()
    st.check(c.at_eof(), "the idle connection was not closed")
    took = time.monotonic() - begin
    st.check(2.3 <= took < 7, f"idle close after {took:.2f} s, expected about 2.5 s")
    c.close()
    server.stop()


def lockout(args, root):
    if args.sanitized:
        # UBSan's vptr check reads memory through a pipe it creates; with the
        # descriptors used up that fails and it reports a bad object.
        print("test: SKIP the descriptor-limit part: a sanitizer build cannot run "
              "out of descriptors (UBSan needs one per check)", flush=True)
        return
    # The server may not raise its own limit past 256 (the hard one).
    server = st.Server(["prlimit", "--nofile=256:256", args.server, "--port", "0",
                        "--backend", args.backend, "--root", root, "--header-timeout", "1000"])
    h, p = server.host, server.port
    holders = []
    for _ in range(300):
        s = socket.create_connection((h, p), timeout=10)
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")  # never finished
        holders.append(s)
    time.sleep(0.2)
    begin = time.monotonic()
    out = subprocess.run(["curl", "-sS", "--max-time", "20", f"http://{h}:{p}/hello.txt"],
                         capture_output=True, timeout=30)
    took = time.monotonic() - begin
    for s in holders:
        s.close()
    st.check(out.returncode == 0 and out.stdout == b"hello\n",
             f"curl behind 300 partial heads: exit {out.returncode}, {out.stdout!r} "
             f"{out.stderr!r}")
    print(f"test: curl answered after {took:.2f} s behind 300 partial heads", flush=True)
    server.stop()


if __name__ == "__main__":
    main()
