/** Where Pacemaker may place the container: its utilization, set from the container itself (as VirtualDomain's). */
import { bool, withDefault, type ParamPart } from '../param-types.js';

export const PLACEMENT_PARAMS = {
  autoset_utilization_memory: withDefault('boolean', {
    shortdesc: 'Set the resource\'s memory utilization from the container',
    longdesc: 'Like VirtualDomain\'s autoset_utilization_hv_memory. When true, start and every recurring monitor '
      + 'set the resource\'s utilization attribute "memory" (MiB) to the container\'s memory limit (its memory '
      + 'cgroup\'s limit: lxc.cgroup.memory.limit_in_bytes, podman run --memory), or, for a container without one, '
      + 'its resident memory rounded up to 64 MiB, raised as it grows and lowered once it falls below half. With the '
      + 'cluster property placement-strategy set to utilization, balanced or minimal and each node\'s capacity '
      + 'given as its own utilization "memory", Pacemaker then places and moves the container (a drain too) only '
      + 'where it fits. The attribute is written only when the value changes.',
  }, 'false', bool),
  autoset_utilization_cpu: withDefault('boolean', {
    shortdesc: 'Set the resource\'s cpu utilization from the container\'s CPU limit',
    longdesc: 'Like VirtualDomain\'s autoset_utilization_cpu. When true, start and every recurring monitor set the '
      + 'resource\'s utilization attribute "cpu" to the container\'s CPU limit in whole CPUs, rounded up (its cpu '
      + 'cgroup\'s CFS quota over its period: lxc.cgroup.cpu.cfs_quota_us, podman run --cpus). A container without a '
      + 'CPU limit gets no cpu attribute (logged once).',
  }, 'false', bool),
} as const;

export const PLACEMENT: ParamPart<typeof PLACEMENT_PARAMS> = {
  title: 'Placement by size', appliesTo: undefined, params: PLACEMENT_PARAMS,
};
