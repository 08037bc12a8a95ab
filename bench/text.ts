/**
 * Voice of the customer at scale: sentiment (VADER) and topics (sparse TF-IDF → truncated SVD → k-means, fitted on a
 * 50,000-message sample, then every message tagged) over 1,000,000 customer messages (20,000 at toy scale). The
 * messages are the demo world's tickets as a help desk shows them, subject and opening message (its first 3,000
 * people; order numbers renumbered per copy, so copies differ), taken in turn until the count is reached. Reports messages per second for each stage
 * and the process's peak RSS.
 */
import { loadavg } from 'node:os';
import { adjustedRandIndex, fitTopics, scoreMessage } from '../core/text/index.js';
import { createWorld, worldVoice, WORLD_TOPICS } from '../plugins/sandbox/index.js';
import { peakRssMiB } from './report.js';
import type { Benchmark } from './run.js';

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const count = toy ? 20_000 : 1_000_000;
    const loadBefore = loadavg()[0]!;
    const world = createWorld({ seed: 'demo', people: 20_000 });
    const voice = worldVoice(world);
    const pool: { text: string; topic: number }[] = [];
    for (let i = 0; i < (toy ? 500 : 3_000); i++)
      for (const ticket of voice.tickets(i))
        if (ticket.language === 'en' || i % 10 === 0)
          pool.push({
            text: `${ticket.subject}. ${ticket.messages[0]!.text}`,
            topic: WORLD_TOPICS.indexOf(ticket.topic),
          });
    log(`${pool.length} distinct messages from the demo world; building ${count.toLocaleString('en')}`);
    const messages: string[] = new Array<string>(count);
    const truth = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const { text, topic } = pool[i % pool.length]!;
      messages[i] = text.replace(/\b\d{5}\b/, String(10_000 + ((i * 7919) % 90_000)));
      truth[i] = topic;
    }

    let started = performance.now();
    let scored = 0;
    let negative = 0;
    for (const message of messages) {
      const { score } = scoreMessage(message);
      if (score === null) continue;
      scored++;
      if (score <= -0.05) negative++;
    }
    const sentimentS = (performance.now() - started) / 1000;
    log(`sentiment: ${scored} scored in ${sentimentS.toFixed(1)} s`);

    started = performance.now();
    const { model, labels } = fitTopics(messages, { topics: 'auto', seed: 1 });
    const topicsS = (performance.now() - started) / 1000;
    const ari = adjustedRandIndex(labels, truth);
    log(`topics: ${model.topics.map((t) => t.name).join(' | ')} in ${topicsS.toFixed(1)} s, ARI ${ari.toFixed(3)}`);

    const rate = (s: number): string => Math.round(count / s).toLocaleString('en');
    const load = [loadBefore, loadavg()[0]!].map((x) => x.toFixed(2));
    return [
      '| stage | messages | seconds | messages / s |',
      '| --- | ---: | ---: | ---: |',
      `| sentiment (VADER, language check, sentence split) | ${count.toLocaleString('en')} | ${sentimentS.toFixed(1)} | ${rate(sentimentS)} |`,
      `| topics (fit on a 50,000 sample with k by silhouette over 2–12, then tag all) | ${count.toLocaleString('en')} | ${topicsS.toFixed(1)} | ${rate(topicsS)} |`,
      '',
      `${scored.toLocaleString('en')} messages scored (the rest are not English), ${negative.toLocaleString('en')} negative; ${model.topics.length} topics found (${model.topics.map((t) => t.name).join('; ')}), adjusted Rand index against the world's topics ${ari.toFixed(3)}. Vocabulary ${model.vocabulary.length} terms, ${model.dimensions} SVD dimensions. Peak RSS ${Math.round(peakRssMiB())} MiB (the million messages are held as strings). One thread. Machine load average (1 min) before / after: ${load.join(' / ')} on 2 cores (other work shares the machine).`,
    ].join('\n');
  },
};
