/**
 * A checkpoint is restored only where the container's runtime is configured as it was where the checkpoint was
 * made: an LXC container restored under another config (root filesystem, network, limits) would not be the same
 * container. Pure: the keys whose values differ, for the refusal's words.
 */
export type RuntimeConfig = Readonly<Record<string, readonly string[]>>;

export function configDifferences(atDump: RuntimeConfig, here: RuntimeConfig): string[] {
  const keys = [...new Set([...Object.keys(atDump), ...Object.keys(here)])].sort();
  return keys.filter((k) => JSON.stringify(atDump[k] ?? []) !== JSON.stringify(here[k] ?? []));
}

/** Why this node may not restore the checkpoint, or undefined when its configuration is the same. */
export function runtimeConfigProblem(atDump: RuntimeConfig | undefined, here: RuntimeConfig | undefined, source: string): string | undefined {
  if (!atDump || !here) return undefined;
  const differ = configDifferences(atDump, here);
  if (differ.length === 0) return undefined;
  const shown = differ.slice(0, 4).map((k) => `${k} (${JSON.stringify(atDump[k] ?? [])} on ${source}, ${JSON.stringify(here[k] ?? [])} here)`);
  return `the container's runtime configuration differs from ${source}'s, where it was checkpointed: ${shown.join('; ')}`
    + `${differ.length > 4 ? ` and ${differ.length - 4} more` : ''}; make it the same on every node`;
}
