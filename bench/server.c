/* server.c: the benchmark's HTTP/1.1 server, fast enough never to be the bottleneck.
 *
 *   server [-p PORT] [-f PORT_FILE] [-n CHUNKS]
 *
 * One thread, epoll, keep-alive, pipelining. Listens on 127.0.0.1 only; PORT 0 (the default)
 * picks a free port, written to PORT_FILE and to stdout.
 *
 *   POST .../chat/completions   a canned chat.completion (JSON), or, when the body asks for
 *                               "stream": true, an SSE stream of CHUNKS identical chunk events
 *                               followed by "data: [DONE]"
 *   GET  .../chunk              the JSON of one chunk event (for the decode-only baseline)
 *   GET  /health                "ok"
 *
 * Segments /n<COUNT> and /d<MS> anywhere in the path set, for that request, the number of chunks
 * and a delay between chunks: base_url http://127.0.0.1:PORT/n50/d10/api/v1 gives 50 chunks,
 * 10 ms apart. Every response has a Content-Length; "Connection: close" is honoured. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1 << 20)
#define FILL_BYTES (64 * 1024)

static const char COMPLETION[] =
  "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,"
  "\"model\":\"llama-3.3-70b\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
  "\"content\":\"Hello! How can I help you today?\",\"reasoning_content\":null,\"tool_calls\":[]},"
  "\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":null}],"
  "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":9,\"total_tokens\":21},"
  "\"venice_parameters\":{\"include_venice_system_prompt\":true,\"web_search_citations\":[]}}";

static const char CHUNK[] =
  "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
  "\"model\":\"llama-3.3-70b\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word \"},"
  "\"logprobs\":null,\"finish_reason\":null}]}";

static const char DONE_EVENT[] = "data: [DONE]\n\n";

static char *event;       /* "data: " CHUNK "\n\n" */
static size_t event_len;
static long default_chunks = 100;

typedef struct conn {
  int fd;
  char *in;
  size_t in_len, in_cap;
  char *out;
  size_t out_len, out_off, out_cap;
  long chunks_left;       /* of the stream being sent; -1 when none */
  long delay_ms;
  double next_at;         /* when the next delayed chunk is due */
  int close_after;        /* close once the current response is out */
  int want_write;         /* EPOLLOUT registered */
  struct conn *dnext, *dprev;   /* on the list of delayed streams */
  int delayed;
  int sent_continue;      /* "100 Continue" already sent for the request being received */
} conn;

static int ep;
static conn *delayed_head;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int out_reserve(conn *c, size_t n) {
  if (c->out_off > 0 && c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_len + n > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    char *p;
    if (c->out_off > 0) {   /* slide the unsent part to the front first */
      memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    while (cap < c->out_len + n) cap *= 2;
    if (cap != c->out_cap) {
      p = realloc(c->out, cap);
      if (!p) return -1;
      c->out = p;
      c->out_cap = cap;
    }
  }
  return 0;
}

static int out_put(conn *c, const char *s, size_t n) {
  if (out_reserve(c, n)) return -1;
  memcpy(c->out + c->out_len, s, n);
  c->out_len += n;
  return 0;
}

static void delayed_add(conn *c) {
  if (c->delayed) return;
  c->delayed = 1;
  c->dprev = NULL;
  c->dnext = delayed_head;
  if (delayed_head) delayed_head->dprev = c;
  delayed_head = c;
}

static void delayed_remove(conn *c) {
  if (!c->delayed) return;
  c->delayed = 0;
  if (c->dprev) c->dprev->dnext = c->dnext; else delayed_head = c->dnext;
  if (c->dnext) c->dnext->dprev = c->dprev;
  c->dnext = c->dprev = NULL;
}

static void conn_close(conn *c) {
  delayed_remove(c);
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

static void set_write_interest(conn *c, int on) {
  struct epoll_event ev;
  if (c->want_write == on) return;
  c->want_write = on;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
  ev.data.ptr = c;
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Appends the stream's next events to the output: as many as fit in FILL_BYTES, or one when the
 * stream is delayed; [DONE] after the last. */
static int fill_stream(conn *c) {
  long n = c->delay_ms > 0 ? 1 : (long)(FILL_BYTES / event_len) + 1;
  if (c->chunks_left < 0) return 0;
  if (n > c->chunks_left) n = c->chunks_left;
  if (out_reserve(c, (size_t)n * event_len + sizeof DONE_EVENT)) return -1;
  for (long i = 0; i < n; i++) {
    memcpy(c->out + c->out_len, event, event_len);
    c->out_len += event_len;
  }
  c->chunks_left -= n;
  if (c->chunks_left == 0) {
    memcpy(c->out + c->out_len, DONE_EVENT, sizeof DONE_EVENT - 1);
    c->out_len += sizeof DONE_EVENT - 1;
    c->chunks_left = -1;
  }
  return 0;
}

static int handle_requests(conn *c);

/* Writes what is pending; refills undelayed streams. 0 = keep going, -1 = connection closed. */
static int flush(conn *c) {
  for (;;) {
    while (c->out_off < c->out_len) {
      ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_write_interest(c, 1);
          return 0;
        }
        conn_close(c);
        return -1;
      }
      c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    if (c->chunks_left >= 0) {
      if (c->delay_ms > 0) {   /* the timer sends the next one */
        set_write_interest(c, 0);
        return 0;
      }
      if (fill_stream(c)) {
        conn_close(c);
        return -1;
      }
      continue;
    }
    set_write_interest(c, 0);
    if (c->close_after) {
      conn_close(c);
      return -1;
    }
    /* the response is out: serve a pipelined request already received */
    if (c->in_len > 0) return handle_requests(c);
    return 0;
  }
}

static long path_param(const char *path, size_t plen, char key, long dflt) {
  size_t i;
  for (i = 0; i + 2 < plen; i++) {
    if (path[i] == '/' && path[i + 1] == key && path[i + 2] >= '0' && path[i + 2] <= '9') {
      long v = 0;
      size_t j = i + 2;
      while (j < plen && path[j] >= '0' && path[j] <= '9') v = v * 10 + (path[j++] - '0');
      if (j == plen || path[j] == '/' || path[j] == '?') return v;
    }
  }
  return dflt;
}

static int ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Whether a JSON body sets "stream" to true (any spacing). */
static int wants_stream(const char *b, size_t n) {
  const char *p = b, *end = b + n;
  while ((p = memmem(p, (size_t)(end - p), "\"stream\"", 8)) != NULL) {
    p += 8;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (p < end && *p == ':') {
      p++;
      while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
      if (end - p >= 4 && memcmp(p, "true", 4) == 0) return 1;
    }
  }
  return 0;
}

static int respond(conn *c, int status, const char *ctype, const char *body, size_t blen) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                   "x-request-id: bench\r\n%s\r\n",
                   status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request",
                   ctype, blen, c->close_after ? "Connection: close\r\n" : "");
  if (out_put(c, head, (size_t)n) || out_put(c, body, blen)) return -1;
  return 0;
}

