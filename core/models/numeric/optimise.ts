/** Derivative-free minimisation for the small (3–4 parameter) likelihoods of the prediction models. */

export interface Minimum {
  point: number[];
  value: number;
  evaluations: number;
  /** False when the iteration limit stopped it before the tolerance was met. */
  converged?: boolean;
}

/**
 * Nelder–Mead, restarted from its own optimum until a restart no longer improves, which escapes the premature
 * collapse of a single run and polishes the optimum to the tolerance.
 *
 * @example
 * const { point } = minimise(([x = 0, y = 0]) => (x - 1) ** 2 + (y + 2) ** 2, [0, 0]);
 */
export function minimise(
  f: (point: number[]) => number,
  start: number[],
  options: { tolerance?: number; maxEvaluations?: number; step?: number } = {},
): Minimum {
  const tolerance = options.tolerance ?? 1e-12;
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  let best = nelderMead(f, start, options.step ?? 0.5, tolerance, maxEvaluations);
  let evaluations = best.evaluations;
  for (let restart = 0; restart < 10 && evaluations < maxEvaluations; restart++) {
    const next = nelderMead(f, best.point, 0.05, tolerance, maxEvaluations - evaluations);
    evaluations += next.evaluations;
    const improved = best.value - next.value > tolerance * (1 + Math.abs(best.value));
    if (next.value < best.value) best = next;
    if (!improved) break;
  }
  return { ...best, evaluations };
}

function nelderMead(
  f: (point: number[]) => number,
  start: number[],
  step: number,
  tolerance: number,
  maxEvaluations: number,
): Minimum {
  const n = start.length;
  const value = (p: number[]): number => {
    const v = f(p);
    return Number.isFinite(v) ? v : Infinity;
  };
  const simplex: number[][] = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = (p[i] as number) + step;
    simplex.push(p);
  }
  const values = simplex.map(value);
  let evaluations = n + 1;
  const order = simplex.map((_, i) => i);
  while (evaluations < maxEvaluations) {
    order.sort((i, j) => (values[i] as number) - (values[j] as number));
    const bestI = order[0] as number;
    const worstI = order[n] as number;
    const secondI = order[n - 1] as number;
    const fBest = values[bestI] as number;
    const fWorst = values[worstI] as number;
    let spread = 0;
    for (const p of simplex)
      for (let d = 0; d < n; d++)
        spread = Math.max(spread, Math.abs((p[d] as number) - (simplex[bestI]![d] as number)));
    if (Math.abs(fWorst - fBest) <= tolerance * (1 + Math.abs(fBest)) && spread < 1e-9) break;
    const centroid = new Array<number>(n).fill(0);
    for (const i of order.slice(0, n))
      for (let d = 0; d < n; d++) centroid[d] = (centroid[d] as number) + (simplex[i]![d] as number) / n;
    const along = (t: number): number[] => centroid.map((c, d) => c + t * ((simplex[worstI]![d] as number) - c));
    const reflected = along(-1);
    const fr = value(reflected);
    evaluations++;
    if (fr < fBest) {
      const expanded = along(-2);
      const fe = value(expanded);
      evaluations++;
      if (fe < fr) replace(worstI, expanded, fe);
      else replace(worstI, reflected, fr);
    } else if (fr < (values[secondI] as number)) {
      replace(worstI, reflected, fr);
    } else {
      const outside = fr < fWorst;
      const contracted = along(outside ? -0.5 : 0.5);
      const fc = value(contracted);
      evaluations++;
      if (fc < (outside ? fr : fWorst)) replace(worstI, contracted, fc);
      else {
        for (const i of order.slice(1)) {
          simplex[i] = simplex[i]!.map(
            (x, d) => (simplex[bestI]![d] as number) + 0.5 * (x - (simplex[bestI]![d] as number)),
          );
          values[i] = value(simplex[i]!);
          evaluations++;
        }
      }
    }
  }
  let bestI = 0;
  for (let i = 1; i <= n; i++) if ((values[i] as number) < (values[bestI] as number)) bestI = i;
  return { point: simplex[bestI]!.slice(), value: values[bestI] as number, evaluations };

  function replace(i: number, p: number[], v: number): void {
    simplex[i] = p;
    values[i] = v;
  }
}

/**
 * BFGS with a backtracking (Armijo) line search, for smooth objectives with an analytic gradient. `fg` returns the
 * value and fills `gradient`. Stops when the gradient's largest component is below `gradientTolerance`.
 *
 * @example
 * const { point } = minimiseSmooth((p, g) => { g[0] = 2 * (p[0]! - 3); return (p[0]! - 3) ** 2; }, [0]);
 */
export function minimiseSmooth(
  fg: (point: number[], gradient: number[]) => number,
  start: number[],
  options: { gradientTolerance?: number; maxIterations?: number } = {},
): Minimum {
  const n = start.length;
  const tolerance = options.gradientTolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 500;
  let x = start.slice();
  let g = new Array<number>(n).fill(0);
  let f = fg(x, g);
  let evaluations = 1;
  let H = identity(n);
  let converged = false;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (Math.max(...g.map(Math.abs)) < tolerance) {
      converged = true;
      break;
    }
    let direction = H.map((row) => -row.reduce((s, h, j) => s + h * (g[j] as number), 0));
    let slope = direction.reduce((s, d, j) => s + d * (g[j] as number), 0);
    if (!(slope < 0)) {
      H = identity(n);
      direction = g.map((v) => -v);
      slope = -g.reduce((s, v) => s + v * v, 0);
    }
    let step = 1;
    const gNext = new Array<number>(n).fill(0);
    let xNext = x;
    let fNext = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      xNext = x.map((v, j) => v + step * (direction[j] as number));
      fNext = fg(xNext, gNext);
      evaluations++;
      if (Number.isFinite(fNext) && fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext <= f)) {
      converged = Math.max(...g.map(Math.abs)) < Math.sqrt(tolerance);
      break;
    }
    const s = xNext.map((v, j) => v - (x[j] as number));
    const y = gNext.map((v, j) => v - (g[j] as number));
    const sy = s.reduce((acc, v, j) => acc + v * (y[j] as number), 0);
    const improvement = f - fNext;
    x = xNext;
    g = gNext;
    f = fNext;
    if (sy > 1e-300) {
      const Hy = H.map((row) => row.reduce((acc, h, j) => acc + h * (y[j] as number), 0));
      const yHy = y.reduce((acc, v, j) => acc + v * (Hy[j] as number), 0);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          H[i]![j] =
            (H[i]![j] as number) +
            ((sy + yHy) * (s[i] as number) * (s[j] as number)) / (sy * sy) -
            ((Hy[i] as number) * (s[j] as number) + (s[i] as number) * (Hy[j] as number)) / sy;
    }
    // Sums over a million customers carry rounding noise that keeps the gradient from reaching the tolerance; once
    // steps stop improving the value beyond that noise and the gradient is small, the optimum is found.
    if (improvement <= 1e-14 * Math.abs(f) && Math.max(...g.map(Math.abs)) < Math.max(tolerance, 1e-6)) {
      converged = true;
      break;
    }
  }
  return { point: x, value: f, evaluations, converged: converged || Math.max(...g.map(Math.abs)) < tolerance };
}

function identity(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}
