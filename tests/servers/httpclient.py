"""A tiny HTTP/1.1 client on a raw socket for the server tests: it sends
exactly the bytes given (pipelined, malformed, ...) and parses answers
strictly, so that a missing Content-Length or a stray byte is noticed."""

import email.utils
import re
import socket
import time

import servertest as st

# What the server must say for each status it answers (RFC 9110, 15).
REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 400: "Bad Request",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
           414: "URI Too Long", 416: "Range Not Satisfiable",
           431: "Request Header Fields Too Large", 503: "Service Unavailable",
           505: "HTTP Version Not Supported"}

# IMF-fixdate, the only form a sender may generate (RFC 9110, 5.6.7).
_IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                          r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                          r"\d\d:\d\d:\d\d GMT$")


def check_date(headers, what):
    """An origin server with a clock sends Date (RFC 9110, 6.6.1): IMF-fixdate,
    and the time now."""
    date = headers.get("date")
    st.check(date is not None, f"{what}: no Date header in {headers}")
    st.check(_IMF_FIXDATE.match(date) is not None, f"{what}: Date not IMF-fixdate: {date!r}")
    skew = abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time())
    st.check(skew < 120, f"{what}: Date {date!r} is {skew:.0f} s off")


class Response:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body
        self.reason = reason

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.headers} {len(self.body)} bytes>"


class Connection:
    def __init__(self, host, port, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def response(self, head_request=False):
        """The next response; None at a clean eof before it."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                st.check(not self.buf, f"eof inside a response head: {self.buf[:200]!r}")
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        st.check(len(parts) >= 2 and parts[0] == "HTTP/1.1", f"bad status line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            st.check(sep == ":", f"bad header line {line!r}")
            st.check(name.lower() not in headers, f"header {name} twice")
            headers[name.lower()] = value.strip()
        st.check("content-length" in headers, f"no Content-Length in {lines}")
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        st.check(REASONS.get(status, reason) == reason, f"status line {lines[0]!r}")
        check_date(headers, lines[0])
        length = 0 if head_request else int(headers["content-length"])
        while len(self.buf) < length:
            st.check(self._fill(), f"eof inside a body ({len(self.buf)} of {length} bytes)")
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, headers, body, reason)

    def at_eof(self):
        """True if the server closed the connection (after what was read)."""
        if self.buf:
            return False
        try:
            return not self._fill()
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def request(method, target, headers=None, version="HTTP/1.1", host="test"):
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
