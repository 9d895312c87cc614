#!/usr/bin/env python3
"""proact-http-server over HTTPS (--tls-cert, --tls-key), with certificates
made by the openssl command line and verified by the clients:
  --case download: curl fetches a 100 MB file byte-exact twice over one
      kept-alive connection (read in pieces and encrypted, not sendfile),
      and a byte range of it across pieces (206, the file's slice);
      paths out of the root (.., encoded .., a link) are refused;
  --case wrk: wrk -c 100 -t 2 -d 10s over https: no errors, no non-2xx;
  --case limits: a client that connects and never completes the handshake
      (silent, stalled in the middle of its hello, or sending garbage) is
      dropped after the header timeout, as is one that completes it and then
      never sends a request; a partial head after the handshake gets 408; an
      idle kept-alive connection is closed (after the longer idle timeout)."""

import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import servertest as st


def make_certificates(top):
    """A CA and a server certificate for localhost and 127.0.0.1 (PEM)."""
    openssl = shutil.which("openssl")
    st.check(openssl is not None, "the openssl command line is not installed (./dev setup)")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    quiet = {"cwd": top, "check": True, "capture_output": True}
    st.run([openssl, "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=proact-https-test-ca"], **quiet)
    st.run([openssl, "req", *key, "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost"], **quiet)
    with open(os.path.join(top, "ext.cnf"), "w", encoding="ascii") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    st.run([openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"],
           **quiet)
    return (os.path.join(top, "ca.pem"), os.path.join(top, "server.pem"),
            os.path.join(top, "server.key"))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def curl(ca, url, *extra, timeout=90):
    exe = shutil.which("curl")
    st.check(exe is not None, "curl is not installed (./dev setup)")
    return st.run([exe, "--silent", "--show-error", "--cacert", ca, *extra, url],
                  capture_output=True, timeout=timeout)


def download(args, top, ca, server):
    root = os.path.join(top, "root")
    big = os.path.join(root, "big.bin")
    expected = sha256(big)
    url = f"https://{server.host}:{server.port}/big.bin"
    outs = [os.path.join(top, "out1.bin"), os.path.join(top, "out2.bin")]
    t0 = time.monotonic()
    # Two URLs in one curl: the second reuses the connection (keep-alive).
    r = curl(ca, url, "--fail", "--max-time", "60", "--write-out",
             "%{http_code} %{size_download} %{num_connects}\\n", "-o", outs[0], url, "-o",
             outs[1])
    elapsed = time.monotonic() - t0
    out = r.stdout.decode()
    print(f"test: curl: status {r.returncode}, {elapsed:.2f} s\n{out}{r.stderr.decode()}",
          flush=True)
    st.check(r.returncode == 0, f"curl failed ({r.returncode}): {r.stderr!r}")
    lines = out.split("\n")
    size = args.size_mb << 20
    st.check(lines[0] == f"200 {size} 1", f"first download: {lines[0]!r}")
    st.check(lines[1] == f"200 {size} 0", f"second download (reused connection): {lines[1]!r}")
    for o in outs:
        st.check(os.path.getsize(o) == size, f"{o}: {os.path.getsize(o)} bytes")
        st.check(sha256(o) == expected, f"{o}: the bytes differ from the file's")
    # A range that starts inside one 64 KiB piece and ends in another.
    first, last = 65000, 200000
    r = curl(ca, url, "--fail", "-r", f"{first}-{last}", "--write-out", "\\n%{http_code}")
    st.check(r.returncode == 0, f"curl -r {first}-{last} failed: {r.stderr!r}")
    body, _, code = r.stdout.rpartition(b"\n")
    with open(big, "rb") as f:
        f.seek(first)
        expected_part = f.read(last - first + 1)
    st.check(code == b"206" and body == expected_part,
             f"curl -r {first}-{last}: {code!r}, {len(body)} bytes, the file's: "
             f"{body == expected_part}")
    # The host name is checked too: the certificate names localhost.
    r = curl(ca, f"https://localhost:{server.port}/hello.txt", "--fail")
    st.check(r.returncode == 0 and r.stdout == b"hello\n", f"by name: {r}")
    # Out of the root, over TLS as over TCP.
    for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt",
                   "/relative-out.txt", "/dir-out/index.html"]:
        r = curl(ca, f"https://{server.host}:{server.port}{target}", "--path-as-is",
                 "--write-out", "\\n%{http_code}")
        st.check(r.returncode == 0, f"GET {target}: curl failed: {r.stderr!r}")
        status = r.stdout.rsplit(b"\n", 1)[-1]
        st.check(status in (b"400", b"403", b"404"), f"GET {target} was served: {r.stdout!r}")
        st.check(b"must not" not in r.stdout, f"GET {target} leaked the file")
    stats = server.stop()
    st.check(int(stats["bytes_sent"]) >= 2 * size, f"statistics: {stats}")


def wrk(args, top, ca, server):
    exe = shutil.which("wrk")
    st.check(exe is not None, "wrk is not installed (./dev setup)")
    url = f"https://{server.host}:{server.port}/index.html"
    r = st.run([exe, "-c", "100", "-t", "2", "-d", args.duration, url], capture_output=True,
               text=True, timeout=120)
    print(r.stdout + r.stderr, flush=True)
    st.check(r.returncode == 0, f"wrk failed with status {r.returncode}")
    m = re.search(r"^\s*(\d+) requests in ", r.stdout, re.MULTILINE)
    st.check(m is not None, "wrk printed no request count")
    requests = int(m.group(1))
    st.check(requests > 1000, f"only {requests} requests in {args.duration}")
    st.check("Socket errors" not in r.stdout, "wrk saw socket errors")
    st.check("Non-2xx or 3xx responses" not in r.stdout, "wrk saw non-2xx answers")
    stats = server.stop()
    st.check(stats["responses_error"] == "0", f"the server answered errors: {stats}")
    st.check(int(stats["responses_2xx"]) >= requests, f"statistics {stats} vs wrk {requests}")


