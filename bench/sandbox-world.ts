/**
 * How fast the sandbox world derives people on demand: the presence index over every person, per-person records and
 * events, tool ordering and lookups — against the floor of the same run (one bare hash draw per person and stream,
 * which any on-demand derivation must pay) and the eager alternative (materialising every person).
 */
import type { Benchmark } from './run.js';
import { createWorld, uniformAt } from '../plugins/sandbox/index.js';

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const people = toy ? 20_000 : 1_000_000;
    const sample = toy ? 300 : 20_000;
    const world = createWorld({ seed: 'bench', people });

    const floor = timed(() => {
      let x = 0;
      for (let i = 0; i < people; i++) for (let s = 1; s <= 6; s++) x += uniformAt(12345, i, s);
      return x;
    });
    log(`floor: ${floor.ms.toFixed(0)} ms`);
    const index = timed(() =>
      ['hubspot', 'salesforce', 'mailchimp'].map((t) => world.toolIndex(t as 'hubspot').length),
    );
    log(`presence index: ${index.ms.toFixed(0)} ms`);
    const order = timed(() => world.toolOrder('hubspot').indexes.length);
    const step = Math.floor(people / sample);
    const person = timed(() => {
      for (let k = 0; k < sample; k++) world.person(k * step);
    });
    let events = 0;
    const eventsRun = timed(() => {
      for (let k = 0; k < sample; k++) events += world.events(k * step).length;
    });
    const byEmail = timed(() => world.findByEmail(world.person(people - 1).email).length);
    const byHash = timed(() => world.findByToolId('mailchimp', '0'.repeat(32)));
    const eagerPeople = Math.min(people, 100_000);
    const heapBefore = process.memoryUsage().heapUsed;
    const eager = timed(() => Array.from({ length: eagerPeople }, (_, i) => world.person(i)));
    const eagerHeapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    const eagerMs = (eager.ms * people) / eagerPeople;
    eager.value.length = 0;

    const [hs = 0, sf = 0, mc = 0] = index.value;
    const rows = [
      ['floor: 6 bare hash draws per person', `${floor.ms.toFixed(0)} ms`, `${people.toLocaleString('en')} people`],
      [
        'presence index, all three tools',
        `${index.ms.toFixed(0)} ms`,
        `HubSpot ${hs}, Salesforce ${sf}, Mailchimp ${mc}`,
      ],
      ['HubSpot order by updatedAt (cached after)', `${order.ms.toFixed(0)} ms`, `${order.value} records`],
      ['person(i)', `${((person.ms / sample) * 1000).toFixed(1)} µs`, `${sample} sampled people`],
      [
        'events(i)',
        `${((eventsRun.ms / sample) * 1000).toFixed(1)} µs`,
        `${(events / sample).toFixed(1)} events per person`,
      ],
      ['findByEmail, first call (builds the map)', `${byEmail.ms.toFixed(0)} ms`, 'later calls O(1)'],
      [
        'findByToolId(mailchimp), first call (builds the map)',
        `${byHash.ms.toFixed(0)} ms`,
        'md5 of every Mailchimp email',
      ],
      [
        'eager alternative: materialise every person',
        `${eagerMs.toFixed(0)} ms`,
        `${((eagerHeapMb * people) / eagerPeople).toFixed(0)} MB heap (extrapolated from ${eagerPeople.toLocaleString('en')})`,
      ],
    ];
    return [
      `World of ${people.toLocaleString('en')} people (seed "bench").`,
      '',
      '| step | time | notes |',
      '| --- | --- | --- |',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `Target: the presence index of 1M people in a couple of seconds (here ${(index.ms / floor.ms).toFixed(1)}× the bare-draw floor), ` +
        'events for a person in microseconds, and no per-person memory beyond the typed-array indexes.',
    ].join('\n');
  },
};
