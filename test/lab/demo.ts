/**
 * `npm run demo`: a live migration between two Pacemaker nodes on this machine, with a TCP client connected
 * throughout; prints what moved, the downtime, and whether the session and the process's counter survived.
 */
import { failedActions, labDown, labUp } from './lab.js';
import { deleteResource } from './cluster.js';
import { containerResource, createAndWait, criuForTests, moveAndMeasure, startClient, type MoveResult } from './scenario.js';

const ID = 'demo1';
const IP = '10.78.0.50';

function describe(m: MoveResult): string {
  const s = m.summary;
  const mib = typeof s.bytesWritten === 'number' ? (s.bytesWritten / 1048576).toFixed(1) : '?';
  return `  ${m.from} -> ${m.to}: ${s.type ?? '?'} live migration, downtime ${s.downtimeMs ?? '?'} ms `
    + `(dump ${s.dumpMs ?? '?'} ms, Pacemaker hand-over ${s.handoverMs ?? '?'} ms, restore ${s.restoreMs ?? '?'} ms), `
    + `${mib} MiB of memory; whole move as Pacemaker ran it: ${m.wallMs} ms; `
    + `counter ${m.counterBefore?.value ?? '?'} -> ${m.counterAfter?.value ?? '?'}, `
    + `same process: ${m.counterBefore?.instance === m.counterAfter?.instance ? 'yes' : 'NO'}`;
}

async function main(): Promise<void> {
  const criu = await criuForTests();
  process.stdout.write(`CRIU: ${criu}\nstarting the two-node lab (corosync + pacemaker in namespaces)...\n`);
  await labUp();
  let ok = false;
  try {
    process.stdout.write(`creating ocf:ferry:container resource ${ID} (a TCP counter server at ${IP}) on node1...\n`);
    await createAndWait(containerResource(ID, IP, criu), 'node1');
    const client = startClient(IP, 20, 'demo');
    await new Promise((r) => setTimeout(r, 2500));
    process.stdout.write('crm_resource --move to node2...\n');
    const there = await moveAndMeasure(ID, 'node1', 'node2');
    process.stdout.write(`${describe(there)}\ncrm_resource --move back to node1...\n`);
    const back = await moveAndMeasure(ID, 'node2', 'node1');
    process.stdout.write(`${describe(back)}\nwaiting for the client to finish its 20 s session...\n`);
    const c = await client.done;
    const failed = await failedActions(1);
    process.stdout.write([
      '',
      'What moved: the process tree of the container (its PID namespace), its memory, its open TCP connection,',
      `its address ${IP} and MAC, between node1 and node2 and back, without a restart.`,
      `TCP session: ${c.errors.length === 0 ? 'survived both moves' : `BROKEN (${c.errors.join('; ')})`}; `
        + `${c.replies} replies, longest pause seen by the client ${c.max_gap_ms} ms`,
      `Process counter: ${c.counter_first} -> ${c.counter_last}, ${c.counter_monotonic ? 'never went back' : 'WENT BACK (restarted)'}`,
      `Pacemaker: ${failed.length === 0 ? 'no failed actions' : `failed actions: ${failed.join(' ')}`}`,
      '',
    ].join('\n'));
    ok = c.errors.length === 0 && c.counter_monotonic && failed.length === 0
      && there.counterBefore?.instance === back.counterAfter?.instance;
    await deleteResource(ID);
  } finally {
    process.stdout.write('tearing the lab down...\n');
    await labDown();
  }
  process.stdout.write(ok ? 'demo: OK\n' : 'demo: FAILED\n');
  process.exitCode = ok ? 0 : 1;
}

main().catch(async (err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await labDown().catch(() => undefined);
  process.exit(1);
});
