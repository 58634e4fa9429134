-- The cryptographic primitives of private inference (venice.core), checked against published test
-- vectors and against an independent implementation: python3-cryptography, run by /usr/bin/python3
-- through spec/fixtures/tee/pyref.py, plays the enclave.
local core = require "venice.core"

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

local PY = "/usr/bin/python3"
local REF = "spec/fixtures/tee/pyref.py"

-- One run of the reference; its single output line. Fails the test when Python or its
-- cryptography package is missing (never a silent pass).
local function py(...)
  local args = { PY, REF, ... }
  for i = 3, #args do assert(args[i]:match("^[%w%-]+$"), "unexpected argument " .. args[i]) end
  local p = assert(io.popen(table.concat(args, " ") .. " 2>&1"))
  local out = p:read("*a")
  local ok = p:close()
  assert(ok, "the reference implementation failed (needs /usr/bin/python3 with python3-cryptography, "
    .. "see tools/deps.sh): " .. out)
  return (out:gsub("%s+$", ""))
end

-- A random test scalar for the reference side (its key, not one of ours).
local function scalar()
  local f = assert(io.open("/dev/urandom", "rb"))
  local b = f:read(31)
  f:close()
  return "01" .. hex(b)
end

describe("core.keccak256", function()
  it("matches the published Keccak-256 vectors (original padding, not SHA3-256)", function()
    assert.equal("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", hex(core.keccak256("")))
    assert.equal("4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45", hex(core.keccak256("abc")))
    -- the Keccak team's 1600-bit message of 0xA3 bytes, which crosses the 136-byte rate
    assert.equal("3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a",
      hex(core.keccak256(string.char(0xa3):rep(200))))
    assert.equal("4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15",
      hex(core.keccak256("The quick brown fox jumps over the lazy dog")))
  end)

  it("differs from SHA3-256 of the same input", function()
    -- SHA3-256("") = a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a
    assert.not_equal("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", hex(core.keccak256("")))
  end)

  it("gives every length around the rate boundary a distinct digest", function()
    local seen = {}
    for n = 130, 140 do
      local d = core.keccak256(("x"):rep(n))
      assert.equal(32, #d)
      assert.is_nil(seen[d])
      seen[d] = true
    end
  end)

  it("derives the signing addresses of the genuine captures from their public keys", function()
    -- the enclave's address is the last 20 bytes of keccak256(x || y)
    local function address(pubhex)
      local raw = unhex(pubhex)
      if #raw == 65 then raw = raw:sub(2) end
      return "0x" .. hex(core.keccak256(raw)):sub(-40)
    end
    local function load(name)
      local f = assert(io.open("spec/fixtures/tee/" .. name, "rb"))
      local t = core.json_decode(f:read("*a"))
      f:close()
      return t.attestation
    end
    local a = load("attestation_gemma_3_27b_p.json")
    assert.equal(a.signing_address:lower(), address(a.signing_public_key))
    local b = load("attestation_live_evidence.json")
    assert.equal(b.signing_address:lower(), address(b.attestation.workload_keyset.e2ee_public_keys[1].public_key))
  end)
end)

describe("core.hex_decode", function()
  it("decodes hex of either case and refuses anything else", function()
    assert.equal("\0\1\171\255", core.hex_decode("0001abFF"))
    assert.equal("", core.hex_decode(""))
    assert.is_nil(core.hex_decode("abc"))
    assert.is_nil(core.hex_decode("zz"))
    assert.is_nil(core.hex_decode("0x00"))
    assert.is_nil(core.hex_decode("00 "))
  end)
end)

describe("core.hex_encode", function()
  it("writes two lowercase digits per byte, as string.format's %02x does", function()
    assert.equal("", core.hex_encode(""))
    assert.equal("0001abff", core.hex_encode("\0\1\171\255"))
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    all = table.concat(all)
    assert.equal(hex(all), core.hex_encode(all))
    assert.equal(all, core.hex_decode(core.hex_encode(all)))
  end)
end)

describe("core.sha256", function()
  it("matches FIPS 180-2", function()
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(core.sha256("abc")))
    assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex(core.sha256("")))
  end)
end)

