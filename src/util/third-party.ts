/**
 * The third-party modules the agent uses, bundled on their own into dist/agent-deps.cjs (see
 * scripts/bundle-agent.mjs): a monitor never loads them, so Node need not even parse them to run one.
 */
export { execa } from 'execa';
export { default as winston } from 'winston';
export { default as Transport } from 'winston-transport';
