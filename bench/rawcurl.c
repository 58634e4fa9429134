/* rawcurl.c: the floor the benchmark compares against, plain libcurl with nothing on top.
 *
 *   rawcurl seq N BASE_URL        N chat completions on one reused easy handle (keep-alive, one
 *                                 header list), each body kept in one reused buffer
 *   rawcurl stream BASE_URL [WARM_URL]  one streamed chat completion, counting events ("\n\n")
 *   rawcurl multi K BASE_URL      K streams at once on one multi handle, counting events
 *   rawcurl spawn N BASE_URL      N completions, each by a new `curl` process (fork + exec, no
 *                                 shell, its stdout read through a pipe), as editor plugins do
 *   rawcurl first N BASE_URL      the time to the first event of a stream: N = 0 on a fresh
 *                                 handle, else the median of N streams on a warm one
 *
 * Over HTTPS, BENCH_CA names the CA file and BENCH_HTTP ("1.1" or "2") the HTTP version.
 *
 * Prints "seconds=S ..." on one line: wall time of the work alone, after one untimed warm-up
 * request for seq and stream. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char BODY[] =
  "{\"model\":\"llama-3.3-70b\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}";
static const char STREAM_BODY[] =
  "{\"model\":\"llama-3.3-70b\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"stream\":true}";

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_children(void) {
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

typedef struct { char *p; size_t len, cap; } buf;

static size_t keep(char *p, size_t size, size_t nmemb, void *ud) {
  buf *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) return 0;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return n;
}

typedef struct { long events; char last; double first_at; } counter;

static double now(void);

static size_t count_events(char *p, size_t size, size_t nmemb, void *ud) {
  counter *c = ud;
  size_t n = size * nmemb, i;
  char last = c->last;
  for (i = 0; i < n; i++) {
    if (p[i] == '\n' && last == '\n' && c->events++ == 0) c->first_at = now();
    last = p[i];
  }
  c->last = last;
  return n;
}

/* Over HTTPS: BENCH_CA names the CA file to trust, BENCH_HTTP "1.1" or "2" the HTTP version
 * (default: libcurl's, HTTP/2 when the server offers it). Every handle takes the same settings. */
static void tls_opts(CURL *c) {
  const char *ca = getenv("BENCH_CA"), *v = getenv("BENCH_HTTP");
  if (ca && *ca) curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  if (v && strcmp(v, "1.1") == 0) curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  if (v && strcmp(v, "2") == 0) curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  if (ca && *ca) curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);   /* over TLS: ALPN tells at once */
}

static struct curl_slist *headers(void) {
  struct curl_slist *h = NULL;
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Authorization: Bearer bench-key");
  h = curl_slist_append(h, "Accept: application/json");
  return h;
}

static void fail(const char *what, CURLcode rc) {
  fprintf(stderr, "rawcurl: %s: %s\n", what, curl_easy_strerror(rc));
  exit(1);
}

static int run_seq(long n, const char *url) {
  CURL *c = curl_easy_init();
  struct curl_slist *h = headers();
  buf b = { NULL, 0, 0 };
  double t0, c0;
  long i, status = 0;
  CURLcode rc;
  curl_easy_setopt(c, CURLOPT_URL, url);
  tls_opts(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, BODY);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(sizeof BODY - 1));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  if ((rc = curl_easy_perform(c)) != CURLE_OK) fail("warm-up", rc);
  t0 = now();
  c0 = cpu();
  for (i = 0; i < n; i++) {
    b.len = 0;
    if ((rc = curl_easy_perform(c)) != CURLE_OK) fail("request", rc);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  printf("seconds=%.6f cpu_seconds=%.6f requests=%ld status=%ld bytes=%zu peak_rss_kib=%ld\n", now() - t0,
         cpu() - c0, n, status, b.len, peak_rss_kib());
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(b.p);
  return status == 200 ? 0 : 1;
}

static CURL *stream_handle(const char *url, struct curl_slist *h, counter *cnt) {
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  tls_opts(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, STREAM_BODY);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(sizeof STREAM_BODY - 1));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_events);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, cnt);
  return c;
}

