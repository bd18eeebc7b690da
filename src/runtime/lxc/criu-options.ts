/**
 * The CRIU dump options an LXC container needs, as lxc-checkpoint 5.0 builds them (so that lxc-checkpoint -r
 * can restore the images on the target): its cgroups managed by CRIU and found from the init's own cgroup paths
 * (never lxc.payload.NAME: LXC takes NAME-1, NAME-2 when the name is still in use), the freezer cgroup to freeze
 * it with, and the external bind mounts of its configuration named as LXC's restore names them. Pure.
 */
import type { MountEntry } from './config-file.js';

const ALWAYS = [
  '--file-locks', '--link-remap', '--manage-cgroups=full', '--ext-mount-map', 'auto',
  '--enable-external-sharing', '--enable-external-masters', '--enable-fs', 'hugetlbfs', '--enable-fs', 'tracefs',
  '--skip-in-flight', '--force-irmap',
];

/** Lines of /proc/PID/cgroup ("ID:CONTROLLERS:PATH"): the cgroup v1 hierarchies with their paths. */
export function cgroupPaths(procCgroup: string): { controllers: string; path: string }[] {
  return procCgroup.split('\n').flatMap((line) => {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    return m && m[1] ? [{ controllers: m[1], path: m[2] ?? '/' }] : [];
  });
}

export function lxcDumpOptions(procCgroup: string, mounts: readonly MountEntry[]): string[] {
  const cgroups = cgroupPaths(procCgroup);
  const freezer = cgroups.find((c) => c.controllers.split(',').includes('freezer'));
  if (!freezer) throw new Error('the container\'s init is in no freezer cgroup (cgroup v1): CRIU could not freeze it');
  return [
    ...ALWAYS,
    ...cgroups.flatMap((c) => ['--cgroup-root', `${c.controllers}:${c.path}`]),
    ...mounts.filter((m) => m.options.includes('bind') || m.options.includes('rbind'))
      .flatMap((m) => ['--ext-mount-map', `/${m.target}:${m.target}`]),
    '--freeze-cgroup', `/sys/fs/cgroup/freezer${freezer.path}`,
  ];
}
