/**
 * An LXC container in the lab, as an admin of ocf:heartbeat:lxc has one: a Debian root filesystem on shared
 * storage (test/lab/build-rootfs.sh's, copied), the same config file on both nodes (/var/lib/lxc/ID/config,
 * node-private), a veth on br0 with a fixed MAC and address, a memory limit, and the lab's counter server as init.
 * Its counter file inside the root filesystem is linked from the lab's usual place, so scenario.ts reads it.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { LAB_DIR, SHARED_DIR, REPO, type NodeId } from './lab.js';
import { counterFile } from './scenario.js';
import type { ContainerResource } from './cluster.js';

export interface LxcLab { id: string; ip: string; mac: string; memoryBytes: number; rootfs: string; config: string }

/** The cached root filesystem (npm test exports it; built here otherwise). */
async function sourceRootfs(): Promise<string> {
  if (process.env.FERRY_TEST_ROOTFS) return process.env.FERRY_TEST_ROOTFS;
  const r = await execa('sh', [join(REPO, 'test', 'lab', 'build-rootfs.sh')]);
  const first = r.stdout.split('\n')[0];
  if (!first) throw new Error('build-rootfs.sh printed no root filesystem');
  return first;
}

export function lxcConfigText(c: Pick<LxcLab, 'id' | 'ip' | 'mac' | 'memoryBytes' | 'rootfs'>): string {
  return [
    'lxc.include = /usr/share/lxc/config/common.conf',
    'lxc.arch = linux64',
    `lxc.uts.name = ${c.id}`,
    `lxc.rootfs.path = dir:${c.rootfs}`,
    'lxc.init.cmd = /srv/ferry/init',
    // what a live migration needs of LXC (validate-all checks it): no ttys, no console
    'lxc.tty.max = 0',
    'lxc.console.path = none',
    'lxc.net.0.type = veth',
    'lxc.net.0.link = br0',
    'lxc.net.0.flags = up',
    'lxc.net.0.name = eth0',
    `lxc.net.0.hwaddr = ${c.mac}`,
    `lxc.net.0.ipv4.address = ${c.ip}/24`,
    `lxc.cgroup.memory.limit_in_bytes = ${c.memoryBytes}`,
    '',
  ].join('\n');
}

export const nodeLxcConfig = (node: NodeId, id: string) => join(LAB_DIR, `node${node}`, 'lib-lxc', id, 'config');

/** Writes the container's config on a node (the same text on both, unless a test makes them differ). */
export function writeNodeConfig(node: NodeId, id: string, text: string): void {
  mkdirSync(join(LAB_DIR, `node${node}`, 'lib-lxc', id), { recursive: true });
  writeFileSync(nodeLxcConfig(node, id), text);
}

export async function prepareLxcContainer(id: string, ip: string, mac: string, memoryBytes = 256 * 1024 * 1024): Promise<LxcLab> {
  const rootfs = join(SHARED_DIR, 'lxc', id, 'rootfs');
  rmSync(join(SHARED_DIR, 'lxc', id), { recursive: true, force: true });
  mkdirSync(join(SHARED_DIR, 'lxc', id), { recursive: true });
  await execa('cp', ['-a', await sourceRootfs(), rootfs]);
  const lab: LxcLab = { id, ip, mac, memoryBytes, rootfs, config: '' };
  lab.config = lxcConfigText(lab);
  for (const n of [1, 2] as const) writeNodeConfig(n, id, lab.config);
  rmSync(counterFile(id), { force: true });
  symlinkSync(join(rootfs, 'srv', 'ferry', 'counter'), counterFile(id));
  return lab;
}

export function lxcResource(id: string, criu: string, extra: Record<string, string> = {}): ContainerResource {
  return {
    id,
    params: { name: id, driver: 'lxc', state_dir: SHARED_DIR, criu_binary: criu, stop_timeout: '3', authkey: join(LAB_DIR, 'authkey'), ...extra },
  };
}
