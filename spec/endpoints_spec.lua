-- spec/endpoints_spec.lua -- the operation table (lua/venice/endpoints.lua) is complete and
-- well formed. Run from the repository root: lua5.4 /usr/bin/busted spec/endpoints_spec.lua
--
-- The OpenAPI file and API.md are $VENICE_OPENAPI / $VENICE_API_MD, else the committed copies in
-- spec/fixtures/; a check fails when its file cannot be read.

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local endpoints = require "venice.endpoints"
local helpers = require "spec.helpers"

local readfile = helpers.read_file

local YAML_PATH = os.getenv("VENICE_OPENAPI") or "spec/fixtures/venice-openapi.yaml"
local API_MD_PATH = os.getenv("VENICE_API_MD") or "spec/fixtures/API.md"
local yaml_text = readfile(YAML_PATH)
local api_md = readfile(API_MD_PATH)

-- The functions API.md's table names (plus billing.usage, which the table forgets).
-- "x.stream" is provided by "x.create" when that entry has stream = true.
local API_NAMES = {
  "chat.completions.create", "chat.completions.stream",
  "responses.create",
  "images.generate", "images.generations", "images.upscale", "images.edit", "images.multi_edit",
  "images.remove_background", "images.styles",
  "embeddings.create",
  "audio.speech", "audio.transcriptions", "audio.voices", "audio.queue", "audio.quote",
  "audio.retrieve", "audio.complete",
  "video.queue", "video.quote", "video.retrieve", "video.complete", "video.transcriptions",
  "models.list", "models.traits", "models.compatibility_mapping",
  "api_keys.list", "api_keys.get", "api_keys.create", "api_keys.update", "api_keys.delete",
  "api_keys.rate_limits", "api_keys.rate_limit_logs", "api_keys.web3_key",
  "api_keys.create_web3_key",
  "characters.list", "characters.get", "characters.reviews",
  "billing.balance", "billing.usage", "billing.usage_analytics", "billing.usage_history",
  "augment.scrape", "augment.search", "augment.text_parser",
  "crypto.networks", "crypto.rpc",
  "x402.balance", "x402.top_up", "x402.transactions",
}

local POSITIONAL = {
  ["api_keys.get"] = { "id" }, ["api_keys.delete"] = { "id" },
  ["characters.get"] = { "slug" }, ["characters.reviews"] = { "slug" },
  ["crypto.rpc"] = { "network" },
  ["x402.balance"] = { "walletAddress" }, ["x402.transactions"] = { "walletAddress" },
}

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local METHODS = set { "GET", "POST", "PUT", "PATCH", "DELETE" }
local BODIES = set { "json", "multipart", "query" }
local RESULTS = set { "json", "binary", "sse", "text", "auto" }
local TYPES = set { "string", "integer", "number", "boolean", "array", "object" }
local AUTH = set { "bearer", "siwx", "none" }
local STYLES = set { "cursor", "page", "offset" }
local KNOWN = set {
  "method", "path", "args", "arg_in", "body", "body_any", "json_alt", "result", "stream",
  "required", "enums", "types", "arrays", "files", "nullable", "headers", "response_headers",
  "paginate", "auth", "deprecated", "hand_kept", "summary",
}

