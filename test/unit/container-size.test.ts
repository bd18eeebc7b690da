/**
 * The container's size for Pacemaker's utilization: memory and CPU limits read from the cgroups of its init, in a
 * cgroup v1 (hybrid) tree as on this host and in a unified v2 tree as on Debian 12's default, each laid out as the
 * kernel lays it out; the resident memory; and the rounding that keeps the CIB from being written every monitor.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupsOf, cpuLimit, memoryLimitBytes, memoryUtilization, residentBytes, type ContainerSize } from '../../src/migrate/size.js';

const root = mkdtempSync(join(tmpdir(), 'ferry-size-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, cgroup: string, files: Record<string, string>): { sys: string; proc: string } {
  const sys = join(root, name, 'sys');
  const proc = join(root, name, 'proc');
  mkdirSync(join(proc, '42'), { recursive: true });
  writeFileSync(join(proc, '42', 'cgroup'), cgroup);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(sys, path, '..'), { recursive: true });
    writeFileSync(join(sys, path), `${text}\n`);
  }
  return { sys, proc };
}

t.test('cgroup v1 (hybrid): the memory and cpu controllers\' own hierarchies', async (t) => {
  const v1 = tree('v1', [
    '12:memory:/lxc.payload.web1', '4:cpu,cpuacct:/lxc.payload.web1', '1:name=systemd:/lxc.payload.web1', '0::/lxc.payload.web1', '',
  ].join('\n'), {
    'memory/lxc.payload.web1/memory.limit_in_bytes': String(300 * 1024 * 1024),
    'cpu,cpuacct/lxc.payload.web1/cpu.cfs_quota_us': '150000',
    'cpu,cpuacct/lxc.payload.web1/cpu.cfs_period_us': '100000',
    // the unified hierarchy of a hybrid host has no controllers: never read instead of v1's
    'lxc.payload.web1/memory.max': '1',
  });
  t.same(cgroupsOf(42, v1).get('memory'), '/lxc.payload.web1');
  t.equal(memoryLimitBytes(42, v1), 300 * 1024 * 1024);
  t.equal(cpuLimit(42, v1), 2, '1.5 CPUs rounded up');

  const unlimited = tree('v1-unlimited', '12:memory:/system.slice\n4:cpu,cpuacct:/system.slice\n', {
    'memory/system.slice/memory.limit_in_bytes': '9223372036854771712',
    'cpu,cpuacct/system.slice/cpu.cfs_quota_us': '-1',
    'cpu,cpuacct/system.slice/cpu.cfs_period_us': '100000',
  });
  t.equal(memoryLimitBytes(42, unlimited), undefined, 'v1\'s "no limit" value');
  t.equal(cpuLimit(42, unlimited), undefined, 'quota -1: no limit');
});

t.test('cgroup v2 (unified): memory.max and cpu.max', async (t) => {
  const v2 = tree('v2', '0::/machine.slice/libpod-abc.scope\n', {
    'machine.slice/libpod-abc.scope/memory.max': String(256 * 1024 * 1024),
    'machine.slice/libpod-abc.scope/cpu.max': '200000 100000',
  });
  t.equal(memoryLimitBytes(42, v2), 256 * 1024 * 1024);
  t.equal(cpuLimit(42, v2), 2);
  const open = tree('v2-open', '0::/user.slice\n', { 'user.slice/memory.max': 'max', 'user.slice/cpu.max': 'max 100000' });
  t.equal(memoryLimitBytes(42, open), undefined);
  t.equal(cpuLimit(42, open), undefined);
  t.equal(memoryLimitBytes(43, open), undefined, 'a process that is gone: nothing');
});

t.test('resident memory from statm; this process\'s own cgroups are found', async (t) => {
  const p = tree('statm', '0::/\n', {});
  mkdirSync(join(p.proc, '7'));
  writeFileSync(join(p.proc, '7', 'statm'), '1000 256 10 1 0 100 0\n');
  writeFileSync(join(p.proc, '42', 'statm'), '1000 512 10 1 0 100 0\n');
  t.equal(residentBytes([7, 42], p), 768 * 4096);
  t.ok(residentBytes([process.pid]) > 1024 * 1024, 'this process is resident');
  t.ok(cgroupsOf(process.pid).size > 0, 'this process is in cgroups');
});

t.test('utilization memory: the limit, else resident rounded up to 64 MiB, kept while between half and all of it', async (t) => {
  const size = (change: Partial<ContainerSize>): ContainerSize => ({ memoryLimitMiB: undefined, residentMiB: 100, cpuLimit: undefined, ...change });
  t.equal(memoryUtilization(size({ memoryLimitMiB: 300 }), undefined), 300);
  t.equal(memoryUtilization(size({ residentMiB: 100 }), undefined), 128);
  t.equal(memoryUtilization(size({ residentMiB: 3 }), undefined), 64, 'never below one step');
  t.equal(memoryUtilization(size({ residentMiB: 110 }), 128), 128, 'grew a little: unchanged, no CIB write');
  t.equal(memoryUtilization(size({ residentMiB: 130 }), 128), 192, 'grew past it: raised');
  t.equal(memoryUtilization(size({ residentMiB: 70 }), 128), 128, 'fell, but not below half');
  t.equal(memoryUtilization(size({ residentMiB: 60 }), 128), 64, 'below half: lowered');
});
