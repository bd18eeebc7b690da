#!/usr/bin/env node
// ocf:ferry:container — runs the agent bundled in the package this file belongs to (symlinks resolved).
'use strict';
const { realpathSync } = require('node:fs');
const { join } = require('node:path');

// execa, which runs every command, needs 18.19; an older node would fail with a syntax error, not a reason
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 18 || (major === 18 && minor < 19)) {
  process.stderr.write(`ocf-exit-reason:ferry needs Node.js 18.19 or newer; ${process.execPath} is v${process.versions.node}\n`);
  process.exit(5);
}

let agent;
try {
  agent = require(join(realpathSync(__filename), '..', '..', '..', 'dist', 'agent.cjs'));
} catch (err) {
  process.stderr.write(`ocf-exit-reason:ferry is not built or installed correctly (${err.code || err.message})\n`);
  process.exit(5);
}
agent.main(process.argv.slice(2));
