#!/usr/bin/python3
"""Client of server.py: watches a live TCP session while the server migrates.

usage: client.py HOST DURATION_S LOG_JSONL SUMMARY_JSON [--port 5000] [--interval 0.05]
                 [--reply-timeout 30] [--connect-timeout 5] [--stop-file PATH]

Sends "N\n" every INTERVAL seconds for DURATION_S over ONE connection (never reconnects: a migration must
keep the connection). Each reply is logged as one JSON line {"t", "seq", "counter", "gap_ms"}, gap_ms being
the time since the previous reply (the pause a migration causes shows up there).
At the end, or on the first error, SUMMARY_JSON gets {"replies", "max_gap_ms", "counter_first",
"counter_last", "counter_monotonic", "errors"} (also printed on stdout).
Exit status: 0 when no error, 1 on EOF / reset / timeout / a reply that does not match, 2 when it could not
connect at all. A counter going back does not change the exit status; read counter_monotonic.
With --stop-file, the session also ends (cleanly, status 0) as soon as PATH exists: for a test that cannot know
in advance how long the migration it watches will take.
"""
import argparse
import json
import os
import signal
import socket
import sys
import time


def connect(host, port, timeout):
    # the server may still be starting: retry refused connections until the deadline
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection((host, port), timeout=1)
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('host')
    ap.add_argument('duration', type=float)
    ap.add_argument('log')
    ap.add_argument('summary')
    ap.add_argument('--port', type=int, default=5000)
    ap.add_argument('--interval', type=float, default=0.05)
    ap.add_argument('--reply-timeout', type=float, default=30)
    ap.add_argument('--connect-timeout', type=float, default=5)
    ap.add_argument('--stop-file')
    a = ap.parse_args()

    s = {'replies': 0, 'max_gap_ms': 0.0, 'counter_first': None, 'counter_last': None,
         'counter_monotonic': True, 'errors': []}

    def finish(code):
        with open(a.summary, 'w') as f:
            json.dump(s, f)
        print(json.dumps(s))
        sys.exit(code)

    # a test that stops us early still gets a summary
    signal.signal(signal.SIGTERM, lambda *_: (s['errors'].append('terminated'), finish(1)))

    try:
        conn = connect(a.host, a.port, a.connect_timeout)
    except OSError as e:
        s['errors'].append('connect: %r' % e)
        finish(2)
    conn.settimeout(a.reply_timeout)
    replies = conn.makefile('rb')
    log = open(a.log, 'w', buffering=1)  # line-buffered: tests may read it while we run

    end = time.monotonic() + a.duration
    next_send = time.monotonic()
    last = None
    seq = 0
    while time.monotonic() < end and not (a.stop_file and os.path.exists(a.stop_file)):
        seq += 1
        try:
            conn.sendall(b'%d\n' % seq)
            line = replies.readline()
        except OSError as e:  # reset, timeout, ...
            s['errors'].append('seq %d: %r' % (seq, e))
            finish(1)
        if not line:
            s['errors'].append('seq %d: EOF' % seq)
            finish(1)
        parts = line.split()
        if len(parts) != 2 or parts[0] != b'%d' % seq:
            s['errors'].append('seq %d: unexpected reply %r' % (seq, line))
            finish(1)
        counter = int(parts[1])
        now = time.monotonic()
        gap_ms = 0.0 if last is None else (now - last) * 1000
        last = now
        if s['counter_last'] is not None and counter < s['counter_last']:
            s['counter_monotonic'] = False
        if s['counter_first'] is None:
            s['counter_first'] = counter
        s['counter_last'] = counter
        s['replies'] += 1
        s['max_gap_ms'] = round(max(s['max_gap_ms'], gap_ms), 1)
        log.write(json.dumps({'t': time.time(), 'seq': seq, 'counter': counter, 'gap_ms': round(gap_ms, 1)}) + '\n')
        # fixed cadence, but no burst to catch up after a pause
        next_send = max(next_send + a.interval, time.monotonic())
        time.sleep(max(0.0, next_send - time.monotonic()))
    finish(0)


if __name__ == '__main__':
    main()
