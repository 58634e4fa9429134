"""A hostile event-stream server for the stream specs, on 127.0.0.1 (written apart from the SDK).

    /usr/bin/python3 spec/servers/sse_server.py     # prints "PORT PID", then serves until /quit

The first path segment picks the behaviour (base_url = http://127.0.0.1:PORT/<name>); the SDK's
own paths after it are ignored. Every response is written by hand on the raw socket, so framing,
cuts and headers are exactly what each case needs. GET /stats answers what the last stream sent.
"""
import json
import os
import socket
import socketserver
import sys
import threading
import zlib

STATS = {"sent": 0, "requests": 0, "done": False, "events": 0}
LOCK = threading.Lock()
GZIP_CACHE = {}
MiB = 1 << 20


def chunk(payload):
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def sse(data, event=None, eid=None):
    out = b""
    if event:
        out += b"event: " + event.encode() + b"\n"
    if eid:
        out += b"id: " + eid.encode() + b"\n"
    for line in data.split("\n"):
        out += b"data: " + line.encode() + b"\n"
    return out + b"\n"


def chat_chunk(content=None, finish=None, role=None):
    delta = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return json.dumps({"id": "c1", "object": "chat.completion.chunk", "model": "m",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def numbered(n, pad):
    return b'data: {"n":%d,"pad":"%s"}\n\n' % (n, pad)


def gzip_of(blocks):
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress(b) for b in blocks]
    out.append(z.flush())
    return b"".join(out)


def head(status="200 OK", ctype="text/event-stream", extra=()):
    lines = ["HTTP/1.1 " + status, "Connection: close"]
    if ctype:
        lines.append("Content-Type: " + ctype)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Handler(socketserver.BaseRequestHandler):
    def read_request(self):
        f = self.request.makefile("rb")
        line = f.readline().decode("latin-1").strip()
        headers = {}
        while True:
            h = f.readline()
            if not h or h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0") or 0)
        body = f.read(n) if n else b""
        parts = line.split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        return path, headers, body

    def send(self, data):
        self.request.sendall(data)
        with LOCK:
            STATS["sent"] += len(data)

    def handle(self):
        try:
            path, headers, _ = self.read_request()
        except OSError:
            return
        name = path.strip("/").split("/")[0].split("?")[0]
        with LOCK:
            STATS["requests"] += 1
            if name not in ("stats", "quit"):
                STATS["sent"], STATS["done"], STATS["events"] = 0, False, 0
        try:
            getattr(self, "case_" + name.replace("-", "_"), self.case_unknown)(headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # {==================== control ====================
    def case_stats(self, _):
        body = json.dumps(STATS).encode()
        self.request.sendall(head(ctype="application/json", extra=["Content-Length: %d" % len(body)]) + body)

    def case_quit(self, _):
        self.request.sendall(head(ctype="text/plain", extra=["Content-Length: 0"]))
        threading.Thread(target=self.server.shutdown).start()

    def case_unknown(self, _):
        self.request.sendall(head("404 Not Found", "text/plain", ["Content-Length: 0"]))

    # {==================== floods ====================
    def case_flood(self, headers):
        """Numbered events of about 1 KiB as fast as the socket takes them, then [DONE]."""
        total = int(headers.get("x-total", str(160 * MiB)))
        self.send(head(extra=["Transfer-Encoding: chunked"]))
        pad = b"x" * 1000
        n, sent = 0, 0
        while sent < total:
            block = b"".join(numbered(n + i, pad) for i in range(64))
            n += 64
            sent += len(block)
            self.send(chunk(block))
        self.send(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        with LOCK:
            STATS["done"], STATS["events"] = True, n

    def case_gzipbomb(self, headers):
        """A small gzip body that inflates to 256 MiB of numbered 4 KiB events, then [DONE]."""
        key = "bomb"
        if key not in GZIP_CACHE:
            pad = b"a" * 4000
            per = 256
            blocks = (b"".join(numbered(b * per + i, pad) for i in range(per)) for b in range(256 * MiB // (per * 4020)))
            nblocks = 256 * MiB // (per * 4020)
            GZIP_CACHE[key] = gzip_of(list(blocks) + [b"data: [DONE]\n\n"]), nblocks * per
        body, n = GZIP_CACHE[key]
        self.send(head(extra=["Content-Encoding: gzip", "Content-Length: %d" % len(body)]))
        self.send(body)
        with LOCK:
            STATS["done"], STATS["events"] = True, n

    def case_bigevent(self, headers):
        """One gzip'd event whose data line inflates to 64 MiB."""
        if "big" not in GZIP_CACHE:
            GZIP_CACHE["big"] = gzip_of([b"data: " + b"b" * (64 * MiB) + b"\n\n", b"data: [DONE]\n\n"])
        body = GZIP_CACHE["big"]
        self.send(head(extra=["Content-Encoding: gzip", "Content-Length: %d" % len(body)]))
        self.send(body)

    # {==================== media types ====================
    def answer_events(self, ctype, events):
        body = b"".join(events)
        self.send(head(ctype=ctype, extra=["Content-Length: %d" % len(body)]) + body)

    def hello(self):
        return [sse(chat_chunk("Hel", role="assistant")), sse(chat_chunk("lo")),
                sse(chat_chunk(finish="stop")), sse("[DONE]")]

    def case_ctype_mixed(self, _):
        self.answer_events("Text/Event-Stream; charset=UTF-8", self.hello())

    def case_ctype_upper(self, _):
        self.answer_events("TEXT/EVENT-STREAM", self.hello())

    def case_ctype_spaced(self, _):
        self.answer_events(" text/event-stream ;charset=utf-8", self.hello())

    def case_ctype_x(self, _):
        self.answer_events("text/x-event-stream", self.hello())

    def case_ctype_prefix(self, _):
        self.answer_events("text/event-streamed", self.hello())

    def case_ctype_empty(self, _):
        self.answer_events("text/event-stream", [b": nothing to say\n\n"])

    # {==================== ends ====================
    def answer_chunks(self, events, terminator=True):
        self.send(head(extra=["Transfer-Encoding: chunked"]))
        for e in events:
            self.send(chunk(e))
        if terminator:
            self.send(b"0\r\n\r\n")

    def story(self):
        return [sse(chat_chunk("Hello", role="assistant")), sse(chat_chunk(" world")),
                sse(chat_chunk(finish="stop"))]

    def case_end_chunked(self, _):
        """finish_reason, then the chunked terminator: no [DONE]."""
        self.answer_chunks(self.story())

    def case_end_length(self, _):
        """finish_reason, then the whole Content-Length: no [DONE]."""
        self.answer_events("text/event-stream", self.story())

    def case_end_no_finish(self, _):
        """Two content chunks and the chunked terminator: no finish_reason, no [DONE]."""
        self.answer_chunks(self.story()[:2])

    def case_cut_chunked(self, _):
        """finish_reason, then the connection closes before the chunked terminator."""
        self.answer_chunks(self.story(), terminator=False)

    def case_cut_length(self, _):
        """finish_reason, then the connection closes before the Content-Length is reached."""
        body = b"".join(self.story())
        self.send(head(extra=["Content-Length: %d" % (len(body) + 100)]) + body)

    def case_cut_mid(self, _):
        """Two content chunks, then the connection closes mid-body."""
        self.answer_chunks(self.story()[:2], terminator=False)

    def case_cut_reset(self, _):
        """Two content chunks, then a TCP reset."""
        self.answer_chunks(self.story()[:2], terminator=False)
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def case_error_event(self, _):
        """Two content chunks, then an error event."""
        self.answer_chunks(self.story()[:2] + [sse(json.dumps({"error": {"message": "overloaded"}}))])

    def case_bad_json(self, _):
        """Two content chunks, then data that is not JSON."""
        self.answer_chunks(self.story()[:2] + [sse("{not json")])

    def case_mixed(self, _):
        """Chunks of every shape the accumulator merges, common ones between them, then [DONE]."""
        events = [
            '{"id":"c-1","object":"chat.completion.chunk","created":5,"model":"m",'
            '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
            '{"id":"c-1","created":5,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},'
            '"logprobs":null,"finish_reason":null}]}',
            '{"id":"c-1","choices":[{"index":1,"delta":{"content":"B1"}}]}',
            '{"system_fingerprint":"fp-late","choices":[{"index":0,"delta":{"content":"lo"}}]}',
            '{"system_fingerprint":"fp-other","choices":[{"index":0,"delta":{"content":" wo"}}]}',
            '{"choices":[{"index":0,"delta":{"content":null}}]}',
            '{"choices":[{"index":0,"delta":{"content":7}}]}',
            '{"choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}',
            '{"choices":[{"index":0,"delta":{"content":"rld"},"logprobs":{"content":[]}}]}',
            '{"choices":[{"index":0,"delta":{"content":"!"}},{"index":1,"delta":{"content":"B2"}}]}',
            '{"venice_parameters":{"web_search_citations":[{"title":"t"}]},'
            '"choices":[{"index":0,"delta":{"content":"?"}}]}',
            '{"choices":[{"index":0,"delta":{"role":"tool","content":"-"}}]}',
            '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function",'
            '"function":{"name":"f","arguments":"{}"}}]}}]}',
            '{"choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}]}',
            '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}',
            '{"choices":[{"index":0,"delta":{"content":"+"}}],"usage":null}',
            '[DONE]',
        ]
        self.answer_chunks([sse(e) for e in events])

    def case_stall(self, _):
        """Two content chunks, then silence."""
        self.send(head(extra=["Transfer-Encoding: chunked"]))
        for e in self.story()[:2]:
            self.send(chunk(e))
        threading.Event().wait(10)

    # {==================== event types ====================
    def case_ping(self, _):
        """Text pings between the chunks, a named event with an id, and [DONE]."""
        evs = [sse("pong", event="ping"), sse(chat_chunk("Hel", role="assistant"), eid="e1"),
               sse("still here", event="ping"), sse(chat_chunk("lo"), eid="e2"),
               sse("line one\nline two", event="ping", eid="e3"),
               sse(chat_chunk(finish="stop")), sse("[DONE]")]
        self.answer_chunks(evs)

    # {==================== headers ====================
    def case_headers(self, _):
        body = b"".join(self.hello())
        self.send(head(extra=["X-Dup: one", "X-Dup: two", "Set-Cookie: a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
                              "Set-Cookie: b=2", "X-Request-Id: req-7", "Content-Length: %d" % len(body)]) + body)

    def case_headers_json(self, _):
        body = b'{"ok":true}'
        self.send(head(ctype="application/json", extra=["X-Dup: one", "x-dup: two", "Set-Cookie: a=1",
                                                        "Set-Cookie: b=2", "Content-Length: %d" % len(body)]) + body)

    def case_headers_error(self, _):
        body = b'{"error":{"message":"nope"}}'
        self.send(head("400 Bad Request", "application/json",
                       ["X-Dup: one", "X-Dup: two", "Set-Cookie: a=1", "Set-Cookie: b=2",
                        "Content-Length: %d" % len(body)]) + body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    sys.stdout.write("%d %d\n" % (srv.server_address[1], os.getpid()))
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
