# Neovim (sourced by tools/run-tests.sh): spec/nvim/stream_test.lua in a headless Neovim with the
# LuaJIT build of the core: Neovim's own loop drives the requests (venice.use_uv(vim.loop)), a
# 10 ms timer keeps ticking during a stream, callbacks run outside fast-event context, a cancel
# closes the connection, and the example plugin's :VeniceAsk / :VeniceCancel work. The script
# has its own 20 s watchdog; `timeout` bounds the whole run anyway. Skipped without nvim.

nvim_headless_test() {
  if [ ! -f build/jit/venice/core.so ]; then
    echo "build/jit/venice/core.so is missing: make LUA_VERSION=jit"
    return 1
  fi
  timeout 60 nvim --headless -u NONE -i NONE -c "luafile spec/nvim/stream_test.lua" </dev/null
}

if command -v nvim >/dev/null 2>&1; then
  counted_suite "nvim-headless" nvim_headless_test
else
  echo "nvim-headless: skipped, Neovim is not installed (apt-get install neovim)"
fi