def dropped_after(sock, what):
    """Seconds until the server closes `sock` (eof, reset, or a TLS socket's
    eof without close_notify); fails after 10 s."""
    begin = time.monotonic()
    sock.settimeout(10)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError):
        pass
    except socket.timeout:
        st.fail(f"{what}: still open after 10 s")
    return time.monotonic() - begin


def limits(args, top, ca, server):
    h, p = server.host, server.port
    # Connects and says nothing.
    silent = socket.create_connection((h, p), timeout=10)
    took = dropped_after(silent, "a silent client")
    silent.close()
    st.check(0.4 <= took < 2.5,
             f"silent client dropped after {took:.2f} s, expected about 0.5 s")
    # Stalls in the middle of its hello: a record header announcing 512
    # bytes, and 3 of them.
    partial = socket.create_connection((h, p), timeout=10)
    partial.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]))
    took = dropped_after(partial, "a client stalled in its hello")
    partial.close()
    st.check(0.4 <= took < 2.5,
             f"stalled hello dropped after {took:.2f} s, expected about 0.5 s")
    # Not TLS at all: dropped at once.
    garbage = socket.create_connection((h, p), timeout=10)
    garbage.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    took = dropped_after(garbage, "a client speaking plain HTTP")
    garbage.close()
    st.check(took < 2.5, f"plain HTTP to the TLS port dropped after {took:.2f} s")
    # After the handshake, the limits of plain HTTP. A connection that never
    # sends a request is not kept for the idle timeout.
    context = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((h, p), timeout=10)
    c = context.wrap_socket(raw, server_hostname="localhost")
    took = dropped_after(c, "a client silent after its handshake")
    c.close()
    st.check(0.4 <= took < 2,
             f"silent client after the handshake dropped after {took:.2f} s, expected about 0.5 s")
    raw = socket.create_connection((h, p), timeout=10)
    c = context.wrap_socket(raw, server_hostname="localhost")
    c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
    begin = time.monotonic()
    answer = b""
    try:
        while chunk := c.recv(4096):
            answer += chunk
    except (ConnectionResetError, ssl.SSLError):
        pass
    took = time.monotonic() - begin
    c.close()
    st.check(answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"),
             f"partial head over TLS: {answer!r}")
    st.check(0.4 <= took < 5, f"408 after {took:.2f} s, expected about 0.5 s")
    raw = socket.create_connection((h, p), timeout=10)
    c = context.wrap_socket(raw, server_hostname="localhost")
    c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while not answer.endswith(b"hello\n"):
        chunk = c.recv(4096)
        st.check(chunk, f"the answer was cut short: {answer!r}")
        answer += chunk
    st.check(answer.startswith(b"HTTP/1.1 200 "), f"kept-alive request: {answer!r}")
    st.check(b"\r\nDate: " in answer, f"no Date in {answer!r}")
    begin = time.monotonic()
    try:
        st.check(c.recv(4096) == b"", "data on an idle connection")
    except (ConnectionResetError, ssl.SSLError):
        pass
    except socket.timeout:
        st.fail("the idle connection was not closed")
    took = time.monotonic() - begin
    c.close()
    st.check(2.3 <= took < 7, f"idle close after {took:.2f} s, expected about 2.5 s")
    stats = server.stop()
    print(f"test: {stats}", flush=True)


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--case", choices=["download", "wrk", "limits"], required=True)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--duration", default="10s")
    args = parser.parse_args()
    st.raise_nofile()
    top = tempfile.mkdtemp(prefix="proact-https-")
    try:
        ca, cert, key = make_certificates(top)
        root = os.path.join(top, "root")
        os.makedirs(os.path.join(root, "sub"))
        with open(os.path.join(root, "hello.txt"), "wb") as f:
            f.write(b"hello\n")
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>proact</title><p>" + b"proact " * 300 + b"</p>\n")
        with open(os.path.join(top, "secret.txt"), "wb") as f:
            f.write(b"must not be served\n")
        os.makedirs(os.path.join(top, "outside"))
        with open(os.path.join(top, "outside", "index.html"), "wb") as f:
            f.write(b"must not be served either\n")
        os.symlink("../secret.txt", os.path.join(root, "relative-out.txt"))
        os.symlink(os.path.join(top, "outside"), os.path.join(root, "dir-out"))
        extra = []
        if args.case == "download":
            with open(os.path.join(root, "big.bin"), "wb") as f:
                st.run(["head", "-c", f"{args.size_mb}M", "/dev/urandom"], check=True, stdout=f)
        if args.case == "limits":
            extra = ["--header-timeout", "500", "--idle-timeout", "2500"]
        server = st.Server([args.server, "--port", "0", "--backend", args.backend, "--root",
                            root, "--tls-cert", cert, "--tls-key", key, *extra], args.emulator)
        {"download": download, "wrk": wrk, "limits": limits}[args.case](args, top, ca, server)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
