# Documentation (sourced by tools/run-tests.sh): every ```lua block of README.md and docs/*.md is
# run against the local server by tools/docs/run-blocks.lua (blocks marked ```lua norun aside).
counted_suite "docs-blocks" lua5.4 tools/docs/run-blocks.lua
