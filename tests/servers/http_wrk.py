#!/usr/bin/env python3
"""wrk -c 100 -t 2 -d 10s against an existing file: no socket errors and no
non-2xx answers, and the server's statistics agree."""

import os
import re
import shutil
import tempfile

import servertest as st


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    st.check(wrk is not None, "wrk is not installed (./dev setup)")
    st.raise_nofile()

    top = tempfile.mkdtemp(prefix="proact-http-wrk-")
    try:
        with open(os.path.join(top, "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>proact</title><p>" + b"proact " * 300 + b"</p>\n")
        server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                            "--root", top], args.emulator)
        url = f"http://{server.host}:{server.port}/index.html"
        result = st.run([wrk, "-c", str(args.connections), "-t", "2", "-d", args.duration,
                                 url], capture_output=True, text=True, timeout=120)
        print(result.stdout + result.stderr, flush=True)
        st.check(result.returncode == 0, f"wrk failed with status {result.returncode}")
        m = re.search(r"^\s*(\d+) requests in ", result.stdout, re.MULTILINE)
        st.check(m is not None, "wrk printed no request count")
        requests = int(m.group(1))
        st.check(requests > 1000, f"only {requests} requests in {args.duration}")
        st.check("Socket errors" not in result.stdout, "wrk saw socket errors")
        st.check("Non-2xx or 3xx responses" not in result.stdout, "wrk saw non-2xx answers")
        stats = server.stop()
        st.check(stats["responses_error"] == "0", f"the server answered errors: {stats}")
        st.check(int(stats["responses_2xx"]) >= requests, f"statistics {stats} vs wrk {requests}")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