local function is_list_of_strings(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do
    if type(t[i]) ~= "string" or t[i] == "" then return false end
  end
  return true
end

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

local function has_name(name)
  if endpoints[name] then return true end
  local base = name:match("^(.*)%.stream$")
  local create = base and endpoints[base .. ".create"]
  return create ~= nil and create.stream == true
end

-- "METHOD /path" of every operation in the YAML, read line by line (no YAML library).
local function yaml_operations(text)
  local ops, paths = {}, {}
  local in_paths, current = false, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    if line:match("^paths:%s*$") then
      in_paths = true
    elseif in_paths and line:match("^%S") then
      in_paths = false
    elseif in_paths then
      local p = line:match("^  (/[^:]+):%s*$") or line:match("^  [\"'](/[^\"']+)[\"']:%s*$")
      if p then
        current = p
        paths[#paths + 1] = p
      else
        local m = line:match("^    (%l+):%s*$")
        if current and m and METHODS[m:upper()] then ops[#ops + 1] = m:upper() .. " " .. current end
      end
    end
  end
  return ops, paths
end

describe("venice.endpoints", function()
  it("is a table keyed by namespace.function names", function()
    assert.is_table(endpoints)
    local n = 0
    for name, e in pairs(endpoints) do
      n = n + 1
      assert.is_string(name)
      assert.truthy(name:match("^[%a_][%w_]*%.[%a_][%w_]*[%w_.]*$"), name)
      assert.falsy(name:find("..", 1, true), name)
      assert.is_table(e, name)
    end
    assert.is_true(n >= 49)
  end)

  it("has well-formed entries", function()
    for name, e in pairs(endpoints) do
      local function ok(cond, what) assert(cond, name .. ": " .. what) end
      for k in pairs(e) do ok(KNOWN[k], "unknown field " .. tostring(k)) end
      ok(METHODS[e.method], "method")
      ok(type(e.path) == "string" and e.path:sub(1, 1) == "/" and not e.path:find("%s"), "path")
      ok(is_list_of_strings(e.args), "args")
      ok(e.body == nil or BODIES[e.body], "body")
      ok(RESULTS[e.result], "result")
      ok(type(e.stream) == "boolean", "stream")
      ok(is_list_of_strings(e.required), "required")
      ok(is_list_of_strings(e.arrays), "arrays")
      ok(type(e.enums) == "table" and type(e.types) == "table", "enums/types")
      for f, values in pairs(e.enums) do
        ok(type(f) == "string" and type(values) == "table" and #values > 0, "enum " .. tostring(f))
        for _, v in ipairs(values) do
          ok(type(v) == "string" or type(v) == "number", "enum value of " .. f)
          if e.types[f] == "string" then ok(type(v) == "string", "string enum " .. f .. " has " .. tostring(v)) end
          if e.types[f] == "integer" then ok(type(v) == "number" and v % 1 == 0, "integer enum " .. f) end
        end
      end
      for f, t in pairs(e.types) do ok(type(f) == "string" and TYPES[t], "type of " .. tostring(f)) end
      for _, f in ipairs(e.arrays) do
        ok(e.types[f] == nil or e.types[f] == "array", "array " .. f .. " typed " .. tostring(e.types[f]))
      end
      for f, t in pairs(e.types) do
        if t == "array" then ok(contains(e.arrays, f), "array-typed " .. f .. " missing from arrays") end
      end
      if e.body == "multipart" then
        ok(is_list_of_strings(e.files) and #e.files > 0, "multipart without files")
      else
        ok(e.files == nil, "files on a non-multipart body")
        ok(e.json_alt == nil, "json_alt on a non-multipart body")
      end
      ok(e.json_alt == nil or e.json_alt == true, "json_alt")
      ok(e.body_any == nil or (e.body_any == true and e.body == "json"), "body_any")
      ok(e.deprecated == nil or e.deprecated == true, "deprecated")
      ok(e.nullable == nil or is_list_of_strings(e.nullable), "nullable")
      if e.body == nil then
        ok(next(e.types) == nil and #e.required == 0, "fields without a body")
      end
      if e.method == "GET" or e.method == "DELETE" then
        ok(e.body == nil or e.body == "query", "GET/DELETE with a body")
      end
      if e.stream then ok(e.body == "json" and e.types.stream == "boolean", "stream") end
      ok(is_list_of_strings(e.auth) and #e.auth > 0, "auth")
      for _, a in ipairs(e.auth) do ok(AUTH[a], "auth " .. a) end
      if e.headers ~= nil then
        ok(type(e.headers) == "table", "headers")
        for h, spec in pairs(e.headers) do
          ok(type(h) == "string" and h:match("^[%w-]+$"), "header name " .. tostring(h))
          ok(type(spec) == "table" and type(spec.required) == "boolean", "header " .. h)
        end
      end
      if e.response_headers ~= nil then
        ok(is_list_of_strings(e.response_headers), "response_headers")
        for _, h in ipairs(e.response_headers) do ok(h == h:lower(), "response header case " .. h) end
      end
      if e.paginate ~= nil then
        local p = e.paginate
        ok(STYLES[p.style], "paginate.style")
        ok(e.body == "query", "paginate without query parameters")
        ok(type(p.items_field) == "string", "paginate.items_field")
        for _, k in ipairs({ "cursor_param", "page_param", "size_param", "offset_param", "limit_param" }) do
          if p[k] ~= nil then ok(e.types[p[k]] or contains(e.arrays, p[k]) or e.enums[p[k]], "paginate." .. k) end
        end
        if p.style == "cursor" then ok(p.cursor_param and (p.cursor_field or p.cursor_header), "cursor") end
        if p.style == "page" then ok(p.page_param and p.first_page, "page") end
        if p.style == "offset" then ok(p.offset_param and p.limit_param, "offset") end
      end
      ok(type(e.summary) == "string" and e.summary ~= "" and not e.summary:find("\n"), "summary")
    end
  end)

  it("puts every positional argument in the path, or says where it goes", function()
    for name, e in pairs(endpoints) do
      for _, a in ipairs(e.args) do
        local in_path = e.path:find("{" .. a .. "}", 1, true) ~= nil
        local where = e.arg_in and e.arg_in[a]
        assert(in_path or where == "query", name .. ": argument " .. a .. " goes nowhere")
        assert(not (in_path and where), name .. ": argument " .. a .. " in two places")
      end
      for placeholder in e.path:gmatch("{([^}]+)}") do
        assert(contains(e.args, placeholder), name .. ": {" .. placeholder .. "} is not an argument")
      end
      for a in pairs(e.arg_in or {}) do
        assert(contains(e.args, a), name .. ": arg_in." .. a .. " is not an argument")
      end
    end
  end)

  it("has the positional arguments API.md gives", function()
    for name, args in pairs(POSITIONAL) do
      assert.same(args, endpoints[name].args, name)
    end
    assert.same({ id = "query" }, endpoints["api_keys.delete"].arg_in)
  end)

  it("names every function of API.md's table", function()
    for _, name in ipairs(API_NAMES) do
      assert(has_name(name), "missing " .. name)
    end
  end)

  it("names every function of API.md's table, read from API.md", function()
    assert(api_md, "API.md not found at " .. API_MD_PATH)
    local found = 0
    local in_table = false
    for line in (api_md .. "\n"):gmatch("([^\n]*)\n") do
      if line:match("^|%s*namespace%s*|") then
        in_table = true
      elseif in_table and not line:match("^|") then
        in_table = false
      elseif in_table then
        local ns, rest = line:match("^|%s*`([%w_.]+)`%s*|(.*)|%s*$")
        if ns then
          for fn in rest:gmatch("`([%a_][%w_]*)[^`]*`") do
            found = found + 1
            assert(has_name(ns .. "." .. fn), "API.md names " .. ns .. "." .. fn)
          end
        end
      end
    end
    assert.is_true(found >= 40, "parsed only " .. found .. " names from API.md")
  end)

  it("covers every operation of the OpenAPI file exactly once", function()
    assert(yaml_text, "OpenAPI file not found at " .. YAML_PATH)
    local ops, paths = yaml_operations(yaml_text)
    assert.is_true(#paths >= 45, "parsed only " .. #paths .. " paths")
    local have = {}
    local count = 0
    for name, e in pairs(endpoints) do
      local k = e.method .. " " .. e.path
      assert(not have[k], k .. " appears twice (" .. name .. ", " .. tostring(have[k]) .. ")")
      if not e.hand_kept then   -- the operations outside the YAML (the /tee/ paths) are hand-kept
        have[k] = name
        count = count + 1
      end
    end
    local want = set(ops)
    for _, op in ipairs(ops) do assert(have[op], "no entry for " .. op) end
    for k, name in pairs(have) do assert(want[k], name .. ": " .. k .. " is not in the YAML") end
    for _, p in ipairs(paths) do
      local any = false
      for _, e in pairs(endpoints) do if e.path == p then any = true end end
      assert(any, "no entry for path " .. p)
    end
    assert.equal(#ops, count)
  end)

  it("records what the YAML says about a few tricky operations", function()
    local e = endpoints
    -- the operations outside the YAML, hand-kept in tools/endpoint-overrides.lua
    assert.is_true(e["tee.attestation"].hand_kept)
    assert.same({ "model", "nonce" }, e["tee.attestation"].required)
    assert.equal("/tee/signature", e["tee.signature"].path)
    assert.equal("POST", e["chat.completions.create"].method)
    assert.is_true(e["chat.completions.create"].stream)
    assert.same({ "messages", "model" }, e["chat.completions.create"].required)
    assert.equal("auto", e["images.generate"].result)
    assert.equal("binary", e["audio.speech"].result)
    assert.equal("auto", e["billing.usage_history"].result)
    assert.equal("multipart", e["images.upscale"].body)
    assert.is_true(e["images.upscale"].json_alt)
    assert.same({ "image" }, e["images.upscale"].files)
    assert.same({ "file" }, e["audio.transcriptions"].files)
    assert.equal("PATCH", e["api_keys.update"].method)
    assert.same({ "id" }, e["api_keys.update"].required)
    assert.is_true(e["billing.usage"].deprecated)
    assert.equal("cursor", e["billing.usage_history"].paginate.style)
    assert.equal("page", e["characters.reviews"].paginate.style)
    assert.is_true(e["crypto.rpc"].body_any)
    -- YAML 1.1 would read 16:9 as a base-60 number
    assert.is_true(contains(e["video.queue"].enums.aspect_ratio, "16:9"))
  end)

  it("is what the generator makes of the OpenAPI file", function()
    assert(yaml_text, "OpenAPI file not found at " .. YAML_PATH)
    local p = io.popen("lua5.4 tools/gen-endpoints.lua --check '" .. YAML_PATH .. "' 2>&1; echo rc=$?")
    local out = p:read("*a")
    p:close()
    assert(out:match("rc=0%s*$"), out)
  end)
end)