describe("core.tee_key", function()
  it("makes a fresh secp256k1 key each time, whose public half the reference accepts", function()
    local a, b = core.tee_key(), core.tee_key()
    assert.equal(65, #a:public())
    assert.equal(4, a:public():byte(1))
    assert.not_equal(a:public(), b:public())
    -- python encrypts to it: only a valid point would be accepted there
    local blob = unhex(py("encrypt", hex(a:public()), hex("ok")))
    assert.equal("ok", a:decrypt(blob))
    a:close()
    b:close()
  end)

  it("shows nothing of the private key to Lua", function()
    local k = core.tee_key()
    local pub = k:public()
    assert.equal("userdata", type(k))
    assert.equal("venice.TeeKey", getmetatable(k))          -- the metatable itself is hidden
    assert.equal("venice.TeeKey (secp256k1)", tostring(k))
    local mt = debug.getmetatable(k)
    local names = {}
    for name in pairs(mt.__index) do names[#names + 1] = name end
    table.sort(names)
    assert.same({ "close", "closed", "decrypt", "public", "sign" }, names)
    for name, v in pairs(mt) do
      if type(v) == "string" then assert.is_true(name == "__metatable" or name == "__name") end
    end
    -- the userdata carries no Lua values of its own
    local getuservalue = rawget(debug, "getuservalue")
    if getuservalue then
      local uv = getuservalue(k)
      assert.is_true(uv == nil or (type(uv) == "table" and next(uv) == nil))
    end
    -- every value a method returns is the public key, a plaintext, a signature or a flag
    assert.equal(pub, k:public())
    assert.equal(65, #k:sign(core.sha256("x")))
    k:close()
  end)

  it("is unusable after close, and close is idempotent", function()
    local k = core.tee_key()
    local blob = core.tee_encrypt(k:public(), "secret")
    k:close()
    k:close()
    assert.is_true(k:closed())
    assert.equal("venice.TeeKey (closed)", tostring(k))
    assert.error_matches(function() k:public() end, "closed")
    assert.error_matches(function() k:decrypt(blob) end, "closed")
    assert.error_matches(function() k:sign(core.sha256("x")) end, "closed")
  end)

  if _VERSION == "Lua 5.4" then
    it("is closed by a to-be-closed variable", function()
      local f = assert(load([[
        local core = ...
        local kept
        do
          local k <close> = core.tee_key()
          kept = k
        end
        return kept
      ]]))
      local k = f(core)
      assert.is_true(k:closed())
    end)
  end

  it("survives collection without a leak (valgrind checks the C side)", function()
    for _ = 1, 50 do core.tee_key() end
    collectgarbage()
    collectgarbage()
  end)
end)

describe("tee_encrypt / decrypt against python3-cryptography", function()
  it("decrypts what the reference encrypted to key:public()", function()
    local k = core.tee_key()
    for _, text in ipairs { "", "x", "Hello, enclave", ("long text "):rep(300), "\0\1\2\255" } do
      local blob = unhex(py("encrypt", hex(k:public()), hex(text) == "" and "00" or hex(text)))
      if text == "" then text = "\0" end
      assert.equal(65 + 12 + #text + 16, #blob)
      assert.equal(text, k:decrypt(blob))
    end
    k:close()
  end)

  it("encrypts so that the reference decrypts, with a fresh ephemeral key and nonce each time", function()
    local priv = scalar()
    local pub = unhex(py("pub", "secp256k1", priv))
    local a = core.tee_encrypt(pub, "the prompt")
    local b = core.tee_encrypt(pub:sub(2), "the prompt")          -- 64 bytes without 04
    assert.equal(65 + 12 + 10 + 16, #a)
    assert.equal(4, a:byte(1))
    assert.not_equal(a:sub(1, 65), b:sub(1, 65))
    assert.not_equal(a:sub(66, 77), b:sub(66, 77))
    assert.equal(hex("the prompt"), py("decrypt", priv, hex(a)))
    assert.equal(hex("the prompt"), py("decrypt", priv, hex(b)))
    local long = ("0123456789"):rep(500)
    assert.equal(hex(long), py("decrypt", priv, hex(core.tee_encrypt(pub, long))))
  end)

  it("refuses a blob changed in any part, or made for another key", function()
    local k = core.tee_key()
    local blob = unhex(py("encrypt", hex(k:public()), hex("attack at dawn")))
    for _, i in ipairs { 2, 40, 65, 66, 77, 78, #blob - 16, #blob } do
      local bad = blob:sub(1, i - 1) .. string.char((blob:byte(i) + 1) % 256) .. blob:sub(i + 1)
      local plain, why = k:decrypt(bad)
      assert.is_nil(plain)
      assert.is_string(why)
    end
    local plain, why = k:decrypt(blob:sub(1, 92))
    assert.is_nil(plain)
    assert.matches("shorter", why)
    local other = core.tee_key()
    assert.is_nil((other:decrypt(blob)))
    k:close()
    other:close()
  end)

  it("refuses a public key that is not a secp256k1 point with a ValidationError", function()
    local ok, err = pcall(core.tee_encrypt, "\4" .. ("\1"):rep(64), "x")
    assert.is_false(ok)
    assert.equal("ValidationError", err.name)
    assert.error_matches(function() core.tee_encrypt(("\4"):rep(10), "x") end, "65 bytes")
  end)

  it("names the key's own curve when a blob's ephemeral key is not one of its points", function()
    local bad = "\4" .. ("\1"):rep(64) .. ("\0"):rep(12 + 16)
    for _, curve in ipairs { "secp256k1", "P-256" } do
      local k = core.tee_key(curve)
      local plain, why = k:decrypt(bad)
      assert.is_nil(plain)
      assert.equal("the ephemeral public key is not a " .. curve .. " point", why)
      k:close()
    end
  end)
end)

describe("core.ecdsa_verify", function()
  for _, curve in ipairs { "P-256", "secp256k1" } do
    it("accepts signatures the reference made on " .. curve .. " and nothing else", function()
      local priv = scalar()
      local pub = unhex(py("pub", curve, priv))
      local d = core.sha256("a message")
      local sig = unhex(py("sign", curve, priv, hex(d)))
      assert.is_true(core.ecdsa_verify(curve, pub, d, sig))
      assert.is_true(core.ecdsa_verify(curve, pub:sub(2), d, sig))
      assert.is_false(core.ecdsa_verify(curve, pub, core.sha256("another"), sig))
      local bad = sig:sub(1, 10) .. string.char((sig:byte(11) + 1) % 256) .. sig:sub(12)
      assert.is_false(core.ecdsa_verify(curve, pub, d, bad))
      local other = unhex(py("pub", curve, scalar()))
      assert.is_false(core.ecdsa_verify(curve, other, d, sig))
      local wrong = curve == "P-256" and "secp256k1" or "P-256"
      assert.is_false(core.ecdsa_verify(wrong, pub, d, sig))
    end)
  end

  it("checks its arguments", function()
    local d = core.sha256("x")
    assert.error_matches(function() core.ecdsa_verify("P-384", ("\4"):rep(65), d, ("\1"):rep(64)) end, "P%-256")
    assert.error_matches(function() core.ecdsa_verify("P-256", ("\4"):rep(65), "short", ("\1"):rep(64)) end, "32%-byte")
    assert.error_matches(function() core.ecdsa_verify("P-256", ("\4"):rep(65), d, ("\1"):rep(63)) end, "64%-byte")
    assert.is_false(core.ecdsa_verify("P-256", "\4" .. ("\1"):rep(64), d, ("\1"):rep(64)))
  end)
end)

describe("core.secp256k1_recover", function()
  it("recovers the reference's signer with the right v, and another key with the wrong one", function()
    local priv = scalar()
    local pub = unhex(py("pub", "secp256k1", priv))
    local d = core.keccak256("\25Ethereum Signed Message:\n5hello")
    local rs = unhex(py("sign", "secp256k1", priv, hex(d)))
    local found = 0
    for v = 0, 1 do
      local q = core.secp256k1_recover(d, rs .. string.char(v))
      assert.equal(q, core.secp256k1_recover(d, rs .. string.char(v + 27)))
      if q == pub then found = found + 1 else assert.is_true(q == nil or #q == 65) end
    end
    assert.equal(1, found)
  end)

  it("returns nil for a v outside 0, 1, 27, 28 or an r or s out of range", function()
    local d = core.sha256("x")
    assert.is_nil(core.secp256k1_recover(d, ("\1"):rep(64) .. "\2"))
    assert.is_nil(core.secp256k1_recover(d, ("\1"):rep(64) .. "\29"))
    assert.is_nil(core.secp256k1_recover(d, ("\0"):rep(64) .. "\0"))
    assert.is_nil(core.secp256k1_recover(d, ("\255"):rep(64) .. "\0"))
  end)

  it("recovers key:sign's signer, whose signature the reference verifies", function()
    local k = core.tee_key()
    for i = 1, 8 do
      local d = core.sha256("message " .. i)
      local sig = k:sign(d)
      assert.equal(65, #sig)
      assert.is_true(sig:byte(65) == 0 or sig:byte(65) == 1)
      assert.equal(k:public(), core.secp256k1_recover(d, sig))
      assert.equal("ok", py("verify", "secp256k1", hex(k:public()), hex(d), hex(sig:sub(1, 64))))
    end
    k:close()
  end)
end)

describe("core.tdx_quote on hostile bytes", function()
  local function load_quote()
    local f = assert(io.open("spec/fixtures/tee/attestation_gemma_3_27b_p.json", "rb"))
    local t = core.json_decode(f:read("*a"))
    f:close()
    return core.hex_decode(t.attestation.intel_quote)
  end

  it("parses the genuine quote with Intel's offsets", function()
    local q = assert(core.tdx_quote(load_quote()))
    assert.equal(4, q.version)
    assert.equal(2, q.attestation_key_type)
    assert.equal(0x81, q.tee_type)
    assert.equal(6, q.certification_type)
    assert.equal(5, q.pck_certification_type)
    assert.equal(632, #q.signed)
    assert.equal(384, #q.qe_report)
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE", q.pck_chain)
    assert.is_true(q.padding_zero)
  end)

  it("refuses every truncation and never reads past the end (valgrind checks)", function()
    local raw = load_quote()
    for n = 0, #raw - 71, 3 do          -- the last 70 bytes are zero padding
      local q, why = core.tdx_quote(raw:sub(1, n))
      assert.is_nil(q, "length " .. n)
      assert.is_string(why)
    end
  end)

  it("survives every value of each length field", function()
    local raw = load_quote()
    local q = assert(core.tdx_quote(raw))
    local auth_at = 770 + 384 + 64
    local inner_at = auth_at + 2 + #q.qe_auth_data
    for _, at in ipairs { 632, 633, 634, 635, 764, 766, 767, 768, 769, auth_at, auth_at + 1, inner_at,
      inner_at + 2, inner_at + 3, inner_at + 4, inner_at + 5 } do
      for v = 0, 255, 5 do
        local bad = raw:sub(1, at) .. string.char(v) .. raw:sub(at + 2)
        local p, why = core.tdx_quote(bad)
        assert.is_true(p == nil and type(why) == "string" or type(p) == "table")
      end
    end
  end)
end)

describe("the X.509 functions on hostile bytes", function()
  local function read(name)
    local f = assert(io.open("spec/fixtures/tee/" .. name, "rb"))
    local s = f:read("*a")
    f:close()
    return s
  end

  it("refuse truncated, altered and foreign input with nil or false", function()
    local root = core.x509_certs(read("intel-sgx-root-ca.pem"))[1]
    local col = core.json_decode(read("collateral_gemma_3_27b_p.json"))
    local chain = core.x509_certs(col.pck_certificate_chain)
    assert.equal(3, #chain)
    for n = 0, #chain[1], 37 do
      local der = chain[1]:sub(1, n)
      assert.is_nil((core.x509_info(der)))
      local ok, why = core.x509_verify({ der, chain[2], chain[3] }, root, 1780598249)
      assert.is_false(ok)
      assert.is_string(why)
      assert.is_false(core.x509_verify_signature(der, core.sha256("x"), ("\1"):rep(64)))
    end
    assert.is_nil((core.x509_certs("no certificate here")))
    assert.is_nil((core.x509_certs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")))
    assert.is_nil((core.x509_info(chain[1] .. "\0")))       -- trailing bytes: not one certificate
    assert.is_false((core.x509_verify({ chain[1] }, root, 1780598249)))
    assert.is_false((core.x509_verify(chain, chain[1], 1780598249)))
    local ok, why = core.x509_verify(chain, root, 1780598249, { "not a CRL" })
    assert.is_false(ok)
    assert.matches("CRL", why)
    assert.is_true(core.x509_verify(chain, root, 1780598249))
    -- numbers in the lists are read as their strings, which the check keeps until it returns
    local nums = {}
    for i = 1, 16 do nums[i] = i * 1.5e300 end
    ok, why = core.x509_verify(nums, root, 1780598249, { 1.25e300 })
    assert.is_false(ok)
    assert.equal("a certificate of the chain is not valid DER", why)
    assert.has_error(function() core.x509_verify(chain, root, 0 / 0) end)
    local info = core.x509_info(chain[1])
    assert.equal(65, #info.public_key)
    assert.equal(6, #info.sgx.fmspc)
    assert.equal(16, #info.sgx.tcb)
  end)
end)
