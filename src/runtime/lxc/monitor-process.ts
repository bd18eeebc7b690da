/**
 * Finding a running LXC container without asking LXC: its monitor process titles itself "[lxc monitor] LXCPATH
 * NAME" and the container's init is its child. Synchronous and command-free, for probes on a node where Ferry
 * has no record of the container (started by hand, or restored by an action that was killed before recording it).
 * Only a monitor in this node's network namespace counts: LXC's monitor stays in the node's, and where nodes share
 * one PID namespace (this project's lab) another node's monitor is visible in /proc too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { childrenOf, namespaceOf } from '../../util/proc.js';

export function monitorTitle(lxcPath: string, name: string): string {
  return `[lxc monitor] ${lxcPath} ${name}`;
}

export function lxcMonitorPid(lxcPath: string, name: string): number | undefined {
  const title = monitorTitle(lxcPath, name);
  const ours = namespaceOf(process.pid, 'net');
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.replace(/\0+$/, '').replace(/\0/g, ' ').trim() === title && namespaceOf(Number(entry), 'net') === ours) return Number(entry);
  }
  return undefined;
}

/** The init of the container the monitor watches, once it has one. */
export function lxcInitPid(lxcPath: string, name: string): number | undefined {
  const monitor = lxcMonitorPid(lxcPath, name);
  return monitor === undefined ? undefined : childrenOf(monitor)[0];
}
