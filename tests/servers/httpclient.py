"""A tiny HTTP/1.1 client on a raw socket for the server tests: it sends
exactly the bytes given (pipelined, malformed, ...) and parses answers
strictly, so that a missing Content-Length or a stray byte is noticed."""

import socket

import servertest as st


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    def __repr__(self):
        return f"<{self.status} {self.headers} {len(self.body)} bytes>"


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
        length = 0 if head_request else int(headers["content-length"])
        while len(self.buf) < length:
            st.check(self._fill(), f"eof inside a body ({len(self.buf)} of {length} bytes)")
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(int(parts[1]), headers, body)

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
