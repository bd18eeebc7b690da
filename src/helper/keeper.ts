/**
 * What the helper needs from the engine to answer peers: about the checkpoints this node holds (storage=none) and
 * the container images it has. The engine decides and looks (migrate/checkpoint-keeper.ts, migrate/image-check.ts),
 * the helper only carries the questions and answers.
 */
import type { Answer, CheckpointRequest, HeldRequest } from './protocol.js';

export interface CheckpointKeeper {
  /** A peer's claim, release or "restored" notice on a checkpoint kept in `dir` of this node (`node`). */
  checkpoint(dir: string, request: CheckpointRequest, node: string): Answer;
  /** Which checkpoint of an unfinished migration `dir` holds, if any. */
  held(dir: string, request: HeldRequest): Answer;
  /** Removes the checkpoint images kept in `dir` that can no longer serve; says what it removed and why. */
  sweep(dir: string): string[];
}

export interface ImageLookup {
  /** The ID of the container image `image` on this node, undefined when the node does not have it; throws when it cannot tell. */
  imageId(image: string): Promise<string | undefined>;
}

/** The engine's judgement of one watched container, as the helper writes it down for the agent's shell entry. */
export interface WatchVerdict {
  generation: string;
  /** The container's init as seen running (absent when not running). */
  pid: number | undefined;
  startTime: number | undefined;
  /** A recurring monitor, and a probe, find it running. */
  monitorRunning: boolean;
  probeRunning: boolean;
  /** Nothing of it is here: its registration can go. */
  stopped: boolean;
  /** The monitor's interval, which sets how often it is judged. */
  intervalMs: number;
}

export interface ContainerWatch {
  /** The registered containers' keys, each with when its registration last changed (ms). */
  registered(): Map<string, number>;
  /** Judges one; undefined when its registration is gone or unreadable. */
  judge(key: string): Promise<WatchVerdict | undefined>;
  /** Drops the registration of a stopped container, unless it changed since `generation`. */
  release(key: string, generation: string): void;
}
