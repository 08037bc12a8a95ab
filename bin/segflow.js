#!/usr/bin/env -S node --max-semi-space-size=64
// The `segflow` command. segflow runs its TypeScript through tsx, so there is no build step.
// A 64 MiB young generation: ingestion and delivery make many short-lived objects per event; with the default 16 MiB
// the thread that answers HTTP ran 396 scavenges over the real-time benchmark's minute instead of 83.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
