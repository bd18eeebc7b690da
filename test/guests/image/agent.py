#!/usr/bin/python3
"""Guest end of the lab's control channel: JSON lines on ttyS1 (stdin/stdout, set up by busybox init).

The host's side and the message shapes are in test/guests/ctl/protocol.ts. Each exec runs in its own thread and
session, so a hung or long command (a workload, a client) does not block the others; a result is written with
one write() under a lock, so results of concurrent commands never interleave on the wire.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import termios
import threading
import tty

BASE_ENV = {
    'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOME': '/root',
    'LANG': 'C.UTF-8',
    'TERM': 'dumb',
}
# A command that leaves a daemon holding its stdout/stderr is answered this long after it exits.
PIPE_GRACE_S = 1.0

out_lock = threading.Lock()
running = {}  # id -> Popen
running_lock = threading.Lock()


def send(msg):
    data = (json.dumps(msg, separators=(',', ':')) + '\n').encode()
    with out_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]


def b64(data):
    return base64.b64encode(data).decode('ascii')


def drain(stream, chunks):
    try:
        for block in iter(lambda: stream.read1(65536), b''):
            chunks.append(block)
    except (OSError, ValueError):
        pass


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run(req):
    rid = req['id']
    env = dict(BASE_ENV)
    env.update(req.get('env') or {})
    stdin_data = base64.b64decode(req['stdin']) if req.get('stdin') is not None else None
    try:
        p = subprocess.Popen(
            req['argv'], cwd=req.get('cwd') or '/', env=env, start_new_session=True,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        send({'op': 'result', 'id': rid, 'code': 127, 'signal': None, 'stdout': '', 'timedOut': False,
              'stderr': b64(f'{req["argv"][0]}: {e.strerror}\n'.encode())})
        return
    with running_lock:
        running[rid] = p
    out, err = [], []
    readers = [threading.Thread(target=drain, args=(p.stdout, out), daemon=True),
               threading.Thread(target=drain, args=(p.stderr, err), daemon=True)]
    for r in readers:
        r.start()
    if stdin_data is not None:
        threading.Thread(target=feed, args=(p.stdin, stdin_data), daemon=True).start()
    timed_out = False
    try:
        p.wait(timeout=req.get('timeout') or 120)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(p)
        p.wait()
    for r in readers:
        r.join(PIPE_GRACE_S)
    with running_lock:
        running.pop(rid, None)
    code = p.returncode
    send({'op': 'result', 'id': rid, 'timedOut': timed_out,
          'code': code if code >= 0 else None,
          'signal': signal.Signals(-code).name if code < 0 else None,
          'stdout': b64(b''.join(out)), 'stderr': b64(b''.join(err))})


def feed(stream, data):
    try:
        stream.write(data)
        stream.close()
    except OSError:
        pass


def ready():
    with open('/proc/uptime') as f:
        uptime = float(f.read().split()[0])
    send({'op': 'ready', 'hostname': os.uname().nodename, 'uptime': uptime, 'pid': os.getpid()})


def handle(line):
    try:
        msg = json.loads(line)
    except ValueError:
        return  # the tty's echo of input sent before this agent started, or line noise
    if not isinstance(msg, dict):
        return
    op = msg.get('op')
    if op == 'hello':
        ready()
    elif op == 'exec':
        threading.Thread(target=run, args=(msg,), daemon=True).start()
    elif op == 'kill':
        with running_lock:
            p = running.get(msg.get('id'))
        if p is not None:
            kill_group(p)


def main():
    if os.isatty(0):
        tty.setraw(0)
        attrs = termios.tcgetattr(0)
        attrs[0] &= ~(termios.IXOFF | termios.IXANY)  # setraw leaves XOFF on: it would stall the host's writes
        termios.tcsetattr(0, termios.TCSANOW, attrs)
        termios.tcflush(0, termios.TCIFLUSH)  # whatever was typed at the tty before we were listening
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    ready()
    buf = b''
    while True:
        block = os.read(0, 65536)
        if not block:
            sys.exit(0)
        buf += block
        *lines, buf = buf.split(b'\n')
        for line in lines:
            line = line.strip(b'\r ')
            if line:
                handle(line)


if __name__ == '__main__':
    main()
