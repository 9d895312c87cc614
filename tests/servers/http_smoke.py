#!/usr/bin/env python3
"""A few requests to the HTTP server (also the Wine smoke test): GET, HEAD,
404, 405, pipelining, keep-alive and close, a directory's index.html (and a
301 to it when the slash is missing), refused
traversals, absolute-form targets, requests with a body (answered, then the
connection closes: the body is never taken for a request), 400 for a bad
Host or an unframeable body, 414 and 431 for an oversized request line and
head, Date and the right reason phrase on every answer; single byte ranges
(206 with the file's slice and Content-Range, a suffix, an end past the
file's clamped, 416, several ranges or a malformed one or an If-Range
answered with the whole file, HEAD, pipelined, curl -r and curl -C -); then
a clean stop with connections open."""

import os
import shutil
import tempfile

import httpclient as hc
import servertest as st


def main():
    parser = st.common_arguments(__doc__)
    parser.add_argument("--path-prefix", default="",
                        help="prefix of the root directory's path (Z: under Wine)")
    parser.add_argument("--no-clean-stop", action="store_true")
    args = parser.parse_args()

    top = tempfile.mkdtemp(prefix="proact-http-smoke-")
    try:
        root = os.path.join(top, "root")
        os.makedirs(os.path.join(root, "docs"))
        hello = b"hello, proact\n"
        with open(os.path.join(root, "hello.txt"), "wb") as f:
            f.write(hello)
        index = b"<html><body>index</body></html>\n"
        with open(os.path.join(root, "docs", "index.html"), "wb") as f:
            f.write(index)
        blob = os.urandom(300 * 1024 + 7)
        with open(os.path.join(root, "blob.bin"), "wb") as f:
            f.write(blob)
        with open(os.path.join(root, "a b.txt"), "wb") as f:
            f.write(b"space\n")
        with open(os.path.join(root, "clip.mp4"), "wb") as f:
            f.write(b"not really a video\n")
        with open(os.path.join(top, "secret.txt"), "wb") as f:
            f.write(b"must not be served\n")
        run(args, root, hello, index, blob)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print("PASS", flush=True)


def expect(r, status, what):
    st.check(r is not None, f"{what}: no response (connection closed)")
    st.check(r.status == status, f"{what}: status {r.status}, expected {status} ({r})")
    return r


