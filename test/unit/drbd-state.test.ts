/**
 * Reading DRBD's state and deciding from it: who may run the container, promote to take it over, or hand it off.
 * Samples in the formats DRBD 8.4 and drbd-utils print (real captures from the guest lab are in
 * test/unit/fixtures/drbd when present and are checked by drbd-fixtures.test.ts).
 */
import t from 'tap';
import { fromDrbdadm, fromProcDrbd, fromStatusJson, handOffProblem, linkLost, runProblem, startProblem, takeOverProblem } from '../../src/storage/drbd-state.js';

const PROC = `version: 8.4.11 (api:1/proto:86-101)
srcversion: 211FB288A383ED945B83420
 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
    ns:131072 nr:0 dw:0 dr:133140 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
 1: cs:Unconfigured
 2: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----
    [=====>..............] sync'ed: 31.4% (89176/131072)K
`;

t.test('drbdadm role/cstate/dstate, with trailing newlines', async (t) => {
  t.same(fromDrbdadm('Secondary/Primary\n', 'Connected\n', 'UpToDate/UpToDate\n'),
    { role: 'Secondary', peerRole: 'Primary', connection: 'Connected', disk: 'UpToDate', peerDisk: 'UpToDate' });
  t.same(fromDrbdadm('Primary/Unknown', 'WFConnection', 'UpToDate/DUnknown'),
    { role: 'Primary', peerRole: 'Unknown', connection: 'WFConnection', disk: 'UpToDate', peerDisk: 'DUnknown' });
  t.equal(fromDrbdadm('Secondary', 'StandAlone', 'UpToDate').peerRole, 'Unknown', 'a missing peer half reads as Unknown');
});

t.test('/proc/drbd: the minor\'s line, unconfigured minors, resyncs; absent minors are undefined', async (t) => {
  t.same(fromProcDrbd(PROC, 0), { role: 'Primary', peerRole: 'Secondary', connection: 'Connected', disk: 'UpToDate', peerDisk: 'UpToDate' });
  t.equal(fromProcDrbd(PROC, 1)?.connection, 'Unconfigured');
  t.same(fromProcDrbd(PROC, 2), { role: 'Secondary', peerRole: 'Primary', connection: 'SyncTarget', disk: 'Inconsistent', peerDisk: 'UpToDate' });
  t.equal(fromProcDrbd(PROC, 3), undefined);
  t.equal(fromProcDrbd(PROC, 10), undefined, 'minor 10 is not minor 1 or 0');
});

t.test('drbdsetup status --json (DRBD 9), in 8.4 terms', async (t) => {
  const json = JSON.stringify([{ name: 'r0', role: 'Secondary', devices: [{ 'disk-state': 'UpToDate' }],
    connections: [{ 'connection-state': 'Connected', 'peer-role': 'Primary', peer_devices: [{ 'replication-state': 'Established', 'peer-disk-state': 'UpToDate' }] }] }]);
  t.same(fromStatusJson(json, 'r0'), { role: 'Secondary', peerRole: 'Primary', connection: 'Connected', disk: 'UpToDate', peerDisk: 'UpToDate' });
  const syncing = json.replace('Established', 'SyncTarget').replace('"disk-state":"UpToDate"', '"disk-state":"Inconsistent"');
  t.equal(fromStatusJson(syncing, 'r0')?.connection, 'SyncTarget', 'a running resync shows as the connection state, as in 8.4');
  t.equal(fromStatusJson(json, 'r1'), undefined, 'another resource');
  t.equal(fromStatusJson('not json', 'r0'), undefined);
  t.equal(fromStatusJson(JSON.stringify([{ name: 'r0', role: 'Primary', devices: [{ 'disk-state': 'UpToDate' }], connections: [] }]), 'r0')?.connection, 'StandAlone');
});

const S = (role: string, peerRole: string, connection: string, disk: string, peerDisk: string) => ({ role, peerRole, connection, disk, peerDisk });

t.test('running: only as Primary with an UpToDate disk', async (t) => {
  t.equal(runProblem(S('Primary', 'Secondary', 'Connected', 'UpToDate', 'UpToDate')), undefined);
  t.equal(runProblem(S('Primary', 'Unknown', 'WFConnection', 'UpToDate', 'DUnknown')), undefined, 'a lost peer does not stop a running container');
  t.match(runProblem(S('Secondary', 'Primary', 'Connected', 'UpToDate', 'UpToDate')), /Secondary, not Primary/);
  t.match(runProblem(S('Primary', 'Secondary', 'Connected', 'Diskless', 'UpToDate')), /Diskless, not UpToDate/);
});

