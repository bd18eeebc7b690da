#!/usr/bin/python3
"""Benchmark workload: holds SIZE MiB of touched memory (so it is resident and must be checkpointed), optionally
dirties DIRTY MiB/s of it, and counts in READY_FILE every 100 ms (the counter proves continuity after a move).
usage: hold.py SIZE_MIB DIRTY_MIB_PER_S COUNTER_FILE"""
import sys, time, os

size = int(sys.argv[1]) * 1024 * 1024
dirty_per_tick = int(float(sys.argv[2]) * 1024 * 1024 / 10)
counter_file = sys.argv[3]
PAGE = 4096
buf = bytearray(size)
for off in range(0, size, PAGE):  # touch every page so it is resident
    buf[off] = 1
count, cursor = 0, 0
while True:
    count += 1
    for _ in range(dirty_per_tick // PAGE):
        buf[cursor] = (buf[cursor] + 1) & 0xFF
        cursor = (cursor + PAGE) % max(size, PAGE)
    tmp = counter_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d %d\n' % (count, os.getpid()))
    os.replace(tmp, counter_file)
    time.sleep(0.1)
