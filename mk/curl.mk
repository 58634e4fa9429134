# mk/curl.mk: the core compiled against libcurl's own declarations with its curl_easy_setopt
# type checking on (curl/typecheck-gcc.h, GCC and Clang, needs optimisation to see the checks).
# Included by the top Makefile, whose CC, WARNINGS, SRC and ALL_CFLAGS it uses.
#
#   typecheck-curl   every C file compiled with -DVN_CURL_TYPECHECK -O2 -Werror (objects only:
#                    this build checks the options' types, it is not a module to load)

TYPECHECK_DIR := build/typecheck

.PHONY: typecheck-curl

typecheck-curl:
	@mkdir -p $(TYPECHECK_DIR)
	@set -e; for f in $(SRC); do \
	  echo "$(CC) -DVN_CURL_TYPECHECK -O2 -Werror -c $$f"; \
	  $(CC) $(ALL_CFLAGS) -O2 -Werror -DVN_CURL_TYPECHECK -c -o $(TYPECHECK_DIR)/$$(basename $$f .c).o $$f; \
	done