t.test('taking over in a migration: connected, UpToDate here, the peer demoted', async (t) => {
  t.equal(takeOverProblem(S('Secondary', 'Secondary', 'Connected', 'UpToDate', 'UpToDate')), undefined);
  t.match(takeOverProblem(S('Secondary', 'Primary', 'Connected', 'UpToDate', 'UpToDate')), /still Primary/);
  // migrate_from follows a hand-over the source made only while this node had every write: a link lost since is no loss
  for (const lost of ['WFConnection', 'Unconnected', 'NetworkFailure', 'BrokenPipe', 'Timeout', 'Connecting']) {
    t.equal(takeOverProblem(S('Secondary', 'Unknown', lost, 'UpToDate', 'DUnknown')), undefined, `${lost}: may promote alone`);
    t.ok(linkLost(S('Secondary', 'Unknown', lost, 'UpToDate', 'DUnknown')), `${lost} is a lost link`);
  }
  t.match(takeOverProblem(S('Secondary', 'Unknown', 'WFConnection', 'Outdated', 'DUnknown')), /Outdated, not UpToDate/, 'not with a disk fencing outdated');
  t.match(takeOverProblem(S('Secondary', 'Primary', 'SyncSource', 'UpToDate', 'Inconsistent')), /not connected \(SyncSource\)/, 'not in the middle of a resync');
  t.notOk(linkLost(S('Secondary', 'Unknown', 'StandAlone', 'UpToDate', 'DUnknown')), 'an admin\'s disconnect or a split-brain is not a lost link');
  t.match(takeOverProblem(S('Secondary', 'Secondary', 'SyncTarget', 'Inconsistent', 'UpToDate')), /Inconsistent.*resync is not finished/);
  t.match(takeOverProblem(S('Secondary', 'Unknown', 'StandAlone', 'UpToDate', 'DUnknown')), /split-brain/);
  t.match(takeOverProblem(S('Unconfigured', 'Unknown', 'Unconfigured', 'Diskless', 'DUnknown')), /not configured/);
});

t.test('starting: connected, or alone only when the peer is Outdated or this node was the last Primary', async (t) => {
  t.equal(startProblem(S('Secondary', 'Secondary', 'Connected', 'UpToDate', 'UpToDate')), undefined);
  t.match(startProblem(S('Secondary', 'Unknown', 'WFConnection', 'UpToDate', 'DUnknown')), /not connected \(WFConnection\) and this node was not the last Primary.*fencing/);
  t.equal(startProblem(S('Secondary', 'Unknown', 'WFConnection', 'UpToDate', 'DUnknown'), true), undefined, 'the last Primary, alone: nobody else wrote');
  t.equal(startProblem(S('Secondary', 'Unknown', 'WFConnection', 'UpToDate', 'Outdated')), undefined, 'fencing outdated the dead peer: failover');
  t.match(startProblem(S('Secondary', 'Unknown', 'StandAlone', 'UpToDate', 'DUnknown')), /not connected \(StandAlone\)/);
  t.match(startProblem(S('Secondary', 'Primary', 'Connected', 'UpToDate', 'UpToDate')), /peer is Primary/);
  t.match(startProblem(S('Unconfigured', 'Unknown', 'Unconfigured', 'Diskless', 'DUnknown')), /not configured/);
  t.match(startProblem(S('Secondary', 'Secondary', 'Connected', 'Outdated', 'UpToDate')), /Outdated/);
});

t.test('handing off: only when the peer is connected and UpToDate', async (t) => {
  t.equal(handOffProblem(S('Primary', 'Secondary', 'Connected', 'UpToDate', 'UpToDate')), undefined);
  t.match(handOffProblem(S('Primary', 'Unknown', 'WFConnection', 'UpToDate', 'DUnknown')), /not connected/);
  t.match(handOffProblem(S('Primary', 'Secondary', 'Connected', 'UpToDate', 'Inconsistent')), /peer's disk is Inconsistent/);
  t.match(handOffProblem(S('Secondary', 'Primary', 'Connected', 'UpToDate', 'UpToDate')), /not Primary/);
});
