/**
 * BG/NBD, MBG/NBD and Pareto/NBD behind one set of calls: fit by name, P(alive) and expected purchases for a fitted
 * model of any of the three. Times are in the model's units (weeks when built by segflow).
 */
import {
  conditionalExpectedPurchases,
  fitPurchaseModel,
  groupSummary,
  probabilityAlive,
  type FrequencyRecency,
  type GroupedSummary,
  type PurchaseModel,
  type PurchaseModelParameters,
} from '../bgnbd/index.js';
import {
  conditionalExpectedPurchasesParetoNbd,
  fitParetoNbd,
  probabilityAliveParetoNbd,
  type ParetoNbdModel,
  type ParetoNbdParameters,
} from '../paretonbd/index.js';

/** The purchase models segflow fits. */
export const PURCHASE_MODELS = ['bgnbd', 'mbgnbd', 'paretonbd'] as const;
export type PurchaseModelName = (typeof PURCHASE_MODELS)[number];

/** The parameters of any of the three (`model` tells which). */
export type AnyPurchaseModelParameters = PurchaseModelParameters | ParetoNbdParameters;
export type AnyPurchaseModel = PurchaseModel | ParetoNbdModel;

/** How a report names each model. */
export const PURCHASE_MODEL_LABELS: Record<PurchaseModelName, string> = {
  bgnbd: 'BG/NBD',
  mbgnbd: 'MBG/NBD',
  paretonbd: 'Pareto/NBD',
};

/**
 * Fits the named purchase model by maximum likelihood.
 *
 * @example
 * const model = fitAnyPurchaseModel(summary, 'paretonbd'); // { model: 'paretonbd', r, alpha, s, beta, logLikelihood, … }
 */
export function fitAnyPurchaseModel(
  summary: FrequencyRecency | GroupedSummary,
  name: PurchaseModelName,
): AnyPurchaseModel {
  const grouped = 'count' in summary ? summary : groupSummary(summary);
  return name === 'paretonbd' ? fitParetoNbd(grouped) : fitPurchaseModel(grouped, { model: name });
}

/** P(alive | x, t_x, T) under any of the three models. */
export function aliveProbability(m: AnyPurchaseModelParameters, x: number, tx: number, T: number): number {
  return m.model === 'paretonbd' ? probabilityAliveParetoNbd(m, x, tx, T) : probabilityAlive(m, x, tx, T);
}

/** E[X(t) | x, t_x, T] under any of the three models. */
export function expectedPurchasesGiven(
  m: AnyPurchaseModelParameters,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  return m.model === 'paretonbd'
    ? conditionalExpectedPurchasesParetoNbd(m, t, x, tx, T)
    : conditionalExpectedPurchases(m, t, x, tx, T);
}

/** The parameters alone, without the fit's bookkeeping: what a saved model keeps. */
export function purchaseParameters(m: AnyPurchaseModelParameters): AnyPurchaseModelParameters {
  return m.model === 'paretonbd'
    ? { model: m.model, r: m.r, alpha: m.alpha, s: m.s, beta: m.beta }
    : { model: m.model, r: m.r, alpha: m.alpha, a: m.a, b: m.b };
}

/** One line: the model's name and parameters, e.g. `Pareto/NBD: r 0.553, alpha 10.578, s 0.606, beta 11.668`. */
export function describePurchaseModel(m: AnyPurchaseModelParameters): string {
  const f = (v: number): string => v.toFixed(3);
  const rest = m.model === 'paretonbd' ? `s ${f(m.s)}, beta ${f(m.beta)}` : `a ${f(m.a)}, b ${f(m.b)}`;
  return `${PURCHASE_MODEL_LABELS[m.model]}: r ${f(m.r)}, alpha ${f(m.alpha)}, ${rest}`;
}
