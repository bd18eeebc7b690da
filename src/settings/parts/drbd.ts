/** storage=drbd's part of the table: the DRBD resource and the filesystem on it that Ferry hands over. */
import { absolutePath, matching, optional, withDefault, ParamError, type ParamPart, type ValuesOf } from '../param-types.js';
import { isInside } from '../values.js';
import type { COMMON_PARAMS } from './common.js';

const DRBD_RESOURCE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FSTYPE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const MOUNT_OPTIONS = /^[A-Za-z0-9_=.,:/+-]{1,255}$/;

export const DRBD_PARAMS = {
  drbd_resource: optional('string', {
    shortdesc: 'DRBD resource holding the container',
    longdesc: 'Name of the DRBD resource (as in drbdadm) whose device holds the filesystem mounted at mount_point. '
      + 'It must be configured and up on every node that may run the container, single-primary. Ferry refuses to '
      + 'promote when the peer is not connected, when this node\'s disk is not UpToDate, or in a split-brain.',
  }, matching(DRBD_RESOURCE, 'a DRBD resource name')),
  mount_point: optional('string', {
    shortdesc: 'Where the DRBD filesystem is mounted',
    longdesc: 'Absolute path where the filesystem on the DRBD device is mounted on the node running the container. '
      + 'state_dir must be inside it, so the checkpoint moves with the device.',
  }, absolutePath),
  fstype: withDefault('string', {
    shortdesc: 'Filesystem type on the DRBD device',
    longdesc: 'Passed to mount -t (storage=drbd).',
  }, 'ext4', matching(FSTYPE, 'a filesystem type such as ext4 or xfs')),
  mount_options: optional('string', {
    shortdesc: 'Mount options for the DRBD filesystem',
    longdesc: 'Passed to mount -o (storage=drbd), for example noatime.',
  }, matching(MOUNT_OPTIONS, 'comma-separated mount options')),
} as const;

function drbdChecks(c: ValuesOf<typeof DRBD_PARAMS> & ValuesOf<typeof COMMON_PARAMS>): ParamError[] {
  if (c.storage !== 'drbd') return [];
  const problems: ParamError[] = [];
  if (!c.drbd_resource) problems.push(new ParamError('drbd_resource', 'is required with storage=drbd'));
  if (!c.mount_point) problems.push(new ParamError('mount_point', 'is required with storage=drbd'));
  else if (c.state_dir && !isInside(c.state_dir, c.mount_point)) {
    problems.push(new ParamError('state_dir', `must be inside mount_point ${c.mount_point} with storage=drbd (the checkpoint moves with the device)`));
  }
  return problems;
}

export const DRBD: ParamPart<typeof DRBD_PARAMS, ValuesOf<typeof COMMON_PARAMS>> = {
  title: 'DRBD storage', appliesTo: 'storage=drbd', params: DRBD_PARAMS, crossChecks: drbdChecks,
};
