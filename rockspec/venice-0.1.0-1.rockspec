-- LuaRocks package of venice-lua. `luarocks make rockspec/venice-0.1.0-1.rockspec` from a checkout
-- builds venice.core (C, on libcurl) and installs the Lua modules and the `venice` command.
-- Every module under lua/venice is listed below (tools/suites/rocks.sh checks that).
rockspec_format = "3.0"
package = "venice"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/venice-lua/venice-lua.git",
  tag = "v0.1.0",
}
description = {
  summary = "Lua SDK for the Venice AI API, with a C core on libcurl",
  detailed = [[
Chat completions with streaming, the Responses API, images, embeddings, audio, video, models,
API keys, characters, billing, augment, crypto RPC and x402, for Lua 5.1 to 5.4 and LuaJIT.
Many requests and streams at once in one Lua state, driven by libcurl's multi interface.
Also installs `venice`, a command-line client. The local Venice-compatible server for tests
(`venice-mock`) is a rock of its own: rockspec/venice-mock-scm-1.rockspec.]],
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
                  "src/keccak.c", "src/sslapi.c", "src/crypto.c", "src/base64.c", "src/tdx.c" },
      libraries = { "dl" },
      incdirs = { "src", "$(CURL_INCDIR)" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
    ["venice"] = "lua/venice/init.lua",
    ["venice.citations"] = "lua/venice/citations.lua",
    ["venice.client"] = "lua/venice/client.lua",
    ["venice.conversation"] = "lua/venice/conversation.lua",
    ["venice.endpoints"] = "lua/venice/endpoints.lua",
    ["venice.images"] = "lua/venice/images.lua",
    ["venice.jobs"] = "lua/venice/jobs.lua",
    ["venice.limiter"] = "lua/venice/limiter.lua",
    ["venice.meta"] = "lua/venice/meta.lua",
    ["venice.options"] = "lua/venice/options.lua",
    ["venice.pages"] = "lua/venice/pages.lua",
    ["venice.request"] = "lua/venice/request.lua",
    ["venice.responses"] = "lua/venice/responses.lua",
    ["venice.retry"] = "lua/venice/retry.lua",
    ["venice.stream"] = "lua/venice/stream.lua",
    ["venice.tasks"] = "lua/venice/tasks.lua",
    ["venice.tee"] = "lua/venice/tee.lua",
    ["venice.tee_verify"] = "lua/venice/tee_verify.lua",
    ["venice.tools"] = "lua/venice/tools.lua",
    ["venice.upload"] = "lua/venice/upload.lua",
    ["venice.uv"] = "lua/venice/uv.lua",
    ["venice.warnings"] = "lua/venice/warnings.lua",
  },
  install = {
    bin = {
      ["venice"] = "bin/venice",
    },
  },
  copy_directories = { "docs", "types" },
}
