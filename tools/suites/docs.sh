# Documentation (sourced by tools/run-tests.sh): every ```lua block of README.md and docs/*.md is
# run against the local server by tools/docs/run-blocks.lua (blocks marked ```lua norun aside).
counted_suite "docs-blocks" lua5.4 tools/docs/run-blocks.lua
# and once more on LuaJIT (the interpreter of Neovim and LÖVE), with the LuaJIT build of the core
counted_suite "docs-blocks-luajit" env DOCS_LUA=luajit lua5.4 tools/docs/run-blocks.lua
# the example programs, behind the same proxy (make test also runs them against the plain server)
counted_suite "examples-real-streams" sh -c 'lua5.4 tools/docs/run-blocks.lua examples/*.lua'
