-- Test helper: a small HTTP server of the specs' own on 127.0.0.1 (Debian's /usr/bin/python3, no
-- code shared with the SDK or the local Venice server) that answers every request with 200 and
-- `{}` (or, with replies, the body given for the first text a request's body contains) and keeps
-- the raw bytes of each request it read.
--
--   local recorder = require "spec.helpers.recorder"
--   local srv = recorder.start()   -- { url = "http://127.0.0.1:PORT", port = PORT }
--   recorder.start { replies = { { "needle", "body bytes" }, ... } }
--   srv.requests()                 -- the raw requests so far, oldest first (head and body bytes)
--   srv.connections()              -- connections accepted so far
--   srv.stop()

local M = {}

local SERVER = [==[
import os, socket, sys, threading
out = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
lock = threading.Lock()
state = {"conns": 0, "requests": 0}
replies = []
while os.path.exists(os.path.join(out, "reply-%d.when" % (len(replies) + 1))):
    n = len(replies) + 1
    with open(os.path.join(out, "reply-%d.when" % n), "rb") as f, \
         open(os.path.join(out, "reply-%d.body" % n), "rb") as g:
        replies.append((f.read(), g.read()))

def note(name, data):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(out, name))

def serve(c):
    data = b""
    while True:
        try:
            chunk = c.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            n, chunked = 0, False
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                k = k.strip().lower()
                if k == b"content-length":
                    n = int(v.strip())
                elif k == b"transfer-encoding" and b"chunked" in v.lower():
                    chunked = True
            if chunked:
                end = rest.find(b"\r\n0\r\n\r\n")
                if not rest.startswith(b"0\r\n\r\n") and end < 0:
                    break
                size = 5 if rest.startswith(b"0\r\n\r\n") else end + 7
            else:
                if len(rest) < n:
                    break
                size = n
            with lock:
                state["requests"] += 1
                note("req-%06d" % state["requests"], head + b"\r\n\r\n" + rest[:size])
            body = next((b for w, b in replies if w in rest[:size]), b"{}")
            data = rest[size:]
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    c.close()

note("port", str(s.getsockname()[1]).encode())
while True:
    c, _ = s.accept()
    with lock:
        state["conns"] += 1
        note("conns", str(state["conns"]).encode())
    threading.Thread(target=serve, args=(c,), daemon=True).start()
]==]

local helpers = require "spec.helpers"
local read, write = helpers.read_file, helpers.write_file

function M.start(opts)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  local script = dir .. "/server.py"
  write(script, SERVER)
  for i, r in ipairs(opts and opts.replies or {}) do
    write(("%s/reply-%d.body"):format(dir, i), r[2])
    write(("%s/reply-%d.when"):format(dir, i), r[1])
  end
  local pidfile = dir .. "/pid"
  os.execute(("/usr/bin/python3 '%s' '%s' >/dev/null 2>&1 & echo $! > '%s'"):format(script, dir, pidfile))
  local port
  for _ = 1, 400 do
    port = tonumber(read(dir .. "/port") or "")
    if port then break end
    os.execute("sleep 0.05")
  end
  assert(port, "the recording server did not start (is /usr/bin/python3 there?)")
  local pid = (read(pidfile) or ""):match("%d+")
  local srv = { port = port, url = "http://127.0.0.1:" .. port, dir = dir }
  function srv.requests()
    local list, i = {}, 1
    while true do
      local s = read(("%s/req-%06d"):format(dir, i))
      if not s then break end
      list[i] = s
      i = i + 1
    end
    return list
  end
  function srv.connections()
    return tonumber(read(dir .. "/conns") or "0") or 0
  end
  function srv.stop()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    os.execute("rm -rf '" .. dir .. "'")
  end
  return srv
end

return M
