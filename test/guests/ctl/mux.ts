/**
 * One per guest, on the host: owns QEMU's socket for the guest's ttyS1 (QEMU accepts one client at a time) and
 * serves any number of concurrent commands on a unix socket of its own. Requests wait until the agent has said
 * "ready". It exits when QEMU closes the serial socket (the guest is gone).
 */
import { connect, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { encode, LineSplitter, parseClientRequest, parseFromGuest, type ResultMessage, type ToGuest } from './protocol.js';

export interface MuxOptions {
  /** QEMU's -chardev socket for ttyS1 */
  serialSocket: string;
  /** where clients connect */
  listen: string;
  /** how long QEMU's socket may take to appear */
  connectTimeoutMs: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectSerial(path: string, timeoutMs: number): Promise<Socket> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path, () => { s.off('error', reject); resolve(s); });
        s.once('error', reject);
      });
    } catch (e) {
      if (performance.now() > deadline) throw new Error(`cannot connect to ${path}: ${(e as Error).message}`);
      await sleep(100);
    }
  }
}

const failure = (id: number, error: string): ResultMessage =>
  ({ op: 'result', id, code: null, signal: null, stdout: '', stderr: '', timedOut: false, error });

export async function runMux(opts: MuxOptions): Promise<void> {
  const serial = await connectSerial(opts.serialSocket, opts.connectTimeoutMs);
  serial.setEncoding('utf8');
  const clients = new Map<number, Socket>();
  let queued: ToGuest[] = [];
  let ready = false;
  let agentPid: number | undefined;
  let nextId = 1;

  const toGuest = (msg: ToGuest) => {
    if (ready || msg.op === 'hello') serial.write(encode(msg));
    else queued.push(msg);
  };
  const answer = (r: ResultMessage) => {
    const client = clients.get(r.id);
    clients.delete(r.id);
    client?.end(encode(r));
  };
  const failAll = (why: string) => { for (const id of [...clients.keys()]) answer(failure(id, why)); };

  const guestLines = new LineSplitter();
  serial.on('data', (chunk: string) => {
    for (const line of guestLines.feed(chunk)) {
      const msg = parseFromGuest(line);
      if (msg === undefined) continue;
      if (msg.op === 'result') { answer(msg); continue; }
      opts.log(`agent ready on ${msg.hostname} (pid ${msg.pid}, guest uptime ${msg.uptime} s)`);
      // a new agent (busybox init respawned it) knows nothing of the commands sent to the old one
      if (agentPid !== undefined && agentPid !== msg.pid) failAll(`the guest agent restarted (now pid ${msg.pid})`);
      agentPid = msg.pid;
      ready = true;
      for (const m of queued) serial.write(encode(m));
      queued = [];
    }
  });

  rmSync(opts.listen, { force: true });
  const server = createServer((client) => {
    client.setEncoding('utf8');
    const lines = new LineSplitter();
    let id: number | undefined;
    client.on('data', (chunk: string) => {
      if (id !== undefined) return;
      const line = lines.feed(chunk)[0];
      if (line === undefined) return;
      const req = parseClientRequest(line);
      id = nextId++;
      if (req === undefined) { client.end(encode(failure(id, 'malformed request'))); return; }
      clients.set(id, client);
      toGuest({ ...req, id });
    });
    // a client that gives up (its own timeout) takes its command with it
    client.on('close', () => {
      if (id !== undefined && clients.delete(id)) toGuest({ op: 'kill', id });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(opts.listen, resolve); });
  opts.log(`serving ${opts.listen} for ${opts.serialSocket}`);
  toGuest({ op: 'hello' });

  await new Promise<void>((resolve) => {
    serial.on('close', () => resolve());
    serial.on('error', (e) => opts.log(`serial socket: ${e.message}`));
  });
  opts.log('QEMU closed the serial socket: the guest is gone');
  failAll('the guest is gone (QEMU closed its serial port)');
  server.close();
  rmSync(opts.listen, { force: true });
}
