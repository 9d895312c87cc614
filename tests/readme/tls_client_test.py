#!/usr/bin/env python3
"""Runs the README's TLS client (docs/examples/tls_client.cpp) against
`openssl s_server -rev` on loopback with a CA and a server certificate made
here, and checks the reversed line; then against the same server with an
unrelated CA, which must fail verification.

usage: tls_client_test.py CLIENT [PATH_PREFIX EMULATOR...]
(the Windows build: tls_client_test.py client.exe Z: wine, Z: being where
Wine shows the Unix root)
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def fail(why):
    print("FAIL: " + why, flush=True)
    sys.exit(1)


def run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    # The CAs sign with RSA: Wine 8.0's crypt32 joins an ECDSA signature's r
    # and s without padding them to the curve's size, so about one ECDSA
    # signature in 128 (r or s shorter than 32 bytes) fails to verify there.
    ca_key = ["-newkey", "rsa:2048", "-nodes"]
    run(["openssl", "req", "-x509"] + ca_key + ["-keyout", "ca.key", "-out", "ca.pem",
                                                "-days", "2", "-subj", "/CN=proact-example-ca"], d)
    run(["openssl", "req", "-x509"] + ca_key + ["-keyout", "other.key", "-out", "other.pem",
                                                "-days", "2", "-subj", "/CN=other-ca"], d)
    run(["openssl", "req"] + key + ["-keyout", "server.key", "-out", "server.csr",
                                    "-subj", "/CN=localhost"], d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], d)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    client = sys.argv[2 + 1:] + [sys.argv[1]] if len(sys.argv) > 2 else [sys.argv[1]]
    prefix = sys.argv[2] if len(sys.argv) > 2 else ""
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command-line tool is not installed", flush=True)
        sys.exit(77)
    with tempfile.TemporaryDirectory() as d:
        make_certs(d)
        port = free_port()
        server = subprocess.Popen(["openssl", "s_server", "-quiet", "-rev", "-naccept", "2",
                                   "-accept", f"127.0.0.1:{port}", "-cert", "server.pem",
                                   "-key", "server.key"], cwd=d, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            # The probe above was s_server's first connection.
            good = subprocess.run(client + ["localhost", str(port),
                                            prefix + os.path.join(d, "ca.pem")],
                                  capture_output=True, timeout=60)
            out = good.stdout.decode().replace("\r\n", "\n")
            if good.returncode != 0 or out != "SLT revo olleh\n":
                if "io_uring" in os.environ.get("PROACT_BACKEND", "") and \
                        "unavailable" in good.stderr.decode():
                    print("SKIP: io_uring is not available here", flush=True)
                    sys.exit(77)
                fail(f"rc={good.returncode} out={out!r} err={good.stderr.decode()!r}")
        finally:
            server.kill()
            server.wait()
        port = free_port()
        server = subprocess.Popen(["openssl", "s_server", "-quiet", "-rev", "-naccept", "1",
                                   "-accept", f"127.0.0.1:{port}", "-cert", "server.pem",
                                   "-key", "server.key"], cwd=d, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            bad = subprocess.run(client + ["localhost", str(port),
                                           prefix + os.path.join(d, "other.pem")],
                                 capture_output=True, timeout=60)
            err = bad.stderr.decode()
            if bad.returncode == 0 or "handshake" not in err:
                fail(f"an unrelated CA was accepted: rc={bad.returncode} err={err!r}")
        finally:
            server.kill()
            server.wait()
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