static int start_stream(conn *c, long chunks, long delay) {
  char head[512];
  size_t total = (size_t)chunks * event_len + sizeof DONE_EVENT - 1;
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                   "Cache-Control: no-cache\r\nContent-Length: %zu\r\nx-request-id: bench\r\n%s\r\n",
                   total, c->close_after ? "Connection: close\r\n" : "");
  if (out_put(c, head, (size_t)n)) return -1;
  c->chunks_left = chunks;
  c->delay_ms = delay;
  if (delay > 0) {
    c->next_at = now_ms() + (double)delay;
    delayed_add(c);
    if (chunks == 0) return fill_stream(c);
    return 0;
  }
  return fill_stream(c);
}

/* Parses and answers every complete request in the input buffer, one response at a time.
 * 0 = keep going, -1 = connection closed. */
static int handle_requests(conn *c) {
  while (c->chunks_left < 0 && c->out_len == c->out_off && !c->close_after) {
    char *hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    char *line_end, *sp1, *sp2, *p;
    size_t head_len, body_len = 0, consumed;
    int expect100 = 0, close_req = 0, http10 = 0, rc;
    const char *method, *path;
    size_t mlen, plen;
    if (!hend) {
      if (c->in_len > MAX_REQUEST) { conn_close(c); return -1; }
      return 0;
    }
    head_len = (size_t)(hend - c->in) + 4;
    line_end = memmem(c->in, head_len, "\r\n", 2);
    sp1 = memchr(c->in, ' ', (size_t)(line_end - c->in));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2) { conn_close(c); return -1; }
    method = c->in; mlen = (size_t)(sp1 - c->in);
    path = sp1 + 1; plen = (size_t)(sp2 - sp1 - 1);
    http10 = (size_t)(line_end - sp2 - 1) == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
    for (p = line_end + 2; p < hend; ) {
      char *e = memmem(p, (size_t)(hend + 2 - p), "\r\n", 2);
      size_t l = (size_t)(e - p);
      if (l > 15 && strncasecmp(p, "content-length:", 15) == 0) body_len = strtoul(p + 15, NULL, 10);
      else if (l > 7 && strncasecmp(p, "expect:", 7) == 0 && memmem(p, l, "100", 3)) expect100 = 1;
      else if (l > 11 && strncasecmp(p, "connection:", 11) == 0) {
        if (memmem(p, l, "close", 5) || memmem(p, l, "Close", 5)) close_req = 1;
        if (memmem(p, l, "keep-alive", 10) || memmem(p, l, "Keep-Alive", 10)) http10 = 0;
      }
      p = e + 2;
    }
    if (head_len + body_len > MAX_REQUEST) { conn_close(c); return -1; }
    if (c->in_len < head_len + body_len) {
      if (expect100 && !c->sent_continue) {   /* ask once for the body */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->sent_continue = 1;
        if (out_put(c, cont, sizeof cont - 1)) { conn_close(c); return -1; }
        return flush(c);
      }
      return 0;
    }
    c->sent_continue = 0;
    c->close_after = close_req || http10;
    if (mlen == 4 && memcmp(method, "POST", 4) == 0 && (ends_with(path, plen, "/chat/completions") ||
        memmem(path, plen, "/chat/completions?", 18))) {
      const char *body = c->in + head_len;
      if (wants_stream(body, body_len))
        rc = start_stream(c, path_param(path, plen, 'n', default_chunks), path_param(path, plen, 'd', 0));
      else
        rc = respond(c, 200, "application/json", COMPLETION, sizeof COMPLETION - 1);
    } else if (mlen == 3 && memcmp(method, "GET", 3) == 0 && ends_with(path, plen, "/chunk")) {
      rc = respond(c, 200, "application/json", CHUNK, sizeof CHUNK - 1);
    } else if (mlen == 3 && memcmp(method, "GET", 3) == 0 && ends_with(path, plen, "/health")) {
      rc = respond(c, 200, "text/plain", "ok", 2);
    } else {
      static const char nf[] = "{\"error\":\"not found\"}";
      rc = respond(c, 404, "application/json", nf, sizeof nf - 1);
    }
    consumed = head_len + body_len;
    memmove(c->in, c->in + consumed, c->in_len - consumed);
    c->in_len -= consumed;
    if (rc) { conn_close(c); return -1; }
    if (flush(c)) return -1;
  }
  return 0;
}

