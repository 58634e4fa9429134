/* json.h: the JSON codec of venice.core.
 *
 * Decoding: RFC 8259, strict. Integers that fit lua_Integer stay integers
 * (Lua 5.3+), null becomes a unique light userdata (the `null` field), empty
 * arrays get the array metatable so they encode back as [].
 * Encoding: integers exact, floats shortest round-trip (integral ones below
 * 2^53 without a fraction), '/' not escaped, UTF-8 as it is; a string or key
 * that is not valid UTF-8 (RFC 3629) is an error naming its path.
 * A table is an array if it has the array metatable (then 1..#t are written)
 * or if its keys are exactly 1..n; other tables need string keys. nil and
 * null (and a NULL light userdata) encode as null.
 * Error paths use Lua indices (1-based), e.g. "messages[2].fn".
 * Each Lua state keeps, for the decoder, a cache anchored in its registry: up to 512 of the short
 * strings (40 bytes or less) it decoded lately, and the sizes of recent objects by first key and
 * depth (about 11 KB, plus the strings). It changes no decoded value. */
#ifndef VENICE_JSON_H
#define VENICE_JSON_H

#include "venice.h"

#include <stddef.h>

/* Nothing declared here is exported from the shared object that contains it. */
#if defined(__GNUC__)
#  pragma GCC visibility push(hidden)
#endif

/* Nesting cap for both directions (also how encode reports cycles). */
#define VN_JSON_MAX_DEPTH 1000

/* Decodes s[0..len) and pushes one Lua value; returns 1.
 * On failure pushes nothing, writes a short message such as
 * "unexpected character 'x' at byte 12" into err (NUL-terminated) and returns 0. */
VN_HIDDEN int vn_json_decode(lua_State *L, const char *s, size_t len, char *err, size_t errlen);

/* Encodes the value at idx; on success pushes the JSON text and returns 1.
 * On failure pushes nothing, fills err and returns 0. Raises only on Lua
 * memory errors, and never leaks its buffer then. */
VN_HIDDEN int vn_json_encode(lua_State *L, int idx, char *err, size_t errlen);

/* Sets into the table on top of the stack: json_decode, json_encode, null,
 * array_mt and json_array. */
VN_HIDDEN void vn_json_open(lua_State *L);

#if defined(__GNUC__)
#  pragma GCC visibility pop
#endif

#endif
