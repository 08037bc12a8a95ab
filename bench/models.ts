/**
 * Models benchmark: k-means on 1,000,000 × 8 features (k = 8, one init) on one thread and on two, beside scikit-learn
 * on the same data in the same run; automatic k over 2–10 on the same data; BG/NBD + Gamma-Gamma fitted on 1,000,000
 * simulated customers. Wall and CPU time of each, and the machine's load, since the machine may be shared.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  automaticK,
  fitPurchaseModel,
  fitSpendModel,
  kMeans,
  seededRandom,
  simulateCustomers,
  type Matrix,
} from '../core/models/index.js';
import type { Benchmark } from './run.js';

function mixture(rows: number, features: number, seed: number): Matrix {
  const rng = seededRandom(seed);
  const centres = Array.from({ length: 8 }, () => Array.from({ length: features }, () => rng.normal() * 3));
  const values = new Float64Array(rows * features);
  for (let i = 0; i < rows; i++) {
    const c = centres[rng.int(8)] as number[];
    for (let j = 0; j < features; j++) values[i * features + j] = (c[j] as number) + rng.normal();
  }
  return { values, rows, features };
}

interface Timing {
  seconds: number;
  /** CPU seconds of every thread of the process. */
  cpu: number;
}

/** The Python with scikit-learn (Debian's python3-sklearn); SEGFLOW_PYTHON names another. */
const PYTHON = process.env.SEGFLOW_PYTHON || '/usr/bin/python3';
const SKLEARN_INSTALL = 'apt-get install -y python3-sklearn';

type ScikitLearnRun = Timing & { inertia: number; iterations: number };

/** scikit-learn's KMeans on the same matrix, or why it could not run (benchmarks are not tests: no failure). */
function scikitLearn(matrix: Matrix): ScikitLearnRun | { missing: string } {
  try {
    execFileSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' });
  } catch {
    return { missing: `scikit-learn not installed (${PYTHON}): ${SKLEARN_INSTALL}` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'segflow-bench-'));
  try {
    writeFileSync(join(dir, 'X.bin'), matrix.values);
    const script = `import json, time, numpy as np
from sklearn.cluster import KMeans
X = np.fromfile(${JSON.stringify(join(dir, 'X.bin'))}, dtype=np.float64).reshape(${matrix.rows}, ${matrix.features})
t = time.perf_counter(); c = time.process_time(); m = KMeans(n_clusters=8, n_init=1, random_state=0).fit(X)
print(json.dumps({'seconds': time.perf_counter() - t, 'cpu': time.process_time() - c, 'inertia': float(m.inertia_), 'iterations': int(m.n_iter_)}))`;
    return JSON.parse(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' })) as ScikitLearnRun;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timed<T>(f: () => T): [T, Timing] {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = f();
  const used = process.cpuUsage(cpu);
  return [value, { seconds: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 }];
}

export const benchmark: Benchmark = {
  async run({ toy, log }) {
    const rows = toy ? 20_000 : 1_000_000;
    const customers = toy ? 20_000 : 1_000_000;
    const matrix = mixture(rows, 8, 42);
    const loadBefore = loadavg()[0] as number;
    log(`k-means k = 8, one init, on ${rows.toLocaleString('en')} × 8, one thread then two`);
    const [single, singleTime] = timed(() => kMeans(matrix, { k: 8, nInit: 1, seed: 0, threads: 1 }));
    const [ours, oursTime] = timed(() => kMeans(matrix, { k: 8, nInit: 1, seed: 0, threads: 2 }));
    const identical =
      ours.inertia === single.inertia &&
      ours.iterations === single.iterations &&
      ours.labels.every((c, i) => c === single.labels[i]);
    const reference = scikitLearn(matrix);
    const theirs = 'missing' in reference ? null : reference;
    log(`automatic k over 2–10`);
    const [auto, autoTime] = timed(() =>
      automaticK(
        matrix,
        toy ? { seed: 0, silhouetteSample: 2_000, sweepSample: 10_000, threads: 2 } : { seed: 0, threads: 2 },
      ),
    );
    log(`BG/NBD + Gamma-Gamma on ${customers.toLocaleString('en')} simulated customers`);
    const base = simulateCustomers(
      { model: 'bgnbd', r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      { p: 6.25, q: 3.74, gamma: 15.44 },
      { customers, seed: 7, minWeeks: 39, maxWeeks: 104 },
    );
    const [purchase, purchaseTime] = timed(() => fitPurchaseModel(base));
    const [spend, spendTime] = timed(() => fitSpendModel(base.x, base.monetary));
    const loadAfter = loadavg()[0] as number;
    const s = (v: number): string => v.toFixed(2);
    const t = (v: Timing): string => `${s(v.seconds)} | ${s(v.cpu)}`;
    const table = [
      '| task | size | segflow wall (s) | segflow CPU (s) | scikit-learn wall (s) | scikit-learn CPU (s) | result |',
      '| --- | --- | ---: | ---: | ---: | ---: | --- |',
      `| k-means, k = 8, one init, 1 thread | ${rows.toLocaleString('en')} × 8 | ${t(singleTime)} | | | inertia ${single.inertia.toFixed(1)} in ${single.iterations} iterations |`,
      `| k-means, k = 8, one init, 2 threads | ${rows.toLocaleString('en')} × 8 | ${t(oursTime)} | ${theirs ? t(theirs) : 'n/a | n/a'} | inertia ${ours.inertia.toFixed(1)} in ${ours.iterations} iterations${theirs ? ` (scikit-learn ${theirs.inertia.toFixed(1)} in ${theirs.iterations})` : ''}; ${identical ? 'identical to' : 'DIFFERS from'} 1 thread |`,
      `| automatic k, 2–10, 2 threads | ${rows.toLocaleString('en')} × 8 | ${t(autoTime)} | | | chose k = ${auto.choice.k} |`,
      `| BG/NBD fit | ${customers.toLocaleString('en')} customers (${purchase.groups.toLocaleString('en')} groups) | ${t(purchaseTime)} | | | r ${purchase.r.toFixed(3)}, α ${purchase.alpha.toFixed(3)}, a ${purchase.a.toFixed(3)}, b ${purchase.b.toFixed(3)} |`,
      `| Gamma-Gamma fit | ${spend.customers.toLocaleString('en')} repeat buyers | ${t(spendTime)} | | | p ${spend.p.toFixed(2)}, q ${spend.q.toFixed(2)}, γ ${spend.gamma.toFixed(2)} |`,
    ];
    const ratio = theirs ? oursTime.seconds / theirs.seconds : NaN;
    const notes = [
      '',
      ...('missing' in reference ? [`scikit-learn was not run: ${reference.missing}.`] : []),
      `Targets: k-means at most 2× scikit-learn's time with equal or lower inertia (measured ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a'} wall); automatic k under 15 s; BG/NBD + Gamma-Gamma under 5 s (measured ${s(purchaseTime.seconds + spendTime.seconds)} s).`,
      `segflow's k-means shares its row loops between the calling thread and one worker thread; scikit-learn uses its OpenMP threads. CPU time counts every thread of the process. The machine is shared with other work (1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${availableParallelism()} cores), so wall times depend on the load; CPU times much less. Truth of the simulation: r 0.243, α 4.414, a 0.793, b 2.426; p 6.25, q 3.74, γ 15.44.`,
    ];
    return [...table, ...notes].join('\n');
  },
};
