/* sse.h: incremental decoder for text/event-stream (Server-Sent Events).
 *
 * Pure C99, no I/O and no globals: the caller embeds a vn_sse, feeds it bytes
 * as they arrive and gets one callback per dispatched event. Parsing follows
 * the HTML standard, "Interpreting an event stream", with bytes passed through
 * as they are (no UTF-8 validation; the one BOM at the very start is dropped).
 *
 * Not thread-safe per decoder; distinct decoders are independent. The callback
 * must not call vn_sse_feed/reset/free on the decoder that is calling it:
 * return non-zero instead and act after vn_sse_feed has returned. */
#ifndef VENICE_SSE_H
#define VENICE_SSE_H

#include <stddef.h>

/* Nothing declared here is exported from the shared object that contains it. */
#if defined(__GNUC__)
#  pragma GCC visibility push(hidden)
#endif

#define VN_SSE_DEFAULT_MAX ((size_t)16 << 20)   /* 16 MiB */

enum { VN_SSE_OK = 0, VN_SSE_ETOOBIG = -1, VN_SSE_ENOMEM = -2 };

typedef struct vn_sse_event {
  const char *type; size_t type_len;   /* "message" when no event field was given */
  const char *data; size_t data_len;   /* data lines joined with '\n', final '\n' removed */
  const char *id;   size_t id_len;     /* last event id (persists across events, per the standard) */
  long retry;                          /* -1 unless this event block carried a valid retry field */
} vn_sse_event;
/* type, data and id are never NULL and are each followed by a '\0' byte (they may
 * also contain '\0' themselves, so use the lengths). A retry value too large for
 * a long is clamped to LONG_MAX. */

/* Return 0 to go on; any other value stops vn_sse_feed, which returns it.
 * Pointers valid only during the call. Use values other than VN_SSE_ETOOBIG and
 * VN_SSE_ENOMEM (e.g. positive ones) to tell them apart. */
typedef int (*vn_sse_cb)(void *ud, const vn_sse_event *ev);

/* Plain struct the caller embeds; treat the fields as private. */
typedef struct vn_sse {
  char *line;  size_t line_len, line_cap;   /* incomplete line (bytes already scanned) */
  char *data;  size_t data_len, data_cap;   /* pending data, each line followed by '\n' */
  char *type;  size_t type_len, type_cap;   /* pending event type */
  char *id;    size_t id_len, id_cap;       /* last event id */
  long retry;                               /* retry of the pending block, or -1 */
  size_t max;                               /* cap on one line and on one event's data */
  int err;                                  /* sticky error; 0 while usable */
  unsigned char bom;                        /* BOM bytes matched at the start; 3 when past it */
  unsigned char cr;                         /* last line ended with CR: a leading LF belongs to it */
} vn_sse;

/* max_size 0 means VN_SSE_DEFAULT_MAX; caps one line and one event's data.
 * Allocates nothing; buffers are grown on demand. */
void   vn_sse_init(vn_sse *d, size_t max_size);

/* Returns VN_SSE_OK, VN_SSE_ETOOBIG (a line or event larger than max_size: the
 * decoder is then dead and returns it again until reset), VN_SSE_ENOMEM (also
 * sticky: input was lost), or the callback's non-zero value. In that last case
 * the bytes of buf after the line that dispatched the event are dropped; the
 * decoder stays usable and goes on with whatever is fed next. */
int    vn_sse_feed(vn_sse *d, const char *buf, size_t len, vn_sse_cb cb, void *ud);

/* Back to the initial state (last event id, BOM check and errors included), buffers kept. */
void   vn_sse_reset(vn_sse *d);

/* Frees buffers; the struct may be init'ed again. */
void   vn_sse_free(vn_sse *d);

/* Bytes held for an incomplete line + pending data (for memory accounting). */
size_t vn_sse_buffered(const vn_sse *d);

/* 1 when a Content-Type value names text/event-stream: the media type compared without regard
 * to case, surrounding spaces and tabs ignored, any parameters after ';' allowed. 0 otherwise
 * (text/x-event-stream, text/event-streams, NULL). */
int    vn_sse_is_event_stream(const char *ctype);

#if defined(__GNUC__)
#  pragma GCC visibility pop
#endif

#endif
