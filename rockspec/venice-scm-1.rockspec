-- LuaRocks package of venice-lua. `luarocks make rockspec/venice-scm-1.rockspec` from a checkout
-- builds venice.core (C, on libcurl) and installs the Lua modules and the two commands.
-- Every module under lua/venice is listed below (tools/suites/rocks.sh checks that).
rockspec_format = "3.0"
package = "venice"
version = "scm-1"
source = {
  url = "git+https://github.com/venice-lua/venice-lua.git",
  branch = "main",
}
description = {
  summary = "Lua SDK for the Venice AI API, with a C core on libcurl",
  detailed = [[
Chat completions with streaming, the Responses API, images, embeddings, audio, video, models,
API keys, characters, billing, augment, crypto RPC and x402, for Lua 5.1 to 5.4 and LuaJIT.
Many requests and streams at once in one Lua state, driven by libcurl's multi interface.
Also installs `venice`, a command-line client, and `venice-mock`, a local Venice-compatible
server for tests (venice-mock and the venice.mock modules need luv and lua-cjson).]],
  license = "MIT",
  homepage = "https://github.com/venice-lua/venice-lua",
  labels = { "ai", "llm", "openai", "http", "sse", "venice" },
}
dependencies = {
  "lua >= 5.1, < 5.5",
}
external_dependencies = {
  CURL = { library = "curl" },
}
build = {
  type = "builtin",
  modules = {
    ["venice.core"] = {
      -- libcurl and libcrypto are opened on first use (src/curlapi.c, src/sslapi.c): their
      -- headers are needed, not a link
      sources = { "src/core.c", "src/errors.c", "src/engine.c", "src/transfer.c", "src/curlapi.c", "src/sse.c", "src/json.c", "src/random.c",
                  "src/keccak.c", "src/sslapi.c", "src/crypto.c" },
      libraries = { "dl" },
      incdirs = { "src", "$(CURL_INCDIR)" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
    ["venice"] = "lua/venice/init.lua",
    ["venice.citations"] = "lua/venice/citations.lua",
    ["venice.client"] = "lua/venice/client.lua",
    ["venice.conversation"] = "lua/venice/conversation.lua",
    ["venice.endpoints"] = "lua/venice/endpoints.lua",
    ["venice.jobs"] = "lua/venice/jobs.lua",
    ["venice.limiter"] = "lua/venice/limiter.lua",
    ["venice.meta"] = "lua/venice/meta.lua",
    ["venice.pages"] = "lua/venice/pages.lua",
    ["venice.stream"] = "lua/venice/stream.lua",
    ["venice.tasks"] = "lua/venice/tasks.lua",
    ["venice.tools"] = "lua/venice/tools.lua",
    ["venice.upload"] = "lua/venice/upload.lua",
    ["venice.uv"] = "lua/venice/uv.lua",
    ["venice.mock"] = "lua/venice/mock.lua",
    ["venice.mock.codec"] = "lua/venice/mock/codec.lua",
    ["venice.mock.control"] = "lua/venice/mock/control.lua",
    ["venice.mock.http"] = "lua/venice/mock/http.lua",
    ["venice.mock.json"] = "lua/venice/mock/json.lua",
    ["venice.mock.kit"] = "lua/venice/mock/kit.lua",
    ["venice.mock.multipart"] = "lua/venice/mock/multipart.lua",
    ["venice.mock.respond"] = "lua/venice/mock/respond.lua",
    ["venice.mock.routes"] = "lua/venice/mock/routes.lua",
    ["venice.mock.routes.account"] = "lua/venice/mock/routes/account.lua",
    ["venice.mock.routes.audio"] = "lua/venice/mock/routes/audio.lua",
    ["venice.mock.routes.augment"] = "lua/venice/mock/routes/augment.lua",
    ["venice.mock.routes.catalog"] = "lua/venice/mock/routes/catalog.lua",
    ["venice.mock.routes.characters"] = "lua/venice/mock/routes/characters.lua",
    ["venice.mock.routes.chat"] = "lua/venice/mock/routes/chat.lua",
    ["venice.mock.routes.embeddings"] = "lua/venice/mock/routes/embeddings.lua",
    ["venice.mock.routes.images"] = "lua/venice/mock/routes/images.lua",
    ["venice.mock.routes.jobs"] = "lua/venice/mock/routes/jobs.lua",
    ["venice.mock.routes.models"] = "lua/venice/mock/routes/models.lua",
    ["venice.mock.routes.support"] = "lua/venice/mock/routes/support.lua",
    ["venice.mock.samples"] = "lua/venice/mock/samples.lua",
  },
  install = {
    bin = {
      ["venice"] = "bin/venice",
      ["venice-mock"] = "bin/venice-mock",
    },
  },
  copy_directories = { "docs", "types" },
}
