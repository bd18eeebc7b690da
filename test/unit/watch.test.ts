/** Registrations for the fast monitor and the verdict line the agent's shell entry reads (migrate/watch.ts). */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerWatch, isWatchKey, readRegistration, registerWatch, unregisterWatch, verdictDir, watchDir } from '../../src/migrate/watch.js';
import { formatVerdict, keepVerdicts, refreshMs } from '../../src/helper/verdicts.js';
import type { ContainerWatch } from '../../src/helper/keeper.js';
import { parseConfig } from '../../src/ocf/config.js';
import type { Config } from '../../src/settings/params.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-watch-'));
process.env.FERRY_RUN_DIR = dir;
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function config(command: string): Config {
  const parsed = parseConfig({ OCF_RESKEY_name: 'w1', OCF_RESKEY_command: command });
  if (!parsed.config) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.config;
}

t.test('the same configuration keeps its generation and its verdict; another one starts anew', async (t) => {
  registerWatch('ct1', config('sleep 1'), 0);
  const first = readRegistration('ct1');
  t.equal(first?.intervalMs, 10_000, 'no interval given (start, a probe): Pacemaker\'s usual 10 s');
  mkdirSync(verdictDir(), { recursive: true });
  writeFileSync(join(verdictDir(), 'ct1'), 'verdict\n');
  registerWatch('ct1', config('sleep 1'), 0);
  t.equal(readRegistration('ct1')?.generation, first?.generation, 'registered again unchanged: same generation');
  t.ok(existsSync(join(verdictDir(), 'ct1')), 'and the verdict stays');
  registerWatch('ct1', config('sleep 1'), 30_000);
  const second = readRegistration('ct1');
  t.equal(second?.intervalMs, 30_000, 'a monitor\'s interval is registered');
  t.not(second?.generation, first?.generation, 'as a new generation');
  t.notOk(existsSync(join(verdictDir(), 'ct1')), 'which no old verdict answers for');
  registerWatch('ct1', config('sleep 1'), 0);
  t.equal(readRegistration('ct1')?.generation, second?.generation, 'a probe keeps the registered interval');
  registerWatch('ct1', config('sleep 2'), 30_000);
  t.not(readRegistration('ct1')?.generation, second?.generation, 'another configuration: a new generation');
  t.equal(readFileSync(join(watchDir(), 'ct1'), 'utf8').split('\n').length, 3, 'two lines: generation, then the JSON');
  unregisterWatch('ct1');
  t.notOk(existsSync(join(watchDir(), 'ct1')), 'unregistered');
});

t.test('watch keys: Pacemaker ids and clone instances, nothing that leaves the directory', async (t) => {
  for (const k of ['ct1', 'web_1', 'db-2.a', 'clone:0']) t.ok(isWatchKey(k), k);
  for (const k of ['', '../x', 'a/b', '.hidden', 'a b', 'x\n']) t.notOk(isWatchKey(k), JSON.stringify(k));
  registerWatch('../escape', config('sleep 1'), 0);
  t.notOk(existsSync(join(dir, 'escape')), 'a bad key registers nothing');
});

t.test('the verdict line and how long it lasts', async (t) => {
  t.equal(refreshMs(0), 1000, 'judged at least every second');
  t.equal(refreshMs(10_000), 5000, 'twice per interval');
  t.equal(refreshMs(600_000), 10_000, 'at least every ten seconds');
  const line = formatVerdict({ pid: 10, startTime: 20 }, {
    generation: 'g1', pid: 30, startTime: 40, monitorRunning: true, probeRunning: false, stopped: false, intervalMs: 10_000,
  }, 5000);
  t.equal(line, 'ferry-verdict-1 10 20 5000 1100 g1 10000 30 40 1 0\n', 'valid for two refreshes and a second, in ticks');
  t.equal(formatVerdict({ pid: 1, startTime: 2 }, {
    generation: 'g', pid: undefined, startTime: undefined, monitorRunning: false, probeRunning: false, stopped: false, intervalMs: 4000,
  }, 7).split(' ').slice(7).join(' '), '0 0 0 0\n', 'not running: no PID, neither kind says running');
});

t.test('the helper\'s view: a new or changed registration is seen at once, though listings and parses are kept', async (t) => {
  const w = containerWatch();
  registerWatch('va', config('sleep 1'), 0);
  t.same([...w.registered().keys()].sort(), ['va'], 'one registered');
  registerWatch('vb', config('sleep 1'), 0);
  t.same([...w.registered().keys()].sort(), ['va', 'vb'], 'a second one, seen on the next look');
  const first = await w.judge('va');
  t.equal(first?.generation, readRegistration('va')?.generation, 'judged as registered');
  registerWatch('va', config('sleep 3'), 0);
  t.equal((await w.judge('va'))?.generation, readRegistration('va')?.generation, 'changed: judged as its new generation');
  t.not((await w.judge('va'))?.generation, first?.generation);
  unregisterWatch('va');
  t.equal(await w.judge('va'), undefined, 'gone: nothing to judge');
  t.same([...w.registered().keys()], ['vb'], 'and no longer listed');
  unregisterWatch('vb');
});

t.test('the keeper does not wait for its next round to judge what is due: a hundred containers in one round', async (t) => {
  const keys = Array.from({ length: 100 }, (_, i) => `many${i}`);
  const judged = new Set<string>();
  const watch: ContainerWatch = {
    registered: () => new Map(keys.map((k) => [k, 1])),
    async judge(key) {
      await new Promise((r) => setImmediate(r));
      judged.add(key);
      return { generation: 'g', pid: process.pid, startTime: 1, monitorRunning: true, probeRunning: true, stopped: false, intervalMs: 10_000 };
    },
    release: () => undefined,
  };
  // one round only: the next would be an hour away
  const keeper = keepVerdicts(watch, { tickMs: 3_600_000, concurrency: 4 });
  const deadline = Date.now() + 30_000;
  while (judged.size < keys.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await keeper.close();
  t.equal(judged.size, keys.length, 'every one judged in the first round, four at a time');
  t.ok(keys.every((k) => existsSync(join(verdictDir(), k))), 'each with its verdict');
});
