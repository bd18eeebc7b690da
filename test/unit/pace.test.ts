/**
 * migration_speed's pacing: what goes through is what came in, and never faster than the rate after the first
 * quarter second's burst (a lower bound on the time, which a slow machine only makes longer).
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import { Pacer, pacedStream } from '../../src/util/pace.js';

async function through(bytes: Buffer, rate: number | undefined): Promise<{ ms: number; sha: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  const began = performance.now();
  await pipeline(Readable.from([bytes.subarray(0, bytes.length / 2), bytes.subarray(bytes.length / 2)]), pacedStream(rate),
    new Writable({ write(chunk: Buffer, _e, done) { hash.update(chunk); length += chunk.length; done(); } }));
  return { ms: performance.now() - began, sha: hash.digest('hex'), length };
}

t.test('paced at 8 MiB/s, 6 MiB take at least (6 - 2 of burst) / 8 s, every byte intact', async (t) => {
  const data = randomBytes(6 * 1048576);
  const r = await through(data, 8 * 1048576);
  t.equal(r.length, data.length);
  t.equal(r.sha, createHash('sha256').update(data).digest('hex'), 'the same bytes, in order');
  t.ok(r.ms >= 480, `took ${r.ms.toFixed(0)} ms`);
});

t.test('no limit: no delay to speak of, every byte intact', async (t) => {
  const data = randomBytes(6 * 1048576);
  const r = await through(data, undefined);
  t.equal(r.sha, createHash('sha256').update(data).digest('hex'));
});

t.test('the bucket: a burst of a quarter second goes at once, then each byte waits its turn', async (t) => {
  const p = new Pacer(1000);
  t.equal(p.delayFor(250), 0, 'the burst');
  const wait = p.delayFor(500);
  t.ok(wait >= 490 && wait <= 510, `500 more bytes at 1000/s wait about 500 ms (${wait.toFixed(0)})`);
});
