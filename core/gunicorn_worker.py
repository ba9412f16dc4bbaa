"""The gunicorn worker and logger of every shape we ship (issue 24, points 1, 6 and 8).

`BufferingWorker` is gunicorn's gthread worker with a buffering front: its event loop
reads each request whole (the TLS handshake, the headers, and a body up to
`BUFFER_LIMIT` bytes), without a thread, before a thread takes it. A client that sends
headers and a byte of its announced body and then nothing holds no thread: a thousand of
them cost sockets, never the threads that answer `/healthz`. A request not complete
within `REQUEST_TIMEOUT` seconds (like HAProxy's `timeout http-request`) is answered
`408 request_timeout` and closed.

With one thread (`--threads 1`, the cluster's web nodes) a whole request is answered on
the event loop's own thread, as a sync worker would, since nothing is left to read from
its client; only a body too large to buffer goes to the pool's thread. Handing every
request over cost two thread switches and a wake-up of the loop: the nodes ran at
0.79-0.82 of sync workers (issue 27, docs/scaling.md). Like a sync worker's, such a
request must end within gunicorn's `--timeout`, as the loop does not beat meanwhile.

Every error gunicorn answers itself is the API's JSON envelope with a stable code: a
request line over `--limit-request-line` is `414 uri_too_long`, headers over the limits
`431 headers_too_large`, any other malformed request `400 invalid_request`.

`RedactingLogger` writes gunicorn's access and error logs with the query strings'
personal values redacted (core.logredact).

Used by gunicorn.conf.py (read by every gunicorn started in the project folder:
`make run-https`, the cluster's web nodes, the image).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import selectors
import ssl
import time
from concurrent import futures
from functools import partial

from gunicorn import http, util  # type: ignore[import-untyped]
from gunicorn import sock as gsock
from gunicorn.glogging import Logger  # type: ignore[import-untyped]
from gunicorn.http.errors import (  # type: ignore[import-untyped]
    ForbiddenProxyRequest,
    LimitRequestHeaders,
    LimitRequestLine,
)
from gunicorn.workers.gthread import TConn, ThreadWorker  # type: ignore[import-untyped]

from core.logredact import redact_text

# A body up to this size is read before a thread takes the request (Django refuses a
# body over DATA_UPLOAD_MAX_MEMORY_SIZE, 256 KiB, anyway); a larger one is streamed
# to its thread as it comes.
BUFFER_LIMIT = 1024 * 1024
# headers larger than this are handed on at once: the parser answers 431
HEADER_LIMIT = 64 * 1024
# seconds for a whole request (headers and buffered body) to arrive
REQUEST_TIMEOUT = float(os.environ.get("GUNICORN_REQUEST_TIMEOUT", "10"))

_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def _message(code: str) -> str:
    try:
        from core.errors import CODES

        return str(CODES[code].message)
    except Exception:
        return code.replace("_", " ")


def error_response(status: int, code: str) -> bytes:
    """A complete HTTP/1.1 response carrying the error envelope; the connection closes."""
    body = json.dumps(
        {"error": {"code": code, "message": _message(code), "detail": {}}}, ensure_ascii=False
    ).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def classify(exc: BaseException, client_error: bool) -> tuple[int, str]:
    if isinstance(exc, LimitRequestLine):
        return 414, "uri_too_long"
    if isinstance(exc, LimitRequestHeaders):
        return 431, "headers_too_large"
    if isinstance(exc, ForbiddenProxyRequest):
        return 403, "permission_denied"
    if client_error:
        return 400, "invalid_request"
    return 500, "server_error"


def request_state(buf: bytes | bytearray) -> str | None:
    """What `buf` holds: `None` (not yet a whole request), `"whole"` (a whole request, body
    and all) or `"parse"` (enough that the parser must read on or answer: a malformed head,
    headers over the limit, a body too large to hold, which is streamed to its thread)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return "parse" if len(buf) > HEADER_LIMIT else None
    head = bytes(buf[:end]).lower()
    body = len(buf) - end - 4
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip(), value.strip()
        if name == b"content-length":
            if not value.isdigit():
                return "parse"  # malformed: the parser answers 400
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
    if chunked:
        if bytes(buf[end:]).endswith(b"0\r\n\r\n"):
            return "whole"
        return "parse" if body > BUFFER_LIMIT else None
    if length is None:
        return "whole"  # no body
    if length > BUFFER_LIMIT:
        return "parse"  # one too large to hold: streamed to its thread
    return "whole" if body >= length else None


