/**
 * A node's name on a dedicated network: the suffix inserted before the first dot (node2 -> node2.mn,
 * node2.example.com -> node2.mn.example.com), as VirtualDomain builds its migration URI. The agent finds a peer's
 * migration address this way and `ferry serve` its own, so the two always agree. Pure.
 */
export function withSuffix(node: string, suffix: string): string {
  const dot = node.indexOf('.');
  return dot < 0 ? `${node}${suffix}` : `${node.slice(0, dot)}${suffix}${node.slice(dot)}`;
}
