#!/usr/bin/env python3
"""Runs one command and prints what it cost: wall ns, user and system CPU (s, microsecond resolution, from wait4's
rusage of the child and every descendant it waited for), peak RSS (KiB) and the exit status. time(1) prints CPU in
10 ms steps, too coarse for commands that take a few milliseconds. usage: rusage.py CMD [ARG...]"""
import os
import sys
import time

argv = sys.argv[1:]
start = time.perf_counter_ns()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        sys.stderr.write(f"rusage.py: {argv[0]}: {err}\n")
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter_ns() - start
print(wall, f"{usage.ru_utime:.6f}", f"{usage.ru_stime:.6f}", usage.ru_maxrss, os.waitstatus_to_exitcode(status))
