#!/usr/bin/env bash
# CI: walk a plugin author's path against the packed package. Packs segflow (prepack builds dist/), installs the
# tarball in a scratch package in a temp folder, then: plain Node imports segflow/plugins and segflow/plugins/sandbox;
# TypeScript type-checks a plugin against the declarations under `strict` with `skipLibCheck: false`; a plugin
# written in JavaScript passes the conformance kit under vitest; the installed `segflow` runs that plugin from the
# author's YAML, and runs the demo at a small size. The scratch package allows better-sqlite3's install script (npm 11
# runs a dependency's install scripts only when the root package.json's `allowScripts` names it), so the native addon is
# built for the Node that runs this script. Dependencies come from npm's cache when it has them (--prefer-offline), else
# from the registry. The temp folder is removed however the script ends.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/segflow-plugin-author.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "npm pack (Node $(node --version), npm $(npm --version))"
tarball="$(cd "$repo" && npm pack --silent --pack-destination "$scratch" | tail -n 1)"
tar -tzf "$scratch/$tarball" | awk '/^package\/(test|bench|\.ci)\// { bad = 1; print "ships " $0 } END { exit bad }'

author="$scratch/acme-segflow-helpdesk"
mkdir -p "$author"
cp "$repo"/scripts/plugin-author/{helpdesk.js,helpdesk-api.js,helpdesk.test.js,types.ts,segflow.yaml,run-from-yaml.js} "$author/"
cat >"$author/package.json" <<'JSON'
{
  "name": "@acme/segflow-helpdesk",
  "version": "1.0.0",
  "private": true,
  "type": "module",
  "main": "helpdesk.js",
  "allowScripts": { "better-sqlite3": true }
}
JSON
cat >"$author/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": false,
    "noEmit": true,
    "types": ["node"]
  },
  "files": ["types.ts"]
}
JSON

step "npm install $tarball"
cd "$author"
# better-sqlite3's prebuilt binaries are on GitHub, which CI cannot reach: compile it without trying.
npm_config_build_from_source=better-sqlite3 npm install --prefer-offline --no-audit --no-fund --loglevel=error \
  "$scratch/$tarball" zod@^4 vitest@^4 typescript@^5 @types/node@^20

step 'plain Node imports segflow/plugins and segflow/plugins/sandbox'
node --input-type=module -e "
  const plugins = await import('segflow/plugins');
  const sandbox = await import('segflow/plugins/sandbox');
  if (typeof plugins.defineSource !== 'function' || typeof sandbox.serveSandbox !== 'function') process.exit(1);
  console.log('segflow/plugins:', Object.keys(plugins).length, 'exports; segflow/plugins/sandbox:', Object.keys(sandbox).length);
"
node --input-type=module -e "
  const { source } = await import(new URL('helpdesk.js', 'file://' + process.cwd() + '/').href);
  console.log('the JavaScript plugin loads:', source.type, source.name);
"

step 'TypeScript: strict, skipLibCheck false'
npx tsc -p tsconfig.json

step 'the JavaScript plugin passes the conformance kit'
npx vitest run --root "$author"

step 'segflow run: the plugin from YAML'
node run-from-yaml.js

people="${SEGFLOW_CHECK_DEMO_PEOPLE:-300}"
step "the installed segflow runs the demo for $people people"
npx segflow demo --people "$people" --store "$scratch/demo.db" --no-serve >"$scratch/demo.log" 2>&1 || {
  cat "$scratch/demo.log" >&2
  exit 1
}
grep -E '^Store: ' "$scratch/demo.log"

step 'done'
