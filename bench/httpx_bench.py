# httpx_bench.py: the benchmark's Python client, httpx (the transport of openai-python), run by
# Debian's /usr/bin/python3.
#
#   /usr/bin/python3 bench/httpx_bench.py seq N BASE_URL          N completions on one Client
#   /usr/bin/python3 bench/httpx_bench.py concurrent K BASE_URL   K streams at once (AsyncClient)
#
# BENCH_CA names the CA file; BENCH_HTTP=2 asks for HTTP/2 (http2=True, which needs the h2
# package: without it the line says http2=missing and HTTP/1.1 is used). Prints one line of
# key=value pairs; seconds is the wall time of the work alone (after one untimed warm-up request
# for seq).
import asyncio
import json
import os
import resource
import sys
import time

import httpx

try:
    import h2  # noqa: F401
    HAVE_H2 = True
except ImportError:
    HAVE_H2 = False

CA = os.environ.get("BENCH_CA") or True
WANT_H2 = os.environ.get("BENCH_HTTP") == "2"
H2 = WANT_H2 and HAVE_H2
BODY = {"model": "llama-3.3-70b", "messages": [{"role": "user", "content": "Hello!"}]}
HEADERS = {"Authorization": "Bearer bench-key", "Accept": "application/json"}


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def seq(n, base):
    url = base + "/chat/completions"
    with httpx.Client(verify=CA, http2=H2, headers=HEADERS) as c:
        c.post(url, json=BODY).raise_for_status()
        t0, c0 = time.perf_counter(), cpu()
        for _ in range(n):
            r = c.post(url, json=BODY)
            r.raise_for_status()
            res = r.json()
        s, used = time.perf_counter() - t0, cpu() - c0
        assert res["choices"][0]["message"]["content"]
        version = r.http_version
    print(f"seconds={s:.6f} cpu_seconds={used:.6f} requests={n} http={version} "
          f"http2={'yes' if H2 else 'missing' if WANT_H2 else 'no'} peak_rss_kib={peak_kib()}")


async def one_stream(c, url):
    n = 0
    body = dict(BODY, stream=True)
    async with c.stream("POST", url, json=body) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            line = line.rstrip("\r\n")   # httpx 0.23 leaves the line ending on
            if line.startswith("data: ") and line != "data: [DONE]":
                json.loads(line[6:])
                n += 1
    return n


async def concurrent(k, base):
    url = base + "/chat/completions"
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(verify=CA, http2=H2, headers=HEADERS, limits=limits, timeout=60) as c:
        t0, c0 = time.perf_counter(), cpu()
        counts = await asyncio.gather(*(one_stream(c, url) for _ in range(k)))
        s, used = time.perf_counter() - t0, cpu() - c0
    print(f"seconds={s:.6f} cpu_seconds={used:.6f} streams={k} chunks={sum(counts)} "
          f"http2={'yes' if H2 else 'missing' if WANT_H2 else 'no'} peak_rss_kib={peak_kib()}")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "seq":
        seq(int(sys.argv[2]), sys.argv[3])
    elif mode == "concurrent":
        asyncio.run(concurrent(int(sys.argv[2]), sys.argv[3]))
    else:
        sys.stderr.write("usage: httpx_bench.py seq N URL | concurrent K URL\n")
        sys.exit(2)
