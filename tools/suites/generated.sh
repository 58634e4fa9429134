# Generated files (sourced by tools/run-tests.sh): each generator, run with --check on the
# committed OpenAPI file (spec/fixtures/venice-openapi.yaml), finds its output up to date: the
# endpoint table and docs/endpoints.md, the LuaLS types, the local server's samples and request
# rules. `make generate` rewrites them all.
check "generated-endpoints" lua5.4 tools/gen-endpoints.lua --check
check "generated-types" lua5.4 tools/gen-types.lua --check
check "generated-mock-samples" lua5.4 tools/gen-mock-samples.lua --check
check "generated-mock-rules" lua5.4 tools/gen-mock-rules.lua --check
