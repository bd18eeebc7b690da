#!/usr/bin/python3
"""Echo-counter server: the workload that Ferry migrates in the lab tests.

usage: server.py COUNTER_FILE [PORT [BALLAST_MIB [DIRTY_MIB_PER_S [HOT_MIB]]]]   (port 5000, no ballast by default)

A thread increments a process-global counter every 100 ms and writes "<counter> <instance>\n" to COUNTER_FILE;
<instance> is random per process start. A migrated process keeps both; a restarted one starts again at 0
with a new instance, so a test reading the file sees any restart or jump back.
Each client line "N\n" on TCP 0.0.0.0:PORT is answered "N <counter>\n", which lets a client outside the
cluster see the same thing live, over a connection that must survive the migration.

Only the Python standard library: it runs as a container's command and must need nothing but the host's
filesystem. It holds no file open between writes, so a checkpoint rarely includes one. BALLAST_MIB of touched,
random memory makes its checkpoint that much bigger, for tests that need a transfer to take time; DIRTY_MIB_PER_S
rewrites that much of it every second, as a busy workload does (what pre-copy and post-copy must cope with),
round and round over its first HOT_MIB (all of it by default): a working set that pre-copy can converge on however
slowly the machine copies, as real workloads have one.
"""
import os
import secrets
import signal
import socket
import sys
import threading
import time

counter = 0
instance = secrets.token_hex(8)


def tick(path):
    global counter
    tmp = path + '.tmp'
    while True:
        time.sleep(0.1)
        counter += 1
        # write + rename: a reader never sees a half-written file
        with open(tmp, 'w') as f:
            f.write('%d %s\n' % (counter, instance))
        os.replace(tmp, path)


def dirty(ballast, mib_per_s, hot_mib):
    """Writes one byte in each 4 KiB page of the next stretch of the hot set, 10 times a second, round and round."""
    pages = min(len(ballast), hot_mib << 20) // 4096 if hot_mib else len(ballast) // 4096
    per_tick = max(1, mib_per_s * 256 // 10)
    at = 0
    while True:
        for _ in range(per_tick):
            ballast[at * 4096] = (ballast[at * 4096] + 1) % 256
            at = (at + 1) % pages
        time.sleep(0.1)


def serve(conn):
    try:
        with conn, conn.makefile('rb') as lines:
            for line in lines:
                conn.sendall(b'%s %d\n' % (line.strip(), counter))
    except OSError:
        pass  # the client went away; its thread ends quietly


def main():
    path = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    ballast_mib = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    ballast = bytearray(os.urandom(1 << 20)) * ballast_mib
    dirty_mib = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    hot_mib = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if ballast_mib and dirty_mib:
        threading.Thread(target=dirty, args=(ballast, dirty_mib, hot_mib), daemon=True).start()
    # as the init of a pid namespace the kernel would drop SIGTERM unless we handle it
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('0.0.0.0', port))
    srv.listen(64)
    threading.Thread(target=tick, args=(path,), daemon=True).start()
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == '__main__':
    main()
