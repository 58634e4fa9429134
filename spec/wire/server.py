#!/usr/bin/python3
"""A small hostile HTTP server on 127.0.0.1 for the wire specs, written apart from the SDK.

    server.py DIR

Listens on an ephemeral port, writes it to DIR/port, and records every request it reads, one JSON
object a line in DIR/log: method, target, the header lines exactly as they arrived, the body
(latin-1 text), the connection's number and the request's number on that connection.

Answers come from DIR/routes.json, read again for every request: { "/path": [answer, ...] } where
the n-th request to a path gets the n-th answer (the last one repeats); a path not listed gets an
echo of the request as JSON. An answer is { "status", "headers": {...}, "body": "..." }; in the
body and the header values, {AUTH} stands for the request's Authorization value without its
scheme, {ECHO} for the request as JSON. "close": true closes the connection after the answer;
"delay": seconds waits that long before answering.
"""
import json
import os
import socketserver
import sys
import threading
import time

DIR = sys.argv[1]
LOCK = threading.Lock()
COUNTS = {}
CONNS = [0]
GEN = [None]


def load_routes():
    try:
        with open(os.path.join(DIR, "routes.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def record(entry):
    with LOCK:
        with open(os.path.join(DIR, "log"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        with LOCK:
            CONNS[0] += 1
            conn = CONNS[0]
        n = 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                continue
            n += 1
            parts = line.decode("latin-1").rstrip("\r\n").split(" ")
            if len(parts) != 3:
                return
            method, target, _ = parts
            headers = []
            while True:
                h = self.rfile.readline(65537)
                if not h or h in (b"\r\n", b"\n"):
                    break
                headers.append(h.decode("latin-1").rstrip("\r\n"))
            lower = {}
            for h in headers:
                k, _, v = h.partition(":")
                lower.setdefault(k.strip().lower(), v.strip())
            body = b""
            if lower.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    body += self.rfile.read(size)
                    self.rfile.readline()
            elif "content-length" in lower:
                body = self.rfile.read(int(lower["content-length"]))
            if lower.get("expect", "").lower() == "100-continue" and not body:
                pass
            entry = {"method": method, "target": target, "headers": headers,
                     "body": body.decode("latin-1"), "conn": conn, "n": n}
            record(entry)
            path = target.split("?", 1)[0]
            routes = load_routes()
            with LOCK:
                if routes.get("_gen") != GEN[0]:   # a reset: the counts start again
                    GEN[0] = routes.get("_gen")
                    COUNTS.clear()
                i = COUNTS.get(path, 0)
                COUNTS[path] = i + 1
            answers = routes.get(path)
            if answers:
                a = answers[min(i, len(answers) - 1)]
            else:
                a = {"status": 200, "headers": {"Content-Type": "application/json"}, "body": "{ECHO}"}
            auth = lower.get("authorization", "")
            auth = auth.split(" ", 1)[1] if " " in auth else auth
            echo = json.dumps(entry)

            def fill(s):
                return s.replace("{AUTH}", auth).replace("{ECHO}", echo)

            if a.get("delay"):
                time.sleep(a["delay"])
            out = fill(a.get("body", "")).encode("latin-1", "replace")
            status = a.get("status", 200)
            head = ["HTTP/1.1 %d X" % status, "Content-Length: %d" % len(out)]
            for k, v in a.get("headers", {}).items():
                head.append("%s: %s" % (k, fill(v)))
            if a.get("close"):
                head.append("Connection: close")
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + out)
            self.wfile.flush()
            if a.get("close"):
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    tmp = os.path.join(DIR, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, os.path.join(DIR, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
