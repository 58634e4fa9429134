# The benchmark harness with tiny sizes, run once: it must build, start its server, run every
# client and print its tables. No timing is asserted (make bench measures; this keeps it working).
check "bench-smoke" make --no-print-directory bench-smoke
