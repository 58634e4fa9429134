"""A hostile HTTP/1.1 server on 127.0.0.1 for spec/resend_spec.lua, written apart from the SDK.

Usage: /usr/bin/python3 spec/helpers/hostile_wire.py LOGFILE
Prints "PORT PID" on its first line, then serves until killed. Every request it reads in full is
appended to LOGFILE as "METHOD PATH CONN NTH BYTES US" (connection number, request number on
that connection, body bytes, how many of them are 'U'); what a handler measures is appended as "NOTE PATH key=value".

Paths (any method):
  /ok...            200 {"ok":true}, keep-alive
  /reset-reused...  the first request on a connection is answered as /ok; any later one is read in
                    full and the connection reset with no answer
  /sse-reused...    as /reset-reused, with a one-event stream as the answer
  /reset...         read in full, then the connection reset with no answer
  /close-idle...    answered as /ok, then the kept-alive connection is closed 50 ms later
  /redirect/NNN     status NNN with a Location header pointing to /target (never to be requested)
  /processing       an endless run of "102 Processing" interim responses, one every 50 ms
  /error-endless    a 500 whose body never ends; notes the bytes written when the client left
  /trickle          a 200 event stream sending one comment line every 100 ms, forever
  /download         200 application/octet-stream, 200000 bytes of 'N'
  /download-cut     the same headers, 100000 bytes, then a reset
"""
import os
import socket
import struct
import sys
import threading
import time

LOG = sys.argv[1]
log_lock = threading.Lock()
conn_counter = [0]


def log(line):
    with log_lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def read_until(self, mark):
        while mark not in self.buf:
            self.fill()
        i = self.buf.index(mark) + len(mark)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_n(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_request(self):
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = b""
        if "content-length" in headers:
            body = self.read_n(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                body += self.read_n(size + 2)[:size]
                if size == 0:
                    break
        return method, path, headers, body


def send(sock, status, reason, headers, body=b""):
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    sock.sendall(head.encode("latin-1") + b"\r\n" + body)


def answer_ok(sock):
    body = b'{"ok":true}'
    send(sock, 200, "OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)


def endless(sock, path, chunk, pause):
    sent = 0
    try:
        while True:
            sock.sendall(chunk)
            sent += len(chunk)
            if pause:
                time.sleep(pause)
    except OSError:
        log("NOTE %s bytes=%d" % (path, sent))
        raise EOFError


def handle(sock, cid):
    c = Conn(sock)
    nth = 0
    while True:
        method, path, headers, body = c.read_request()
        nth += 1
        log("%s %s %d %d %d %d" % (method, path, cid, nth, len(body), body.count(b"U")))
        if path.startswith("/sse-reused"):
            if nth > 1:
                reset(sock)
                return
            body = b'data: {"n":1}\n\ndata: [DONE]\n\n'
            send(sock, 200, "OK", [("Content-Type", "text/event-stream"), ("Content-Length", str(len(body)))], body)
        elif path.startswith("/reset-reused"):
            if nth > 1:
                reset(sock)
                return
            answer_ok(sock)
        elif path.startswith("/close-idle"):
            answer_ok(sock)
            time.sleep(0.05)
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            return
        elif path.startswith("/reset"):
            reset(sock)
            return
        elif path.startswith("/redirect/"):
            status = int(path.split("/")[2])
            body = b"moved"
            send(sock, status, "Moved", [("Location", "/target"), ("Content-Length", str(len(body))),
                                          ("Content-Type", "text/plain")], body)
        elif path.startswith("/processing"):
            endless(sock, path, b"HTTP/1.1 102 Processing\r\n\r\n", 0.05)
        elif path.startswith("/error-endless"):
            send(sock, 500, "Internal Server Error", [("Content-Type", "text/plain"),
                                                      ("Transfer-Encoding", "chunked")])
            piece = b"x" * 65536
            endless(sock, path, b"%x\r\n%s\r\n" % (len(piece), piece), 0)
        elif path.startswith("/trickle"):
            send(sock, 200, "OK", [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")])
            endless(sock, path, b"3\r\n:\n\n\r\n", 0.1)
        elif path.startswith("/download-cut"):
            send(sock, 200, "OK", [("Content-Type", "application/octet-stream"), ("Content-Length", "200000")],
                 b"N" * 100000)
            time.sleep(0.1)
            reset(sock)
            return
        elif path.startswith("/download"):
            send(sock, 200, "OK", [("Content-Type", "application/octet-stream"), ("Content-Length", "200000")],
                 b"N" * 200000)
        else:
            answer_ok(sock)


def serve(sock, cid):
    try:
        handle(sock, cid)
    except (EOFError, OSError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def watch_parent():
    """Ends the server with the process that started it, even when that one crashed."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    threading.Thread(target=watch_parent, daemon=True).start()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    open(LOG, "w").close()
    sys.stdout.write("%d %d\n" % (srv.getsockname()[1], os.getpid()))
    sys.stdout.flush()
    while True:
        sock, _ = srv.accept()
        conn_counter[0] += 1
        t = threading.Thread(target=serve, args=(sock, conn_counter[0]), daemon=True)
        t.start()


main()
