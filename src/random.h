/* random.h: bytes from the operating system's entropy source, for C files of venice.core. */
#ifndef VENICE_RANDOM_H
#define VENICE_RANDOM_H

#include "venice.h"

/* Fills buf with n bytes from the OS (getrandom(2) where available, else /dev/urandom).
 * Returns 0 on success, else an errno value (buf's content is then unspecified). Never falls back
 * to a pseudo-random generator. */
VN_HIDDEN int vn_random_bytes(void *buf, size_t n);

/* Registers core.random_bytes into the module at the top of the stack. */
VN_HIDDEN void vn_random_open(lua_State *L);

#endif
