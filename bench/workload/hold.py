#!/usr/bin/python3
"""Benchmark workload: holds SIZE MiB of touched memory (so it is resident and must be checkpointed), optionally
dirties DIRTY MiB/s of it, and writes "<count> <instance>" to COUNTER_FILE every 100 ms: the count proves continuity after a move, the
instance (random per process start) proves it is the same process and not a restart.
usage: hold.py SIZE_MIB DIRTY_MIB_PER_S COUNTER_FILE"""
import sys, time, os, secrets

size = int(sys.argv[1]) * 1024 * 1024
dirty_per_tick = int(float(sys.argv[2]) * 1024 * 1024 / 10)
counter_file = sys.argv[3]
PAGE = 4096
buf = bytearray(size)
for off in range(0, size, PAGE):  # touch every page so it is resident
    buf[off] = 1
count, cursor = 0, 0
instance = secrets.token_hex(8)
while True:
    count += 1
    for _ in range(dirty_per_tick // PAGE if size else 0):
        buf[cursor] = (buf[cursor] + 1) & 0xFF
        cursor = (cursor + PAGE) % max(size, PAGE)
    tmp = counter_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d %s\n' % (count, instance))
    os.replace(tmp, counter_file)
    time.sleep(0.1)
