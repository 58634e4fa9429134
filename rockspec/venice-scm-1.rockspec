rockspec_format = "3.0"
package = "venice"
version = "scm-1"
source = {
  url = "git+https://github.com/venice-lua/venice-lua.git",
}
description = {
  summary = "Lua SDK for the Venice AI API, with a C core on libcurl",
  detailed = [[
Chat completions with streaming, the Responses API, images, embeddings, audio, video, models,
API keys, characters, billing, augment, crypto RPC and x402, for Lua 5.1 to 5.4 and LuaJIT.
Many requests and streams at once in one Lua state, driven by libcurl's multi interface.]],
  license = "MIT",
  homepage = "https://github.com/venice-lua/venice-lua",
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
      sources = { "src/core.c", "src/errors.c", "src/transfer.c", "src/sse.c", "src/json.c" },
      libraries = { "curl" },
      incdirs = { "src", "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
    ["venice"] = "lua/venice/init.lua",
    ["venice.client"] = "lua/venice/client.lua",
    ["venice.endpoints"] = "lua/venice/endpoints.lua",
    ["venice.meta"] = "lua/venice/meta.lua",
    ["venice.stream"] = "lua/venice/stream.lua",
    ["venice.tasks"] = "lua/venice/tasks.lua",
  },
  install = {
    bin = { "bin/venice-mock" },
  },
}
