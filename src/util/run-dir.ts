/** This node's run directory (a tmpfs: what is kept there disappears with a reboot, as the containers do). */
export function runDir(): string {
  return process.env.FERRY_RUN_DIR ?? '/run/ferry';
}