def run(args, root, hello, index, blob):
    server = st.Server([args.server, "--port", "0", "--backend", args.backend,
                        "--root", args.path_prefix + root], args.emulator)
    h, p = server.host, server.port

    c = hc.Connection(h, p)
    # GET and HEAD on one keep-alive connection.
    c.send(hc.request("GET", "/hello.txt"))
    r = expect(c.response(), 200, "GET /hello.txt")
    st.check(r.body == hello, f"GET /hello.txt body {r.body!r}")
    st.check(r.headers.get("content-type", "").startswith("text/plain"), f"type {r.headers}")
    st.check(r.headers.get("accept-ranges") == "bytes", f"no Accept-Ranges: bytes: {r.headers}")
    c.send(hc.request("HEAD", "/blob.bin"))
    r = expect(c.response(head_request=True), 200, "HEAD /blob.bin")
    st.check(r.headers["content-length"] == str(len(blob)), f"HEAD length {r.headers}")
    st.check(r.headers.get("accept-ranges") == "bytes", f"no Accept-Ranges: bytes: {r.headers}")
    st.check(r.headers.get("content-type") == "application/octet-stream", f"type {r.headers}")
    # 404, 405 (with Allow), a directory's index.html, a percent-encoded name.
    c.send(hc.request("GET", "/missing.html"))
    expect(c.response(), 404, "GET /missing.html")
    c.send(hc.request("DELETE", "/hello.txt"))
    r = expect(c.response(), 405, "DELETE")
    st.check(r.headers.get("allow") == "GET, HEAD", f"405 without Allow: GET, HEAD: {r.headers}")
    c.send(hc.request("GET", "/docs/"))
    r = expect(c.response(), 200, "GET /docs/")
    st.check(r.body == index and r.headers["content-type"].startswith("text/html"), f"{r}")
    # A directory named without its slash: 301 to the URL with it (relative
    # links in its index.html resolve against the directory only then).
    c.send(hc.request("GET", "/docs"))
    r = expect(c.response(), 301, "GET /docs")
    st.check(r.headers.get("location") == "/docs/", f"301 to {r.headers}")
    c.send(hc.request("HEAD", "/docs?x=1"))
    r = expect(c.response(head_request=True), 301, "HEAD /docs?x=1")
    st.check(r.headers.get("location") == "/docs/?x=1", f"301 to {r.headers}")
    c.send(hc.request("GET", "/a%20b.txt?query=1"))
    r = expect(c.response(), 200, "GET /a%20b.txt")
    st.check(r.body == b"space\n", f"{r}")
    # Pipelined: three requests in one send, answered in order, the large
    # file in the middle.
    c.send(hc.request("GET", "/hello.txt") + hc.request("GET", "/blob.bin") +
           hc.request("HEAD", "/nothing-here") + hc.request("GET", "/docs/index.html"))
    st.check(expect(c.response(), 200, "pipelined 1").body == hello, "pipelined 1 body")
    st.check(expect(c.response(), 200, "pipelined 2").body == blob, "pipelined 2 body")
    r = expect(c.response(head_request=True), 404, "pipelined 3 (HEAD of a missing file)")
    st.check(expect(c.response(), 200, "pipelined 4").body == index, "pipelined 4 body")
    # absolute-form, with a query and with no path at all (the root: no index).
    c.send(hc.request("GET", "http://test/hello.txt?x=1"))
    st.check(expect(c.response(), 200, "GET http://test/hello.txt?x=1").body == hello, "body")
    c.send(hc.request("GET", "http://test?x=1"))
    expect(c.response(), 404, "GET http://test?x=1")
    c.send(hc.request("HEAD", "/clip.mp4"))
    r = expect(c.response(head_request=True), 200, "HEAD /clip.mp4")
    st.check(r.headers.get("content-type") == "video/mp4", f"type {r.headers}")
    # Connection: close is honoured.
    c.send(hc.request("GET", "/hello.txt", {"Connection": "close"}))
    r = expect(c.response(), 200, "GET with Connection: close")
    st.check(r.headers.get("connection", "").lower() == "close", f"{r.headers}")
    st.check(c.at_eof(), "the server kept the connection open after Connection: close")
    c.close()

    # HTTP/1.0 closes unless keep-alive.
    c = hc.Connection(h, p)
    c.send(hc.request("GET", "/hello.txt", version="HTTP/1.0", host=None))
    expect(c.response(), 200, "HTTP/1.0 GET")
    st.check(c.at_eof(), "HTTP/1.0 without keep-alive: the connection stayed open")
    c.close()
    c = hc.Connection(h, p)
    c.send(hc.request("GET", "/hello.txt", {"Connection": "keep-alive"}, version="HTTP/1.0"))
    r = expect(c.response(), 200, "HTTP/1.0 keep-alive GET")
    st.check(r.headers.get("connection", "").lower() == "keep-alive", f"{r.headers}")
    c.send(hc.request("GET", "/hello.txt", version="HTTP/1.0"))
    expect(c.response(), 200, "HTTP/1.0 second GET")
    c.close()

    # Refused: traversal (plain, encoded, via a subdirectory), backslash, NUL.
    for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/docs/../../secret.txt",
                   "/docs/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/hello.txt%00.html",
                   "/C:/Windows/win.ini"]:
        c = hc.Connection(h, p)
        c.send(hc.request("GET", target))
        expect(c.response(), 400, f"GET {target}")
        c.close()
    # Malformed, and a request line or a head larger than the server's 8 KiB
    # buffer. The answer to a HEAD has no body even then: at_eof() sees a
    # stray byte.
    for raw, status in [(b"GARBAGE\r\n\r\n", 400),
                        (b"GET /hello.txt HTTP/1.1\r\n\r\n", 400),  # no Host
                        (b"HEAD /hello.txt HTTP/1.1\r\n\r\n", 400),
                        (hc.request("GET", "/hello.txt", host="a b"), 400),
                        (hc.request("GET", "/hello.txt", host="x/y"), 400),
                        (hc.request("POST", "/hello.txt", {"Transfer-Encoding": "gzip"}), 400),
                        (b"GET /hello.txt HTTP/2.0\r\nHost: x\r\n\r\n", 505),
                        (hc.request("GET", "/" + "a" * 9000), 414),
                        (hc.request("GET", "/hello.txt", {"X-Big": "x" * 9000}), 431)]:
        c = hc.Connection(h, p)
        c.send(raw)
        r = expect(c.response(head_request=raw.startswith(b"HEAD")), status, f"{raw[:40]!r}")
        st.check(r.headers.get("connection", "").lower() == "close", f"{r.headers}")
        st.check(c.at_eof(), f"{raw[:40]!r}: the connection stayed open after {status}, "
                 f"or a HEAD got a body")
        c.close()

    # A request with a body is answered and the connection closes: the body,
    # here a whole request, is never answered as one.
    smuggled = hc.request("GET", "/blob.bin")
    for raw, status in [
            (hc.request("POST", "/hello.txt", {"Content-Length": len(smuggled)}) + smuggled, 405),
            (hc.request("GET", "/hello.txt", {"Transfer-Encoding": "chunked"}) +
             b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n", 200)]:
        c = hc.Connection(h, p)
        c.send(raw + hc.request("GET", "/hello.txt"))
        r = expect(c.response(), status, f"{raw[:40]!r} with a body")
        st.check(r.headers.get("connection", "").lower() == "close", f"{r.headers}")
        st.check(c.at_eof(), f"{raw[:40]!r}: more after the answer to a request with a body")
        c.close()

    ranges_ok, ranges_error = ranges(h, p, root, blob)

    # Stop with an idle keep-alive connection and a half-sent request open:
    # their pending receives are cancelled and they are closed.
    idle = hc.Connection(h, p)
    idle.send(hc.request("GET", "/hello.txt"))
    expect(idle.response(), 200, "GET before the stop")
    partial = hc.Connection(h, p)
    partial.send(b"GET /hello.txt HTTP/1.1\r\nHo")
    stats = server.stop(require_clean=not args.no_clean_stop)
    st.check(idle.at_eof() and partial.at_eof(), "a connection stayed open after the stop")
    if stats is None:
        print("test: no clean stop (allowed with --no-clean-stop)", flush=True)
    else:
        # 15 files served; 404 three times, 405 twice, 7 refused targets, 9
        # malformed heads; and the range requests.
        st.check(stats["responses_2xx"] == str(15 + ranges_ok) and
                 stats["responses_error"] == str(21 + ranges_error), f"statistics: {stats}")


def ranges(h, p, root, blob):
    """Single byte ranges (RFC 9110, 14) of /blob.bin on one kept-alive
    connection; returns how many 2xx and error answers were given."""
    size = len(blob)
    answered = {"ok": 0, "error": 0}
    c = hc.Connection(h, p)

    def get(spec, status, extra=None, method="GET"):
        headers = {"Range": spec} if spec is not None else {}
        headers.update(extra or {})
        c.send(hc.request(method, "/blob.bin", headers))
        r = expect(c.response(head_request=method == "HEAD"), status, f"{method} Range: {spec}")
        answered["ok" if status < 400 else "error"] += 1
        st.check(r.headers.get("accept-ranges") == "bytes", f"Range: {spec}: {r.headers}")
        st.check("connection" not in r.headers, f"Range: {spec}: not kept alive: {r.headers}")
        return r

    def part(spec, first, last, method="GET"):
        """A 206 with bytes first..last (inclusive) of the file."""
        r = get(spec, 206, method=method)
        st.check(r.headers.get("content-range") == f"bytes {first}-{last}/{size}",
                 f"Range: {spec}: Content-Range {r.headers.get('content-range')!r}, expected "
                 f"bytes {first}-{last}/{size}")
        st.check(r.headers["content-length"] == str(last - first + 1),
                 f"Range: {spec}: Content-Length {r.headers['content-length']}")
        if method == "GET":
            st.check(r.body == blob[first:last + 1],
                     f"Range: {spec}: {len(r.body)} bytes, not the file's {first}-{last}")

    def whole(spec, extra=None):
        r = get(spec, 200, extra)
        st.check("content-range" not in r.headers, f"Range: {spec}: 200 with {r.headers}")
        st.check(r.body == blob, f"Range: {spec}: {len(r.body)} bytes, not the whole file")

    def unsatisfiable(spec, method="GET"):
        r = get(spec, 416, method=method)
        st.check(r.headers.get("content-range") == f"bytes */{size}",
                 f"Range: {spec}: 416 with {r.headers}")

    part("bytes=100-1099", 100, 1099)
    part("bytes=0-0", 0, 0)
    part("bytes=0-", 0, size - 1)
    part(f"bytes={size - 1}-", size - 1, size - 1)
    part("bytes=300000-", 300000, size - 1)
    part("bytes=-500", size - 500, size - 1)
    part(f"bytes=-{size + 1000}", 0, size - 1)  # a suffix longer than the file: all of it
    part(f"bytes={size - 10}-{size + 1000}", size - 10, size - 1)  # the end clamped
    part("bytes=5-99999999999999999999999", 5, size - 1)
    part("BYTES=7-8", 7, 8)
    part("bytes=200-299", 200, 299, method="HEAD")
    unsatisfiable(f"bytes={size}-")
    unsatisfiable(f"bytes={size + 5}-{size + 10}")
    unsatisfiable("bytes=-0")
    unsatisfiable(f"bytes={size}-", method="HEAD")
    # Ignored: several ranges (no multipart), malformed ones, another unit,
    # and any If-Range (the server sends no validator it could match).
    for spec in ["bytes=0-1,5-6", "bytes=5-2", "bytes=", "bytes=-", "bytes= 0-9",
                 "bytes=-5-10", "items=0-9", "bytes=0x10-"]:
        whole(spec)
    whole("bytes=0-9", {"If-Range": '"some-etag"'})
    whole("bytes=0-9", {"If-Range": "Sun, 06 Nov 1994 08:49:37 GMT"})
    # Pipelined: each part framed by its Content-Length, the whole file after.
    c.send(hc.request("GET", "/blob.bin", {"Range": "bytes=10-19"}) +
           hc.request("GET", "/blob.bin", {"Range": f"bytes={size}-"}) +
           hc.request("HEAD", "/blob.bin", {"Range": "bytes=-3"}) +
           hc.request("GET", "/blob.bin", {"Range": "bytes=-3"}) +
           hc.request("GET", "/blob.bin"))
    st.check(expect(c.response(), 206, "pipelined range").body == blob[10:20], "pipelined range")
    expect(c.response(), 416, "pipelined unsatisfiable range")
    expect(c.response(head_request=True), 206, "pipelined HEAD range")
    st.check(expect(c.response(), 206, "pipelined suffix").body == blob[-3:], "pipelined suffix")
    st.check(expect(c.response(), 200, "pipelined whole").body == blob, "pipelined whole")
    answered["ok"] += 4
    answered["error"] += 1
    c.close()

    # curl, as people resume and cut downloads.
    curl = shutil.which("curl")
    if curl is None:
        print("test: curl is not installed: no curl -r or -C - checks", flush=True)
        return answered["ok"], answered["error"]
    url = f"http://{h}:{p}/blob.bin"
    r = st.run([curl, "--silent", "--show-error", "--fail", "-r", "10-19", "--write-out",
                "\n%{http_code}", url], capture_output=True, timeout=60)
    st.check(r.returncode == 0, f"curl -r 10-19 failed: {r.stderr!r}")
    body, _, code = r.stdout.rpartition(b"\n")
    st.check(code == b"206" and body == blob[10:20], f"curl -r 10-19: {code!r}, {body!r}")
    # -C -: curl asks for the rest of the partial file and appends it.
    partial = os.path.join(os.path.dirname(root), "resumed.bin")
    with open(partial, "wb") as f:
        f.write(blob[:12345])
    r = st.run([curl, "--silent", "--show-error", "--fail", "-C", "-", "-o", partial,
                "--write-out", "%{http_code}", url], capture_output=True, timeout=60)
    st.check(r.returncode == 0, f"curl -C - failed: {r.stderr!r}")
    with open(partial, "rb") as f:
        resumed = f.read()
    st.check(r.stdout == b"206" and resumed == blob,
             f"curl -C -: {r.stdout!r}, {len(resumed)} bytes, the file's: {resumed == blob}")
    answered["ok"] += 2
    return answered["ok"], answered["error"]


if __name__ == "__main__":
    main()
