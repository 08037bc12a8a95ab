/* global console, process */
// Run by scripts/plugin-author-check.sh in the scratch package: serves the stand-in helpdesk API, then the installed
// `segflow` validates segflow.yaml, runs its job (the plugin read from YAML) and lists the run as JSON, which must
// show all 25 tickets read and inserted. Exits non-zero, with what differed, otherwise.
import { spawn } from 'node:child_process';
import { serveSandbox } from 'segflow/plugins/sandbox';
import { helpdeskApi, tickets } from './helpdesk-api.js';

const server = await serveSandbox(helpdeskApi);
const env = { ...process.env, HELPDESK_URL: server.url, HELPDESK_API_KEY: 'good-key' };

/** Runs the installed `segflow` with `args`; resolves to its stdout, rejects on a non-zero exit. */
function segflow(...args) {
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/segflow', args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`segflow ${args.join(' ')} exited ${code}\n${out}`)),
    );
  });
}

try {
  process.stdout.write(await segflow('validate', 'segflow.yaml'));
  process.stdout.write(await segflow('run', 'segflow.yaml', 'nightly'));
  const [run] = JSON.parse(await segflow('runs', 'segflow.yaml', '--json'));
  const { read, inserted } = run?.counts ?? {};
  if (run?.status !== 'succeeded' || read !== tickets.length || inserted !== tickets.length) {
    throw new Error(
      `expected a succeeded run that read and inserted ${tickets.length} tickets, got ${JSON.stringify(run)}`,
    );
  }
  console.log(`segflow run from YAML: run ${run.id} ${run.status}, ${read} tickets read, ${inserted} inserted`);
} finally {
  await server.close();
}