static int on_readable(conn *c) {
  for (;;) {
    ssize_t r;
    if (c->in_cap - c->in_len < 4096) {
      size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
      char *p = realloc(c->in, cap);
      if (!p) { conn_close(c); return -1; }
      c->in = p;
      c->in_cap = cap;
    }
    r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r == 0) { conn_close(c); return -1; }
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      conn_close(c);
      return -1;
    }
    c->in_len += (size_t)r;
    if (c->in_len > MAX_REQUEST + 4096) { conn_close(c); return -1; }
  }
  return handle_requests(c);
}

static void accept_all(int lfd) {
  for (;;) {
    struct epoll_event ev;
    int one = 1;
    conn *c;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;   /* EAGAIN, or out of descriptors: try again on the next event */
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = calloc(1, sizeof *c);
    if (!c) { close(fd); continue; }
    c->fd = fd;
    c->chunks_left = -1;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) { close(fd); free(c); }
  }
}

/* Sends the delayed chunks that are due; returns ms until the next one (-1 when none). */
static int run_timers(void) {
  double now = now_ms(), next = -1;
  conn *c = delayed_head, *n;
  for (; c; c = n) {
    n = c->dnext;
    if (c->chunks_left < 0) { delayed_remove(c); continue; }
    if (c->next_at <= now) {
      c->next_at += (double)c->delay_ms;
      if (c->next_at < now) c->next_at = now + (double)c->delay_ms;
      if (fill_stream(c)) { conn_close(c); continue; }
      if (c->chunks_left < 0) delayed_remove(c);
      if (flush(c)) continue;
      if (!c->delayed) continue;
    }
    if (next < 0 || c->next_at - now < next) next = c->next_at - now;
  }
  if (next < 0) return -1;
  return (int)next + 1;
}

int main(int argc, char **argv) {
  int port = 0, lfd, one = 1, i;
  const char *port_file = NULL;
  struct sockaddr_in addr;
  socklen_t alen = sizeof addr;
  struct epoll_event ev, evs[256];
  static int listen_tag;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) port = atoi(argv[++i]);
    else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) port_file = argv[++i];
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) default_chunks = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [-p PORT] [-f PORT_FILE] [-n CHUNKS]\n", argv[0]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  event_len = 6 + sizeof CHUNK - 1 + 2;
  event = malloc(event_len + 1);
  if (!event) die("malloc");
  snprintf(event, event_len + 1, "data: %s\n\n", CHUNK);

  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((unsigned short)port);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr)) die("bind");
  if (listen(lfd, 1024)) die("listen");
  if (getsockname(lfd, (struct sockaddr *)&addr, &alen)) die("getsockname");
  port = ntohs(addr.sin_port);
  printf("%d\n", port);
  fflush(stdout);
  if (port_file) {
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    f = fopen(tmp, "w");
    if (!f) die(tmp);
    fprintf(f, "%d\n", port);
    fclose(f);
    if (rename(tmp, port_file)) die("rename");
  }

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.ptr = &listen_tag;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) die("epoll_ctl");

  for (;;) {
    int timeout = run_timers();
    int n = epoll_wait(ep, evs, 256, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (i = 0; i < n; i++) {
      conn *c;   /* epoll names each descriptor once per batch */
      if (evs[i].data.ptr == &listen_tag) { accept_all(lfd); continue; }
      c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLERR | EPOLLHUP)) { conn_close(c); continue; }
      if ((evs[i].events & EPOLLOUT) && flush(c)) continue;
      if (evs[i].events & EPOLLIN) on_readable(c);
    }
  }
}
