# make conformance: the SDK's requests for every function, validated by Stoplight Prism against
# Venice's OpenAPI file (installs Prism into build/prism with npm when it is missing).
.PHONY: conformance
conformance: all
	@sh tools/suites/conformance.sh
