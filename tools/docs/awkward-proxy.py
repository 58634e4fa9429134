#!/usr/bin/python3
"""An HTTP proxy in front of the local server that makes chat streams look like real ones.

    /usr/bin/python3 tools/docs/awkward-proxy.py UPSTREAM_ORIGIN PORT_FILE

Every request is forwarded to UPSTREAM_ORIGIN (http://127.0.0.1:PORT) as it is. The answers come
back unchanged, except event streams of chat completion chunks, rewritten the way Venice and other
OpenAI-compatible servers send them:
  - a delta without "content" gets "content": null (the role chunk, tool-call and finish chunks);
  - before [DONE], one more chunk with an empty "choices" list and the usage (what
    stream_options.include_usage asks for, and what some servers always send).
A loop over a stream that indexes choices[1] blindly, or writes delta.content without checking it
is a string, fails here. The proxy listens on 127.0.0.1, writes its port to PORT_FILE, and exits
when its standard input closes.
"""
import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

UPSTREAM = urlsplit(sys.argv[1])
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te",
       "trailer", "upgrade"}


def rewrite_events(body):
    out = []
    usage = None
    saw_usage_chunk = False
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not block.strip():
            continue
        lines = block.split(b"\n")
        data = b"\n".join(l[5:].lstrip(b" ") if l.startswith(b"data:") else b"" for l in lines
                          if l.startswith(b"data:"))
        if data == b"[DONE]":
            if not saw_usage_chunk:
                tail = {"id": "chatcmpl-proxy", "object": "chat.completion.chunk", "choices": [],
                        "usage": usage or {"prompt_tokens": 1, "completion_tokens": 1,
                                           "total_tokens": 2}}
                out.append(b"data: " + json.dumps(tail).encode() + b"\n\n")
            out.append(b"data: [DONE]\n\n")
            continue
        try:
            chunk = json.loads(data)
        except ValueError:
            out.append(block + b"\n\n")
            continue
        if isinstance(chunk, dict) and chunk.get("object") == "chat.completion.chunk":
            choices = chunk.get("choices")
            if isinstance(choices, list):
                if not choices:
                    saw_usage_chunk = True
                for c in choices:
                    delta = c.get("delta") if isinstance(c, dict) else None
                    if isinstance(delta, dict) and "content" not in delta:
                        delta["content"] = None
            if chunk.get("usage"):
                usage = chunk["usage"]
            out.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        else:
            out.append(block + b"\n\n")
    return b"".join(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def relay(self):
        body = self.read_body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
        up = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=120)
        try:
            up.request(self.command, self.path, body=body, headers=headers)
            res = up.getresponse()
            data = res.read()
            ctype = res.getheader("Content-Type") or ""
            if "text/event-stream" in ctype.lower():
                data = rewrite_events(data)
            self.send_response(res.status, res.reason)
            for k, v in res.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            up.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = relay


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[2], "w") as f:
        f.write(str(server.server_address[1]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()   # until the parent goes away


if __name__ == "__main__":
    main()
