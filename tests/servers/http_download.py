#!/usr/bin/env python3
"""curl downloads a 100 MB file from the HTTP server byte-exact (sent with
send_file), twice over one keep-alive connection."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import servertest as st


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--size-mb", type=int, default=100)
    args = parser.parse_args()
    curl = shutil.which("curl")
    st.check(curl is not None, "curl is not installed (./dev setup)")

    top = tempfile.mkdtemp(prefix="proact-http-download-")
    try:
        root = os.path.join(top, "root")
        os.makedirs(root)
        big = os.path.join(root, "big.bin")
        subprocess.run(["head", "-c", f"{args.size_mb}M", "/dev/urandom"], check=True,
                       stdout=open(big, "wb"))
        expected = sha256(big)
        server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                            "--root", root], args.emulator)
        url = f"http://{server.host}:{server.port}/big.bin"
        outs = [os.path.join(top, "out1.bin"), os.path.join(top, "out2.bin")]
        t0 = time.monotonic()
        # Two URLs in one curl: the second reuses the connection (keep-alive).
        result = st.run([curl, "--silent", "--show-error", "--fail", "--max-time", "60",
                                 "--write-out", "%{http_code} %{size_download} %{num_connects}\\n",
                                 url, "-o", outs[0], url, "-o", outs[1]],
                                capture_output=True, text=True, timeout=90)
        elapsed = time.monotonic() - t0
        print(f"test: curl: status {result.returncode}, {elapsed:.2f} s\n{result.stdout}"
              f"{result.stderr}", flush=True)
        st.check(result.returncode == 0, f"curl failed ({result.returncode}): {result.stderr}")
        lines = result.stdout.split("\n")
        size = args.size_mb << 20
        st.check(lines[0] == f"200 {size} 1", f"first download: {lines[0]!r}")
        st.check(lines[1] == f"200 {size} 0", f"second download (reused connection): {lines[1]!r}")
        for out in outs:
            st.check(os.path.getsize(out) == size, f"{out}: {os.path.getsize(out)} bytes")
            st.check(sha256(out) == expected, f"{out}: the bytes differ from the file's")
        stats = server.stop()
        st.check(int(stats["bytes_sent"]) >= 2 * size, f"statistics: {stats}")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
