/** The kernel's own idea of a connection's silence, on a real loopback connection: what a starved lazy migration is judged by. */
import t from 'tap';
import { createServer, connect, type Socket } from 'node:net';
import { msOfSilence, silenceIn } from '../../src/util/tcp-silence.js';

t.test('ss -ti fields are read, the freshest connection counting', async (t) => {
  const out = '0 0 10.0.0.1:1 10.0.0.2:2\n\t cubic lastsnd:5 lastrcv:1208 lastack:900\n0 0 10.0.0.1:3 10.0.0.2:2\n\t cubic lastrcv:40 lastack:30\n';
  t.equal(silenceIn(out, 'lastrcv'), 40);
  t.equal(silenceIn(out, 'lastack'), 30);
  t.equal(silenceIn('', 'lastrcv'), undefined, 'no connection, no verdict');
});

t.test('a loopback connection that has received nothing for a while says so; none says nothing', async (t) => {
  let accepted: Socket | undefined;
  const server = createServer((s) => { accepted = s; s.write('x'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.once('data', () => r()));
  t.teardown(() => { client.destroy(); accepted?.destroy(); server.close(); });
  await new Promise((r) => setTimeout(r, 1200));
  const silent = await msOfSilence('lastrcv', ['dst', '127.0.0.1', 'dport', '=', String(port)]);
  t.ok(silent !== undefined && silent >= 1000, `the client has heard nothing for ${silent} ms`);
  accepted?.write('y');
  await new Promise<void>((r) => client.once('data', () => r()));
  const fresh = await msOfSilence('lastrcv', ['dst', '127.0.0.1', 'dport', '=', String(port)]);
  t.ok(fresh !== undefined && fresh < 1000, `after a byte: ${fresh} ms`);
  t.equal(await msOfSilence('lastrcv', ['dst', '127.0.0.1', 'dport', '=', '1']), undefined, 'no such connection');
});