static int run_stream(const char *url, const char *warm_url) {
  struct curl_slist *h = headers();
  counter cnt = { 0, 0, 0 };
  CURL *c = stream_handle(warm_url, h, &cnt);
  double t0, c0;
  CURLcode rc;
  if ((rc = curl_easy_perform(c)) != CURLE_OK) fail("warm-up", rc);
  cnt.events = 0;
  cnt.last = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  t0 = now();
  c0 = cpu();
  if ((rc = curl_easy_perform(c)) != CURLE_OK) fail("stream", rc);
  {
    double s = now() - t0;
    printf("seconds=%.6f cpu_seconds=%.6f events=%ld per_second=%.0f peak_rss_kib=%ld\n", s, cpu() - c0,
           cnt.events, (double)cnt.events / s, peak_rss_kib());
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return 0;
}

static int run_multi(long k, const char *url) {
  struct curl_slist *h = headers();
  CURLM *m = curl_multi_init();
  counter *cnt = calloc((size_t)k, sizeof *cnt);
  CURL **hs = calloc((size_t)k, sizeof *hs);
  double t0 = now(), c0 = cpu();
  long i, events = 0, failed = 0;
  int running = 1;
  CURLMsg *msg;
  int left;
  /* over TLS: as many streams on a connection as the server allows (libcurl's own cap is 100;
   * past it each further stream opens a connection of its own) */
  if (getenv("BENCH_CA") && *getenv("BENCH_CA")) curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
  for (i = 0; i < k; i++) {
    hs[i] = stream_handle(url, h, &cnt[i]);
    curl_multi_add_handle(m, hs[i]);
  }
  while (running) {
    curl_multi_perform(m, &running);
    if (running) curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  while ((msg = curl_multi_info_read(m, &left)) != NULL)
    if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK) failed++;
  for (i = 0; i < k; i++) {
    events += cnt[i].events;
    curl_multi_remove_handle(m, hs[i]);
    curl_easy_cleanup(hs[i]);
  }
  printf("seconds=%.6f cpu_seconds=%.6f streams=%ld events=%ld failed=%ld peak_rss_kib=%ld\n", now() - t0,
         cpu() - c0, k, events, failed, peak_rss_kib());
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
  free(cnt);
  free(hs);
  return failed ? 1 : 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The time to the first event of a stream: on a fresh handle (n = 0: connection and handshake
 * included), or the median of n streams on one warm handle. */
static int run_first(long n, const char *url) {
  struct curl_slist *h = headers();
  counter cnt = { 0, 0, 0 };
  CURL *c = stream_handle(url, h, &cnt);
  double *t = calloc((size_t)(n > 0 ? n : 1), sizeof *t), t0, c0 = cpu();
  long i, k = n > 0 ? n : 1;
  CURLcode rc;
  if (n > 0 && (rc = curl_easy_perform(c)) != CURLE_OK) fail("warm-up", rc);
  for (i = 0; i < k; i++) {
    cnt.events = 0;
    cnt.last = 0;
    t0 = now();
    if ((rc = curl_easy_perform(c)) != CURLE_OK) fail("stream", rc);
    t[i] = cnt.first_at - t0;
  }
  qsort(t, (size_t)k, sizeof *t, cmp_double);
  printf("seconds=%.6f cpu_seconds=%.6f streams=%ld events=%ld\n", t[k / 2], cpu() - c0, k, cnt.events);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(t);
  return 0;
}

static int run_spawn(long n, const char *url) {
  double t0 = now(), c0 = cpu() + cpu_children();
  long i, bytes = 0;
  const char *ca = getenv("BENCH_CA"), *v = getenv("BENCH_HTTP");
  char *argv[] = { "curl", "-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/json",
                   "-H", "Authorization: Bearer bench-key", "-H", "Accept: application/json",
                   "--data-binary", (char *)BODY, (char *)url, NULL, NULL, NULL, NULL };
  int a = 14;
  if (ca && *ca) {
    argv[a++] = "--cacert";
    argv[a++] = (char *)ca;
  }
  if (v && strcmp(v, "1.1") == 0) argv[a++] = "--http1.1";
  else if (v && strcmp(v, "2") == 0) argv[a++] = "--http2";
  for (i = 0; i < n; i++) {
    int fds[2], status;
    pid_t pid;
    char tmp[8192];
    ssize_t r;
    if (pipe(fds)) { perror("pipe"); return 1; }
    pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execvp("curl", argv);
      _exit(127);
    }
    close(fds[1]);
    while ((r = read(fds[0], tmp, sizeof tmp)) > 0) bytes += r;
    close(fds[0]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "rawcurl: the curl process failed\n");
      return 1;
    }
  }
  printf("seconds=%.6f cpu_seconds=%.6f requests=%ld bytes=%ld\n", now() - t0, cpu() + cpu_children() - c0, n,
         bytes);
  return 0;
}

int main(int argc, char **argv) {
  char url[2048];
  int rc;
  if (argc < 3) goto usage;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (strcmp(argv[1], "stream") == 0) {
    char warm[2048];
    snprintf(url, sizeof url, "%s/chat/completions", argv[2]);
    /* the warm-up stream is short: same path with /n10 in front of /api */
    snprintf(warm, sizeof warm, "%s/chat/completions", argv[argc > 3 ? 3 : 2]);
    rc = run_stream(url, warm);
  } else if (argc >= 4) {
    long n = atol(argv[2]);
    snprintf(url, sizeof url, "%s/chat/completions", argv[3]);
    if (strcmp(argv[1], "seq") == 0) rc = run_seq(n, url);
    else if (strcmp(argv[1], "multi") == 0) rc = run_multi(n, url);
    else if (strcmp(argv[1], "spawn") == 0) rc = run_spawn(n, url);
    else if (strcmp(argv[1], "first") == 0) rc = run_first(n, url);
    else goto usage;
  } else {
    goto usage;
  }
  curl_global_cleanup();
  return rc;
usage:
  fprintf(stderr, "usage: rawcurl seq|multi|spawn N BASE_URL | rawcurl stream BASE_URL [WARMUP_BASE_URL]\n");
  return 2;
}
