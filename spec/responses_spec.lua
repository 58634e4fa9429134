-- output_text on a Responses API result and on a collected Responses stream: the text of every
-- output_text part of every message item, concatenated (openai-python's Response.output_text).
local venice = require "venice"
local responses = require "venice.responses"
local mock = require "spec.helpers.mock"

local RESPONSE = {
  id = "resp_1", object = "response", status = "completed",
  output = {
    { type = "reasoning", id = "rs_1", summary = { { type = "summary_text", text = "thinking" } } },
    { type = "message", role = "assistant", content = {
      { type = "output_text", text = "Hello, ", annotations = {} },
      { type = "refusal", refusal = "no" },
      { type = "output_text", text = "world", annotations = {} },
    } },
    { type = "function_call", name = "f", arguments = "{}", call_id = "c1" },
    { type = "message", role = "assistant", content = { { type = "output_text", text = "!" } } },
  },
}

describe("output_text", function()
  it("concatenates the output_text parts of the message items, in order", function()
    assert.equal("Hello, world!", responses.output_text(RESPONSE))
    assert.equal("", responses.output_text { output = {} })
    assert.equal("", responses.output_text { output = { { type = "function_call" } } })
    assert.equal("", responses.output_text {})
  end)

  describe("from a server of this spec's own", function()
    local srv, dir
    -- A server answering POST /responses with RESPONSE as JSON, or as a stream of events when
    -- the request asked for one.
    setup(function()
      dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir " .. dir)
      local body = venice.json.encode(RESPONSE)
      local f = assert(io.open(dir .. "/body.json", "wb"))
      f:write(body)
      f:close()
      f = assert(io.open(dir .. "/server.py", "w"))
      f:write([[
import http.server, json, sys
body = open(sys.argv[1] + "/body.json", "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if req.get("stream"):
            resp = json.loads(body)
            events = [("response.created", {"response": dict(resp, status="in_progress", output=[])})]
            for word in ["Hello, ", "world", "!"]:
                events.append(("response.output_text.delta", {"delta": word}))
            events.append(("response.completed", {"response": resp}))
            out = b"".join(("event: %s\ndata: %s\n\n" % (k, json.dumps(dict(v, type=k)))).encode()
                           for k, v in events)
            ctype = "text/event-stream"
        else:
            out, ctype = body, "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + "/port", "w").write(str(s.server_address[1]))
s.serve_forever()
]])
      f:close()
      os.execute(("/usr/bin/python3 %s/server.py %s >/dev/null 2>&1 & echo $! > %s/pid"):format(dir, dir, dir))
      local port
      for _ = 1, 200 do
        local pf = io.open(dir .. "/port")
        port = pf and tonumber(pf:read("*a"))
        if pf then pf:close() end
        if port then break end
        os.execute("sleep 0.05")
      end
      assert(port, "the server did not start")
      local pf = io.open(dir .. "/pid")
      srv = { pid = pf:read("*l"), url = "http://127.0.0.1:" .. port .. "/api/v1" }
      pf:close()
    end)
    teardown(function()
      if srv then os.execute("kill " .. srv.pid) end
      os.execute("rm -rf " .. dir)
    end)

    it("is set on responses.create's result", function()
      local c = venice.new { api_key = "k", base_url = srv.url, max_retries = 0 }
      local res = assert(c.responses.create { model = "m", input = "hi" })
      assert.equal("Hello, world!", res.output_text)
      assert.equal("completed", res.status)
    end)

    it("is set on a collected Responses stream, also one run in the background", function()
      local c = venice.new { api_key = "k", base_url = srv.url, max_retries = 0 }
      local res = assert(assert(c.responses.stream { model = "m", input = "hi" }):collect())
      assert.equal("Hello, world!", res.output_text)
      local final
      local task = c.responses.stream({ model = "m", input = "hi" }, { on_done = function(err, f)
        assert.is_nil(err)
        final = f
      end })
      venice.run(task)
      assert.equal("Hello, world!", final.output_text)
    end)
  end)

  it("is set against the local server", function()
    local c = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
    local res = assert(c.responses.create { model = "llama-3.3-70b", input = "ping" })
    assert.matches("You said: ping", res.output_text, 1, true)
    local streamed = assert(assert(c.responses.stream { model = "llama-3.3-70b", input = "ping" }):collect())
    assert.equal(res.output_text, streamed.output_text)
  end)
end)
