-- LuaRocks package of the local Venice-compatible server of venice-lua (tests and demos).
-- `luarocks make rockspec/venice-mock-scm-1.rockspec` from a checkout installs the venice.mock
-- modules and the `venice-mock` command. Every module under mock/lua is listed below
-- (tools/suites/rocks.sh checks that).
rockspec_format = "3.0"
package = "venice-mock"
version = "scm-1"
source = {
  url = "git+https://github.com/venice-lua/venice-lua.git",
  branch = "main",
}
description = {
  summary = "A local Venice-compatible HTTP server with fault injection, for tests of venice-lua",
  detailed = [[
Answers every operation of Venice's OpenAPI file on 127.0.0.1, checks each request against the
rules generated from that file (required fields, types, enum values, credentials), streams chat
completions, and injects faults (statuses, delays, resets, stalls, truncated bodies) on request.
Control routes under /_mock/ record the requests it received.]],
  license = "MIT",
  homepage = "https://github.com/venice-lua/venice-lua",
  labels = { "testing", "mock", "http", "venice" },
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "venice",
  "luv",
  "lua-cjson",
}
build = {
  type = "builtin",
  modules = {
    ["venice.mock"] = "mock/lua/venice/mock.lua",
    ["venice.mock.codec"] = "mock/lua/venice/mock/codec.lua",
    ["venice.mock.control"] = "mock/lua/venice/mock/control.lua",
    ["venice.mock.enclave"] = "mock/lua/venice/mock/enclave.lua",
    ["venice.mock.http"] = "mock/lua/venice/mock/http.lua",
    ["venice.mock.json"] = "mock/lua/venice/mock/json.lua",
    ["venice.mock.kit"] = "mock/lua/venice/mock/kit.lua",
    ["venice.mock.multipart"] = "mock/lua/venice/mock/multipart.lua",
    ["venice.mock.respond"] = "mock/lua/venice/mock/respond.lua",
    ["venice.mock.routes"] = "mock/lua/venice/mock/routes.lua",
    ["venice.mock.routes.account"] = "mock/lua/venice/mock/routes/account.lua",
    ["venice.mock.routes.audio"] = "mock/lua/venice/mock/routes/audio.lua",
    ["venice.mock.routes.augment"] = "mock/lua/venice/mock/routes/augment.lua",
    ["venice.mock.routes.catalog"] = "mock/lua/venice/mock/routes/catalog.lua",
    ["venice.mock.routes.characters"] = "mock/lua/venice/mock/routes/characters.lua",
    ["venice.mock.routes.chat"] = "mock/lua/venice/mock/routes/chat.lua",
    ["venice.mock.routes.embeddings"] = "mock/lua/venice/mock/routes/embeddings.lua",
    ["venice.mock.routes.images"] = "mock/lua/venice/mock/routes/images.lua",
    ["venice.mock.routes.jobs"] = "mock/lua/venice/mock/routes/jobs.lua",
    ["venice.mock.routes.models"] = "mock/lua/venice/mock/routes/models.lua",
    ["venice.mock.routes.support"] = "mock/lua/venice/mock/routes/support.lua",
    ["venice.mock.routes.tee"] = "mock/lua/venice/mock/routes/tee.lua",
    ["venice.mock.rules"] = "mock/lua/venice/mock/rules.lua",
    ["venice.mock.samples"] = "mock/lua/venice/mock/samples.lua",
  },
  install = {
    bin = {
      ["venice-mock"] = "mock/bin/venice-mock",
    },
  },
}