class BufferingWorker(ThreadWorker):
    """gthread with a buffering front (see the module's docstring)."""

    def init_process(self) -> None:
        self.reading: dict[TConn, float] = {}
        super().init_process()

    # --- new connections and kept-alive ones are read in the event loop ----------------
    def accept(self, listener) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.front_buf = bytearray()
        conn.handshaken = not self.cfg.is_ssl
        if self.cfg.is_ssl:
            try:
                conn.sock = gsock.ssl_context(self.cfg).wrap_socket(
                    conn.sock,
                    server_side=True,
                    do_handshake_on_connect=False,
                    suppress_ragged_eofs=self.cfg.suppress_ragged_eofs,
                )
                conn.sock.setblocking(False)
            except (OSError, ValueError):
                self._drop(conn)
                return
        self._read_in_loop(conn)

    def on_client_socket_readable(self, conn, client) -> None:
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.front_buf = bytearray()
        self._read_in_loop(conn)

    def _read_in_loop(self, conn: TConn) -> None:
        self.reading[conn] = time.monotonic() + REQUEST_TIMEOUT
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, _sock) -> None:
        if not conn.handshaken:
            try:
                conn.sock.do_handshake()
                conn.handshaken = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except (OSError, ValueError):
                self._forget(conn)
                self._drop(conn)
                return
        buf: bytearray = conn.front_buf
        while len(buf) <= BUFFER_LIMIT + HEADER_LIMIT:
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except (OSError, ValueError):
                data = b""
            if not data:  # gone before its request was whole
                self._forget(conn)
                self._drop(conn)
                return
            buf.extend(data)
        state = request_state(buf)
        if state is not None:
            self._forget(conn)
            self._hand_over(conn, bytes(buf), whole=state == "whole")

    def _hand_over(self, conn: TConn, data: bytes, *, whole: bool) -> None:
        if not conn.initialized:
            conn.initialized = True
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(data)
        conn.data_ready = True
        if whole and self.cfg.threads == 1:
            self._answer_here(conn)
        else:
            self.enqueue_req(conn)

    def _answer_here(self, conn: TConn) -> None:
        """A whole request, one thread: answered here, on the event loop's thread (see
        the module's docstring). Nothing is left to read from its client, so it cannot
        stall the loop; a request still being streamed goes to the pool's thread."""
        done: futures.Future = futures.Future()
        try:
            done.set_result(self.handle(conn))
        except Exception as exc:  # handle() answers its own errors; this is the rest
            done.set_exception(exc)
        self.finish_request(conn, done)

    def _forget(self, conn: TConn) -> None:
        self.reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _drop(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also: requests that did not arrive whole in time get a 408 and are closed."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.reading.items()):
            if deadline > now:
                continue
            self._forget(conn)
            if conn.front_buf:  # a started request: say why
                with contextlib.suppress(OSError, ValueError):
                    conn.sock.send(error_response(408, "request_timeout"))
                self.log.warning("request not received in time from ip=%s", conn.client[0])
            self._drop(conn)

    # --- gunicorn's own error answers: the envelope --------------------------------------
    def handle_error(self, req, client, addr, exc) -> None:
        client_error = not isinstance(exc, Exception) or _is_client_error(exc)
        status, code = classify(exc, client_error)
        addr = addr or ("", -1)
        if status >= 500:
            self.log.exception("Error handling request")
        else:
            self.log.warning("Invalid request from ip=%s: %s", addr[0], redact_text(str(exc)))
        try:
            util.write_nonblock(client, error_response(status, code))
        except Exception:
            self.log.debug("Failed to send error message.")


def _is_client_error(exc: BaseException) -> bool:
    from gunicorn.http import errors as e  # type: ignore[import-untyped]

    return isinstance(
        exc,
        (
            e.InvalidRequestLine,
            e.InvalidRequestMethod,
            e.InvalidHTTPVersion,
            e.InvalidHeader,
            e.InvalidHeaderName,
            e.LimitRequestLine,
            e.LimitRequestHeaders,
            e.InvalidProxyLine,
            e.ForbiddenProxyRequest,
            e.InvalidSchemeHeaders,
            e.UnsupportedTransferCoding,
            e.ObsoleteFolding,
            e.ExpectationFailed,
            e.InvalidChunkSize,
            e.ChunkMissingTerminator,
            e.InvalidChunkExtension,
            ssl.SSLError,
        ),
    )


class RedactingLogger(Logger):
    """gunicorn's logger with personal values of query strings redacted in the access
    log (`%(r)s`, `%(q)s`, `%(U)s` atoms) and in error-log messages."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_text(atoms[key])
        if isinstance(atoms.get("q"), str) and atoms["q"]:
            atoms["q"] = redact_text("?" + atoms["q"])[1:]
        return atoms

    def _redacted(self, msg, args):
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            return msg, args
        return redact_text(text), ()

    def error(self, msg, *args, **kwargs):
        msg, args = self._redacted(msg, args)
        super().error(msg, *args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        msg, args = self._redacted(msg, args)
        super().warning(msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs):
        msg, args = self._redacted(msg, args)
        super().info(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        msg, args = self._redacted(msg, args)
        super().exception(msg, *args, **kwargs)
