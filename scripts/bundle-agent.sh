#!/bin/sh
# Bundles the agent into one CommonJS file, dist/agent.cjs. Pacemaker runs monitor every few seconds for every
# container: a single pre-linked file spares Node its ESM loader and hundreds of module lookups (about 20 ms a
# run, see bench/monitor.ts). Modules imported dynamically are still evaluated only when an action needs them.
set -eu
cd "$(dirname "$0")/.."
npx --no-install esbuild src/ocf/main.ts --bundle --platform=node --format=cjs --target=node20 \
  --outfile=dist/agent.cjs --log-level=warning \
  --define:import.meta.url=__ferry_module_url \
  --banner:js="const __ferry_module_url = require('node:url').pathToFileURL(__filename).href;"
