-- Private inference against an independent enclave emulator (spec/tee_enclave.py, whose crypto is
-- Debian's python3-cryptography): attestations with fresh nonces, their tampered variants, E2EE
-- streams decrypted as they arrive (compared with what the emulator encrypted), the emulator's
-- check that it could decrypt what was sent, refusals before sending, response signatures.
local venice = require "venice"
local socket = require "socket"
local cjson = require "cjson"
local helpers = require "spec.helpers"

local TeeError = venice.errors.TeeError
local PYTHON = "/usr/bin/python3"

local emu = {}

local read_file = helpers.read_file

local function start_emulator()
  local base = os.tmpname()
  os.remove(base)
  local port_file, pid_file = base .. ".port", base .. ".pid"
  os.execute(("%s spec/tee_enclave.py --port-file %s --parent-pid $PPID >/dev/null 2>%s.err & echo $! > %s")
    :format(PYTHON, port_file, base, pid_file))
  emu.pid = tonumber((read_file(pid_file) or ""):match("%d+"))
  os.remove(pid_file)
  local deadline = socket.gettime() + 30
  while socket.gettime() < deadline do
    local port = tonumber((read_file(port_file) or ""):match("^(%d+)$"))
    if port then
      emu.port = port
      os.remove(port_file)
      return
    end
    socket.sleep(0.02)
  end
  error("the enclave emulator did not start: " .. tostring(read_file(base .. ".err")))
end

-- A blocking request to the emulator's control routes: status, decoded body.
local function control(method, path, body)
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect("127.0.0.1", emu.port))
  local payload = body and cjson.encode(body) or ""
  c:send(table.concat { method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
    "Content-Type: application/json\r\nContent-Length: ", #payload, "\r\n\r\n", payload })
  local resp = c:receive("*a")
  c:close()
  local status = tonumber(resp:match("^HTTP/1%.%d (%d+)"))
  local text = resp:match("\r\n\r\n(.*)$") or ""
  local ok, v = pcall(cjson.decode, text)
  return status, ok and v or text
end

local function mode(m, shape) control("POST", "/_mode", { mode = m, shape = shape }) end
local function log() local _, l = control("GET", "/_log"); return l end
local function count(path)
  local n = 0
  for _, e in ipairs(log()) do if e.path == path then n = n + 1 end end
  return n
end

local function client(opts)
  return helpers.client_for("http://127.0.0.1:" .. emu.port .. "/api/v1", opts)
end

local function msgs(text) return { { role = "system", content = "Be brief." }, { role = "user", content = text } } end

local function text_of(chunks)
  local out = {}
  for _, c in ipairs(chunks) do
    local d = c.choices and c.choices[1] and c.choices[1].delta
    if d and type(d.content) == "string" then out[#out + 1] = d.content end
  end
  return table.concat(out)
end

local function last_chat()
  local l, last = log(), nil
  for _, e in ipairs(l) do if e.path == "/chat/completions" then last = e end end
  return last
end

describe("private inference against an enclave emulator", function()
  local c, root_ca

  setup(function()
    start_emulator()
    local _, pem = control("GET", "/_ca")
    root_ca = pem
    c = client()
  end)
  teardown(function()
    if emu.pid then os.execute("kill " .. emu.pid .. " 2>/dev/null") end
  end)
  before_each(function() control("POST", "/_reset") end)

  describe("client.tee.attestation", function()
    it("sends a fresh 32-byte nonce and verifies the answer at the baseline", function()
      local a = assert(c.tee.attestation { model = "e2ee-test" })
      local b = assert(c.tee.attestation { model = "e2ee-test" })
      local sent = {}
      for _, e in ipairs(log()) do
        assert.equal("/tee/attestation", e.path)
        assert.equal("Bearer test-key", e.auth)
        assert.equal("e2ee-test", e.query.model)
        assert.truthy(e.query.nonce:match("^" .. ("%x"):rep(64) .. "$"))
        assert.equal(e.query.nonce:lower(), e.query.nonce)
        sent[#sent + 1] = e.query.nonce
      end
      assert.equal(2, #sent)
      assert.are_not.equal(sent[1], sent[2])
      assert.equal(sent[1], a.nonce)
      assert.equal(sent[2], b.nonce)
      assert.is_table(a.report)
    end)

    it("sends the caller's nonce as given", function()
      local n = ("0123456789abcdef"):rep(4)
      assert(c.tee.attestation { model = "e2ee-test", nonce = n })
      assert.equal(n, log()[1].query.nonce)
    end)

    for _, bad in ipairs { "abc", ("0"):rep(63), ("0"):rep(65), ("g"):rep(64), 12345 } do
      it("rejects the nonce " .. tostring(bad):sub(1, 12) .. " before sending", function()
        local r, err = c.tee.attestation { model = "e2ee-test", nonce = bad }
        assert.is_nil(r)
        assert.is_true(err:is(venice.errors.ValidationError))
        assert.equal("nonce", err.param)
        assert.equal(0, #log())
      end)
    end

    it("raises on an unknown parameter and refuses an unknown level before sending", function()
      assert.has_error(function() c.tee.attestation { model = "e2ee-test", nonse = "x" } end)
      assert.has_error(function() c.tee.session { model = "e2ee-test", max_age = "soon" } end)
      assert.has_error(function() c.tee.attestation({ model = "e2ee-test" }, { timeuot = 3 }) end, nil)
      local r, err = c.tee.attestation { model = "e2ee-test", level = "paranoid" }
      assert.is_nil(r)
      assert.equal("level", err.param)
      r, err = c.tee.session { model = "e2ee-test", level = false }
      assert.is_nil(r)
      assert.equal("level", err.param)
      assert.equal(0, #log())
    end)

    it("requires a model", function()
      local r, err = c.tee.attestation {}
      assert.is_nil(r)
      assert.is_true(err:is(venice.errors.ValidationError))
      assert.equal(0, #log())
    end)

    it("fails a genuine attestation replayed for another nonce, and accepts it for its own", function()
      mode("replay")
      local r, err = c.tee.attestation { model = "e2ee-gemma-3-27b-p" }
      assert.is_nil(r)
      assert.equal("nonce", err.check)
      local genuine = cjson.decode(read_file("spec/fixtures/tee/attestation_gemma_3_27b_p.json"))
      local a = assert(c.tee.attestation { model = "e2ee-gemma-3-27b-p", nonce = genuine._client_nonce })
      assert.is_true(a.report.ok)
      -- a relay replaying a genuine attestation never gets a session started: nothing is sent
      local s, serr = c.tee.session { model = "e2ee-gemma-3-27b-p" }
      assert.is_nil(s)
      assert.equal("nonce", serr.check)
      assert.equal(0, count("/chat/completions"))
    end)

    it("passes the full level with the test CA as root_ca", function()
      local a = assert(c.tee.attestation { model = "e2ee-test", level = "full",
        verify = { root_ca = root_ca, collateral = false } })
      assert.is_table(a.report)
    end)

    it("fails the full level against the pinned Intel root", function()
      local r, err = c.tee.attestation { model = "e2ee-test", level = "full" }
      assert.is_nil(r)
      assert.is_true(err:is(TeeError), tostring(err))
      assert.is_string(err.check)
    end)

    for _, case in ipairs {
      { "wrong_nonce", "a nonce that is not the one sent" },
      { "debug", "a debug enclave" },
      { "mismatched_address", "a REPORTDATA address that is not the key's" },
      { "swapped_key", "a key offered that is not the one whose address the quote binds" },
    } do
      it("fails closed on " .. case[2], function()
        mode(case[1])
        local r, err = c.tee.attestation { model = "e2ee-test" }
        assert.is_nil(r)
        assert.is_true(err:is(TeeError), tostring(err))
        assert.equal("tee_error", err.type)
        assert.is_string(err.check)
        assert.is_nil(c.tee.session { model = "e2ee-test" })
        assert.equal(0, count("/chat/completions"))
      end)
    end
  end)

  describe("an E2EE session", function()
    it("encrypts user and system messages and decrypts every chunk as it arrives", function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      local chunks = {}
      for chunk in s:stream { messages = msgs("the secret plan") } do chunks[#chunks + 1] = chunk end
      local e = last_chat()
      -- the emulator decrypted what was sent with the enclave's key
      assert.same({ { role = "system", content = "Be brief." }, { role = "user", content = "the secret plan" } },
        e.decrypted)
      assert.is_nil(e.raw:find("secret plan", 1, true))
      assert.is_nil(e.raw:find("Be brief", 1, true))
      -- what was decrypted here is what the emulator encrypted
      assert.equal(table.concat(e.answer), text_of(chunks))
      assert.equal(s.public_key, e.headers["x-venice-tee-client-pub-key"])
      assert.truthy(s.public_key:match("^04" .. ("%x"):rep(128) .. "$"))
      assert.equal(s.public_key:lower(), s.public_key)
      assert.equal(s.model_public_key, e.headers["x-venice-tee-model-pub-key"])
      assert.equal("ecdsa", e.headers["x-venice-tee-signing-algo"])
      assert.is_true(e.stream)
      s:close()
    end)

    it("collects with session:create and in the callback form", function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      local res = assert(s:create { messages = msgs("one") })
      assert.equal(table.concat(last_chat().answer), res.choices[1].message.content)
      assert.equal("stop", res.choices[1].finish_reason)
      local got, final = {}, nil
      s:stream({ messages = msgs("two") }, {
        on_chunk = function(ch) got[#got + 1] = ch end,
        on_done = function(err, f) assert.is_nil(err); final = f end,
      })
      venice.run()
      assert.equal(table.concat(last_chat().answer), text_of(got))
      assert.equal(text_of(got), final.choices[1].message.content)
      local cb_res
      s:create({ messages = msgs("four") }, function(err, r) assert.is_nil(err); cb_res = r end)
      venice.run()
      assert.equal(table.concat(last_chat().answer), cb_res.choices[1].message.content)
      local t = venice.spawn(function() return s:create { messages = msgs("three") } end)
      venice.run()
      assert.equal(table.concat(last_chat().answer), t:result().choices[1].message.content)
      s:close()
    end)

    it("finds the key in the current wire shape (attestation.workload_keyset)", function()
      mode("ok", "evidence")
      local s = assert(c.tee.session { model = "e2ee-test" })
      local res = assert(s:create { messages = msgs("shape") })
      assert.equal(table.concat(last_chat().answer), res.choices[1].message.content)
      s:close()
    end)

    for _, case in ipairs {
      { "corrupt_chunk", "decrypt", "a corrupted chunk" },
      { "wrong_key_chunk", "decrypt", "a chunk made for another key" },
      { "plaintext_chunk", "plaintext", "an unencrypted chunk" },
    } do
      it("raises a TeeError on " .. case[3] .. ", after the chunks before it", function()
        local s = assert(c.tee.session { model = "e2ee-test" })
        mode(case[1])
        local chunks = {}
        local ok, err = pcall(function()
          for chunk in s:stream { messages = msgs("x") } do chunks[#chunks + 1] = chunk end
        end)
        assert.is_false(ok)
        assert.is_true(err:is(TeeError), tostring(err))
        assert.equal(case[2], err.check)
        local answer = last_chat().answer
        assert.equal(2, #chunks)
        assert.equal(answer[1] .. answer[2], text_of(chunks))
        -- collect() and the callback form report it as well
        local r, cerr = s:stream({ messages = msgs("x") }):collect()
        assert.is_nil(r)
        assert.equal(case[2], cerr.check)
        -- what arrived before the failure is kept decrypted, the bad chunk not at all
        if cerr.partial ~= nil then
          local a2 = last_chat().answer
          assert.equal(a2[1] .. a2[2], cerr.partial.choices[1].message.content)
        end
        s:close()
      end)
    end

    it("never hands out the raw (encrypted) events", function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      local st = s:stream { messages = msgs("raw") }
      assert.has_error(function() for _ in st:events() do end end)
      st:close()
      s:close()
    end)

    it("accepts unencrypted content only when the session allows it", function()
      local s = assert(c.tee.session { model = "e2ee-test", allow_plaintext = true })
      mode("plaintext_chunk")
      local res = assert(s:create { messages = msgs("p") })
      assert.equal(table.concat(last_chat().answer), res.choices[1].message.content)
      s:close()
    end)

    local REFUSED = {
      { "tools", { tools = { { type = "function", ["function"] = { name = "f" } } } } },
      { "web search", { venice_parameters = { enable_web_search = "on" } } },
      { "non-streaming", { stream = false } },
      { "uploads", { messages = { { role = "user",
        content = { { type = "image_url", image_url = { url = "x" } } } } } } },
      { "another model", { model = "other" } },
      { "tool messages", { messages = { { role = "tool", content = "r", tool_call_id = "1" } } } },
    }
    for _, case in ipairs(REFUSED) do
      it("refuses " .. case[1] .. " before sending", function()
        local s = assert(c.tee.session { model = "e2ee-test" })
        local p = { messages = msgs("x") }
        for k, v in pairs(case[2]) do p[k] = v end
        local r, err = s:create(p)
        assert.is_nil(r)
        assert.is_true(err:is(venice.errors.ValidationError), tostring(err))
        assert.equal(0, count("/chat/completions"))
        s:close()
      end)
    end

    it("attests again when its attestation is older than max_age", function()
      local s = assert(c.tee.session { model = "e2ee-test", max_age = 3600 })
      assert(s:create { messages = msgs("a") })
      assert(s:create { messages = msgs("b") })
      assert.equal(1, count("/tee/attestation"))
      s.max_age = 0
      assert(s:create { messages = msgs("c") })
      assert.equal(2, count("/tee/attestation"))
      -- a renewed attestation that fails stops the request
      mode("debug")
      local r, err = s:create { messages = msgs("d") }
      assert.is_nil(r)
      assert.is_true(err:is(TeeError))
      assert.equal(3, count("/chat/completions"))
      s:close()
    end)

    it("wipes its key on close and refuses to send after", function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      s:close()
      s:close()
      assert.is_true(s._key:closed())
      local r, err = s:create { messages = msgs("x") }
      assert.is_nil(r)
      assert.equal("session_closed", err.code)
      assert.equal(0, count("/chat/completions"))
    end)

    it("ends a stream still open when the session is closed", function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      local st = s:stream { messages = msgs("x") }
      assert.is_table(st:read())
      s:close()
      local r, err = st:read()
      assert.is_nil(r)
      assert.equal("session_closed", err.code)
    end)

    it("keeps the private key out of every Lua value it holds", function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      local seen = {}
      local function walk(v)
        if type(v) == "table" and not seen[v] then
          seen[v] = true
          for k, x in pairs(v) do walk(k); walk(x) end
        elseif type(v) == "string" then
          assert.is_true(#v ~= 32 or v == s._key:public():sub(2, 33), "a 32-byte string in the session")
        end
      end
      walk({ s.public_key, s.model_public_key, s.report, s.level, s.model })
      assert.equal("userdata", type(s._key))
      s:close()
    end)
  end)

  describe("response signatures", function()
    it("verifies a personal_sign record against the attested address", function()
      local att = assert(c.tee.attestation { model = "e2ee-test" })
      local sig = assert(c.tee.signature { model = "e2ee-test", request_id = "chatcmpl-1" })
      local r = venice.tee.verify_signature(sig, att)
      assert.is_true(r.verified)
      assert.equal(att.signing_address:lower(), r.signer)
      assert.equal("chatcmpl-1", log()[2].query.request_id)
    end)

    it("raises a TeeError when another key signed", function()
      local att = assert(c.tee.attestation { model = "e2ee-test" })
      mode("bad_signature")
      local sig = assert(c.tee.signature { model = "e2ee-test", request_id = "chatcmpl-1" })
      local ok, err = pcall(venice.tee.verify_signature, sig, att)
      assert.is_false(ok)
      assert.is_true(err:is(TeeError))
      assert.equal("signature", err.check)
    end)

    it("reports a record of an unknown shape as unverified", function()
      local att = assert(c.tee.attestation { model = "e2ee-test" })
      mode("unknown_signature")
      local sig = assert(c.tee.signature { model = "e2ee-test", request_id = "chatcmpl-1" })
      local r = venice.tee.verify_signature(sig, att)
      assert.is_false(r.verified)
      assert.is_string(r.reason)
    end)
  end)

  describe("the venice command", function()
    local function cli(args)
      local p = io.popen(("VENICE_BASE_URL=http://127.0.0.1:%d/api/v1 VENICE_API_KEY=test-key lua5.4 bin/venice %s"
        .. " 2>&1; echo \"rc=$?\""):format(emu.port, args))
      local out = p:read("*a")
      p:close()
      return out:match("^(.*)rc=(%d+)%s*$")
    end

    it("tee attest prints the result of the checks", function()
      local out, rc = cli("tee attest e2ee-test")
      assert.equal("0", rc, out)
      assert.truthy(out:find("attested: e2ee-test, baseline", 1, true), out)
      mode("debug")
      out, rc = cli("tee attest e2ee-test")
      assert.equal("5", rc, out)
      assert.truthy(out:find("FAIL", 1, true), out)
    end)

    it("chat --e2ee prints the decrypted answer", function()
      local out, rc = cli("chat --e2ee -m e2ee-test 'a private question'")
      assert.equal("0", rc, out)
      assert.equal(table.concat(last_chat().answer) .. "\n", out)
      assert.equal("a private question", last_chat().decrypted[1].content)
    end)

    it("chat --e2ee exits 5 on a failed attestation check, and sends nothing", function()
      mode("debug")
      local out, rc = cli("chat --e2ee -m e2ee-test 'a private question'")
      assert.equal("5", rc, out)
      assert.truthy(out:find("attestation check", 1, true), out)
      assert.equal(0, count("/chat/completions"))
      out, rc = cli("chat --e2ee --json -m e2ee-test 'a private question'")
      assert.equal("5", rc, out)
    end)

    it("chat --e2ee exits 5 on a chunk that does not decrypt, after the text before it", function()
      mode("corrupt_chunk")
      local out, rc = cli("chat --e2ee -m e2ee-test 'a private question'")
      assert.equal("5", rc, out)
      assert.truthy(out:find("decrypt", 1, true), out)
      assert.equal(1, count("/chat/completions"))
    end)

    it("the help lists exit code 5 for chat --e2ee", function()
      local out, rc = cli("--help")
      assert.equal("0", rc, out)
      assert.truthy(out:find("5 private inference failed (tee attest, chat --e2ee", 1, true), out)
      out = cli("chat --help")
      assert.truthy(out:find("does not decrypt exits 5", 1, true), out)
    end)
  end)
end)

-- The local server's test enclave (mock/lua/venice/mock/enclave.lua), as users' tests reach it.
describe("the local server's test enclave", function()
  local mock = require "spec.helpers.mock"
  local c, root_ca

  setup(function()
    c = helpers.client()
    local status
    status, root_ca = mock.control("GET", "/_mock/tee/root_ca")
    assert.equal(200, status)
  end)
  before_each(function() mock.reset() end)

  it("serves attestations that pass the baseline and, with its root CA, the full level", function()
    local a = assert(c.tee.attestation { model = "e2ee-test" })
    assert.is_true(a.report.ok)
    local f = assert(c.tee.attestation { model = "e2ee-test", level = "full",
      verify = { root_ca = root_ca, collateral = false } })
    assert.equal("full", f.report.level)
    assert.is_true(f.report.ok)
    assert.equal(f.nonce, mock.last_request("/tee/attestation").query.nonce)
    mock.fault("/tee/attestation", { tee_shape = "evidence" })
    assert(c.tee.session { model = "e2ee-test" }):close()
  end)

  for _, t in ipairs { "wrong_nonce", "debug", "mismatched_address" } do
    it("fails the check of a tampered attestation: " .. t, function()
      mock.fault("/tee/attestation", { tee = t })
      local r, err = c.tee.attestation { model = "e2ee-test" }
      assert.is_nil(r)
      assert.is_true(err:is(TeeError), tostring(err))
      assert.is_string(err.check)
    end)
  end

  it("holds an E2EE chat: the prompt never crosses in clear, the answer is decrypted", function()
    local s = assert(c.tee.session { model = "e2ee-test" })
    local res = assert(s:create { messages = msgs("the local secret") })
    assert.equal("Hello from the local enclave. You said: the local secret (end to end encrypted)",
      res.choices[1].message.content)
    local req = mock.last_request("/chat/completions")
    assert.is_nil(req.body:find("local secret", 1, true))
    assert.equal(s.public_key, req.headers["x-venice-tee-client-pub-key"])
    -- plain chat on the same server is untouched
    local plain = assert(c.chat.completions.create { model = "llama-3.3-70b", messages = msgs("hi") })
    assert.truthy(plain.choices[1].message.content:find("You said: hi", 1, true))
    s:close()
  end)

  for _, case in ipairs { { "corrupt_chunk", "decrypt" }, { "wrong_key_chunk", "decrypt" },
                          { "plaintext_chunk", "plaintext" } } do
    it("tampers with a chunk on request: " .. case[1], function()
      local s = assert(c.tee.session { model = "e2ee-test" })
      local r, err = s:create({ messages = msgs("x") },
        { headers = { ["x-mock-fault"] = mock.fault_header { tee = case[1] } } })
      assert.is_nil(r)
      assert.equal(case[2], err.check)
      s:close()
    end)
  end

  it("refuses an E2EE request it cannot decrypt, as Venice does", function()
    local s = assert(c.tee.session { model = "e2ee-test" })
    local r, err = c.chat.completions.stream({ model = "e2ee-test", messages = msgs("clear text") }, {
      headers = { ["X-Venice-TEE-Client-Pub-Key"] = s.public_key, ["X-Venice-TEE-Model-Pub-Key"] = s.model_public_key,
        ["X-Venice-TEE-Signing-Algo"] = "ecdsa" } }):collect()
    assert.is_nil(r)
    assert.equal(400, err.status)
    s:close()
  end)

  it("signs completions with the attested key, or with another on request", function()
    local a = assert(c.tee.attestation { model = "e2ee-test" })
    local sig = assert(c.tee.signature { model = "e2ee-test", request_id = "chatcmpl-9" })
    assert.is_true(venice.tee.verify_signature(sig, a).verified)
    mock.fault("/tee/signature", { tee = "bad_signature" })
    sig = assert(c.tee.signature { model = "e2ee-test", request_id = "chatcmpl-9" })
    local ok, err = pcall(venice.tee.verify_signature, sig, a)
    assert.is_false(ok)
    assert.equal("signature", err.check)
  end)
end)
