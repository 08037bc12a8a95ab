/**
 * Segment destination benchmark against its sandbox (real limits: 32 KB per message, 500 KB per request, 24 h
 * deduplication). 100,000 membership changes out (toy: 2,000) over five segments, each an identify with mapped
 * traits plus a track, through the real SDK: requests made against the fewest the 500 KB cap allows for the bytes
 * sent, throughput, and a replay of the whole run that Segment must deduplicate to nothing.
 */
import type { Benchmark } from './run.js';
import { createContext, type MembershipChange, type RowResult } from '../plugins/index.js';
import {
  classifySegmentError,
  destination,
  destinationSpec,
  sandboxConfig,
  startSandbox,
} from '../connectors/segment/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const total = toy ? 2_000 : 100_000;
    const segments = 5;
    const sandbox = await startSandbox({ seed: 'bench-segment', recordBodies: false });
    try {
      const config = destinationSpec.parse(sandboxConfig(sandbox));
      const ctx = createContext({
        connection: 'bench-segment',
        ...(destination.rateBudget ? { budget: destination.rateBudget } : {}),
        classifyError: classifySegmentError,
        logger: quiet,
      });
      const batches: { segment: { key: string; name: string }; changes: MembershipChange[] }[] = [];
      for (let s = 0; s < segments; s++) {
        const segment = { key: `bench_segment_${s}`, name: `Bench segment ${s}` };
        const changes: MembershipChange[] = [];
        for (let i = s; i < total; i += segments) {
          changes.push({
            op: i % 7 === 0 ? 'remove' : 'add',
            contact: { contactId: `contact-${i}`, email: `person.${i}@example.com`, externalIds: [] },
            traits: {
              first_name: `Person${i}`,
              lifecycle_stage: 'customer',
              rfm_score: `${(i % 5) + 1}${(i % 3) + 1}${(i % 4) + 1}`,
              churn_risk: (i % 100) / 100,
              clv: (i % 1000) * 1.5,
            },
            messageId: `history-${s}-${i}`,
          });
        }
        for (let start = 0; start < changes.length; start += destination.batchSize) {
          batches.push({ segment, changes: changes.slice(start, start + destination.batchSize) });
        }
      }

      const deliver = async () => {
        const began = performance.now();
        const statuses: Record<RowResult['status'], number> = { accepted: 0, rejected: 0, retryable: 0, skipped: 0 };
        for (const batch of batches) {
          for (const row of await destination.write(batch, config, ctx)) statuses[row.status]++;
        }
        return { seconds: (performance.now() - began) / 1000, statuses };
      };

      const first = await deliver();
      const requests = sandbox.recorder.requests.filter((r) => r.path === '/v1/batch');
      const bytes = requests.reduce((sum, r) => sum + Number(r.headers['content-length'] ?? 0), 0);
      const minimum = Math.ceil(bytes / (500 * 1024));
      const messages = sandbox.workspace.messages.length;
      log(
        `first delivery: ${total} changes, ${requests.length} requests, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${first.seconds.toFixed(1)} s`,
      );

      sandbox.recorder.clear();
      const replay = await deliver();
      const replayRequests = sandbox.recorder.count('/v1/batch');
      const added = sandbox.workspace.messages.length - messages;
      log(`replay: ${replayRequests} requests, ${added} new messages kept by Segment`);

      const messagesSent =
        total * 2 - batches.reduce((n, b) => n + b.changes.filter((c) => c.op === 'update').length, 0);
      const rows = [
        '| run | changes | messages kept by Segment | requests | fewest requests the 500 KB cap allows | MiB sent | seconds | changes/s |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        `| first delivery | ${total.toLocaleString('en')} | ${messages.toLocaleString('en')} of ${messagesSent.toLocaleString('en')} | ${requests.length} | ${minimum} | ${(bytes / 1024 / 1024).toFixed(1)} | ${first.seconds.toFixed(1)} | ${Math.round(total / first.seconds).toLocaleString('en')} |`,
        `| replay of the same history rows | ${total.toLocaleString('en')} | +${added} | ${replayRequests} | — | — | ${replay.seconds.toFixed(1)} | ${Math.round(total / replay.seconds).toLocaleString('en')} |`,
      ];
      return [
        rows.join('\n'),
        '',
        `Rows accepted ${first.statuses.accepted.toLocaleString('en')}, rejected ${first.statuses.rejected}, retryable ${first.statuses.retryable} (first run). ` +
          `Requests are ${((requests.length / Math.max(1, minimum)) * 100).toFixed(0)}% of the minimum the 500 KB cap allows for the bytes sent (each write of ${destination.batchSize.toLocaleString('en')} changes ends with one part-filled request; target: at most one extra request per write, ${batches.length} writes). ` +
          `The replay resends every message with the same messageIds and Segment keeps ${added} of them (target 0).`,
      ].join('\n');
    } finally {
      await sandbox.close();
    }
  },
};
