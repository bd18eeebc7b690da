/** podman in the lab: the lab's root filesystem imported as an image on each node, and reading a container's state. */
import { execa } from 'execa';
import { dirname, join } from 'node:path';
import { LAB_DIR, nodeExec, nodeName, REPO, resourceNodes, SHARED_DIR, waitFor, type NodeId } from './lab.js';
import { clear, createResource, move, type ContainerResource } from './cluster.js';
import { waitRunningOn, type Counter } from './scenario.js';

export const IMAGE = 'localhost/ferry-rootfs:latest';

/** The rootfs tar of test/lab/build-rootfs.sh ($FERRY_TEST_ROOTFS names its rootfs directory; the tar is beside it). */
export async function rootfsTar(): Promise<string> {
  if (process.env.FERRY_TEST_ROOTFS) return join(dirname(process.env.FERRY_TEST_ROOTFS), 'rootfs.tar');
  const r = await execa('sh', [join(REPO, 'test', 'lab', 'build-rootfs.sh')], { stdin: 'ignore' });
  return r.stdout.trim().split('\n')[1] ?? '';
}

/** The same tar with the same --change on every node gives the same image ID, which a restore requires. */
export async function importImage(node: NodeId, tar: string): Promise<string> {
  const r = await nodeExec(node, 'podman', ['import', '--quiet', '--change', 'CMD ["/srv/ferry/init"]', tar, IMAGE], { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`podman import on node${node}: ${r.stderr}`);
  return r.stdout.trim();
}

export async function removeImage(node: NodeId): Promise<void> {
  await nodeExec(node, 'podman', ['rmi', '--force', IMAGE]);
}

export function podmanResource(id: string, ip: string, criu: string, extra: Record<string, string> = {}): ContainerResource {
  return {
    id,
    params: {
      name: id, driver: 'podman', image: IMAGE, run_opts: '--memory 256m',
      ip: `${ip}/24`, bridge: 'br0', state_dir: SHARED_DIR, criu_binary: criu, stop_timeout: '3', authkey: join(LAB_DIR, 'authkey'),
      ...extra,
    },
  };
}

/** The workload's counter file inside the container (/srv/ferry/counter), read through podman on that node. */
export async function podmanCounter(node: NodeId, name: string): Promise<Counter | undefined> {
  const r = await nodeExec(node, 'podman', ['exec', name, 'cat', '/srv/ferry/counter']);
  const [value, instance] = r.stdout.trim().split(' ');
  return r.exitCode === 0 && value && instance ? { value: Number(value), instance } : undefined;
}

export async function podmanExec(node: NodeId, name: string, script: string): Promise<{ exitCode: number; stdout: string }> {
  const r = await nodeExec(node, 'podman', ['exec', name, '/bin/sh', '-c', script]);
  return { exitCode: r.exitCode, stdout: r.stdout.trim() };
}

/** The memory limit the kernel enforces on the container's init (cgroup v1 or v2), in bytes. */
export async function memoryLimit(node: NodeId, name: string): Promise<number | undefined> {
  const pid = (await nodeExec(node, 'podman', ['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim();
  const r = await nodeExec(node, 'sh', ['-c', [
    'cg=$(cat /proc/$1/cgroup)',
    'v1=$(echo "$cg" | awk -F: \'$2 ~ /(^|,)memory(,|$)/ {print $3}\')',
    'if [ -n "$v1" ]; then cat "/sys/fs/cgroup/memory$v1/memory.limit_in_bytes"; else cat "/sys/fs/cgroup$(echo "$cg" | awk -F: \'$1 == 0 {print $3}\')/memory.max"; fi',
  ].join('; '), 'sh', pid]);
  const n = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isFinite(n) ? n : undefined;
}

/** podman containers of this name on the node (running or not). */
export async function podmanContainers(node: NodeId, name: string): Promise<string[]> {
  const r = await nodeExec(node, 'podman', ['ps', '--all', '--filter', `name=^${name}$`, '--format', '{{.Names}} {{.Status}}']);
  return r.stdout.split('\n').filter(Boolean);
}

/** Creates the resource, waits until it runs on `node` (moving it there if Pacemaker chose the other) with its counter going. */
export async function createPodmanAndWait(resource: ContainerResource, node: NodeId): Promise<void> {
  await createResource(resource);
  await waitFor(async () => (await resourceNodes(1, resource.id)).length === 1, { what: `${resource.id} started`, timeoutMs: 90_000 });
  if ((await resourceNodes(1, resource.id))[0] !== nodeName(node)) {
    await move(resource.id, nodeName(node));
    await waitRunningOn(resource.id, nodeName(node));
    await clear(resource.id);
  }
  await waitFor(async () => ((await podmanCounter(node, resource.id))?.value ?? 0) > 2, { what: `${resource.id}'s counter`, timeoutMs: 20_000 });
}
