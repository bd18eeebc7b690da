/**
 * Reading an LXC configuration the way LXC does, for what Ferry must know of it: `key = value` lines, comments,
 * `lxc.include` of a file or of every *.conf in a directory (Debian's configs include common.conf), later keys
 * adding to (mount entries) or replacing (scalars) earlier ones. Pure: the files come through `FileReader`.
 */
export interface FileReader {
  /** The file's text, or undefined when there is none. */
  read(path: string): string | undefined;
  /** The names in a directory, or undefined when it is not one. */
  list(dir: string): string[] | undefined;
}

export interface LxcConfig {
  /** Every key's values in order (mount entries and includes repeat; for the others the last one counts). */
  values: ReadonlyMap<string, readonly string[]>;
  /** Files read, the config first (for the error messages). */
  files: readonly string[];
}

const MAX_INCLUDE_DEPTH = 8;

export function readLxcConfig(path: string, reader: FileReader): LxcConfig {
  const values = new Map<string, string[]>();
  const files: string[] = [];
  const readFile = (file: string, depth: number) => {
    if (depth > MAX_INCLUDE_DEPTH) throw new Error(`${file}: lxc.include nested more than ${MAX_INCLUDE_DEPTH} deep`);
    const text = reader.read(file);
    if (text === undefined) {
      const names = reader.list(file);
      if (names === undefined) throw new Error(`${file} cannot be read`);
      for (const name of names.filter((n) => n.endsWith('.conf')).sort()) readFile(`${file.replace(/\/$/, '')}/${name}`, depth + 1);
      return;
    }
    files.push(file);
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key === 'lxc.include') { readFile(value, depth + 1); continue; }
      const list = values.get(key) ?? [];
      list.push(value);
      values.set(key, list);
    }
  };
  readFile(path, 0);
  return { values, files };
}

/** A key's effective value: the last one set, undefined when it is not set (or set empty, which clears it). */
export function lxcValue(c: LxcConfig, key: string): string | undefined {
  const all = c.values.get(key);
  const last = all?.[all.length - 1];
  return last === undefined || last === '' ? undefined : last;
}

export interface MountEntry { source: string; target: string; type: string; options: string[] }

/** lxc.mount.entry lines: "SOURCE TARGET TYPE OPTIONS [DUMP PASS]", TARGET relative to the root filesystem. */
export function mountEntries(c: LxcConfig): MountEntry[] {
  return (c.values.get('lxc.mount.entry') ?? []).flatMap((line) => {
    const [source, target, type, options] = line.split(/\s+/);
    return source && target && type ? [{ source, target: target.replace(/^\/+/, ''), type, options: (options ?? '').split(',') }] : [];
  });
}

export interface LxcNetwork { type: string | undefined; link: string | undefined; hwaddr: string | undefined; ipv4: string | undefined }

/** The container's first network interface (lxc.net.0.*), as a migration needs it. */
export function firstNetwork(c: LxcConfig): LxcNetwork {
  return {
    type: lxcValue(c, 'lxc.net.0.type'), link: lxcValue(c, 'lxc.net.0.link'),
    hwaddr: lxcValue(c, 'lxc.net.0.hwaddr'), ipv4: lxcValue(c, 'lxc.net.0.ipv4.address'),
  };
}

/**
 * What keeps this container from moving live, as a list of reasons an admin can act on: the console and ttys
 * (CRIU cannot restore their other ends on another node), and a network that must look the same from outside
 * after the move (a veth on a bridge, a fixed MAC, a static address).
 */
export function liveMigrationProblems(c: LxcConfig): string[] {
  const problems: string[] = [];
  if (lxcValue(c, 'lxc.tty.max') !== '0') problems.push('lxc.tty.max must be 0 (CRIU cannot move the ttys\' other ends: "Unable to find a master")');
  if (lxcValue(c, 'lxc.console.path') !== 'none') problems.push('lxc.console.path must be none (a console configured on the source is not there on the target)');
  const net = firstNetwork(c);
  if (net.type !== undefined && net.type !== 'empty' && net.type !== 'none') {
    if (net.type !== 'veth') problems.push(`lxc.net.0.type is ${net.type}: only a veth can be re-plugged on the target`);
    if (!net.link) problems.push('lxc.net.0.link must name the bridge the veth joins (the same bridge on every node)');
    if (!net.hwaddr || /x/i.test(net.hwaddr)) problems.push('lxc.net.0.hwaddr must be a fixed MAC address (a generated one changes with every start, and peers would lose the container)');
    if (!net.ipv4) problems.push('lxc.net.0.ipv4.address must be a static address (DHCP inside the container is not moved with it)');
  }
  return problems;
}

/**
 * The root filesystem as a directory on this node (lxc.rootfs.path, "dir:PATH" or a bare PATH), or why it is not
 * one that Ferry can move (another storage backend: overlayfs, btrfs, zfs, lvm, a loop or block device).
 */
export function rootfsDirectory(c: LxcConfig): { path: string } | { problem: string } {
  const value = lxcValue(c, 'lxc.rootfs.path');
  if (!value) return { problem: 'lxc.rootfs.path is not set' };
  const backend = /^([a-z0-9]+):(.*)$/.exec(value);
  const path = backend ? (backend[1] === 'dir' ? backend[2] ?? '' : undefined) : value;
  if (path === undefined) return { problem: `lxc.rootfs.path is a ${backend?.[1] ?? '?'} backend (${value}); Ferry moves a plain directory only` };
  if (!path.startsWith('/')) return { problem: `lxc.rootfs.path ${value} is not an absolute path` };
  return { path: path.replace(/\/+$/, '') };
}
