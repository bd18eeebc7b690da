/** The agent's own description, shared by the metadata and the man page. */
import { FERRY_VERSION } from '../util/version.js';

export const AGENT_NAME = 'container';
export const AGENT_VERSION = FERRY_VERSION;
export const OCF_VERSION = '1.1';

export const AGENT_SHORTDESC = 'Linux container with live migration (CRIU)';

export const AGENT_LONGDESC = [
  'Manages a Linux container as a cluster resource and moves it between nodes without stopping it: processes, '
  + 'open files, its IP and MAC address and established TCP connections survive the move. With the meta attribute '
  + 'allow-migrate=true, Pacemaker moves the resource with migrate_to on the source (the container is checkpointed '
  + 'with CRIU into state_dir) and migrate_from on the target (it is restored there), instead of stop and start.',
  'If a migration fails, the container runs on exactly one node: a failed checkpoint leaves it running on the '
  + 'source; a checkpoint that could not be restored is resumed by the next start, on whichever node Pacemaker '
  + 'chooses, so its state is not lost. Both nodes consult a migration record in state_dir, claimed atomically, so '
  + 'the same checkpoint is never restored twice.',
  'Checkpoint images contain the container\'s memory, secrets included: state_dir is kept 0700 and images are '
  + 'removed after a successful migration.',
].join('\n\n');
