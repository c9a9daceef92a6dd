/**
 * The option schema of every algorithm, with no GPU code behind it, so that the trainer's
 * config validation can reject a wrong option before any device work.
 */
import { InputError } from '../errors.ts';
import { dpoSchema } from './dpo.ts';
import { checkGrpoOptions, grpoSchema } from './grpo.ts';
import { parseOptions, toJsonSchema, type OptionSchema } from './options.ts';
import { rewardGradientSchema } from './reward-gradient.ts';
import { rewardWeightedSdsSchema, sdsSchema } from './score-distillation.ts';

export const compositeSchema = {
  terms: {
    type: 'list',
    default: [],
    description:
      'The summed terms: [{ "algorithm": "sds" | "reward-weighted-sds" | "reward-gradient" | "grpo" | "dpo", "weight": number, "options": {...} }].',
  },
  gradClip: { type: 'number', default: 0, min: 0, description: 'Clamp of the summed image gradient per element; 0 disables.' },
} as const;

export const ALGORITHM_SCHEMAS = {
  'reward-gradient': rewardGradientSchema,
  grpo: grpoSchema,
  dpo: dpoSchema,
  sds: sdsSchema,
  'reward-weighted-sds': rewardWeightedSdsSchema,
  composite: compositeSchema,
} as const satisfies Record<string, OptionSchema>;

export type AlgorithmName = keyof typeof ALGORITHM_SCHEMAS;
export const ALGORITHM_NAMES = Object.keys(ALGORITHM_SCHEMAS) as AlgorithmName[];
export type TermName = Exclude<AlgorithmName, 'composite'>;

export function checkAlgorithmName(name: unknown, where = 'algorithm'): AlgorithmName {
  if (typeof name !== 'string' || !(ALGORITHM_NAMES as string[]).includes(name)) {
    throw new InputError(`${where}: unknown algorithm ${JSON.stringify(name)}; known algorithms are ${ALGORITHM_NAMES.join(', ')}.`);
  }
  return name as AlgorithmName;
}

export interface CompositeTermSpec {
  algorithm: TermName;
  weight: number;
  options: Record<string, unknown>;
}

/** Checks composite's `terms` list entry by entry (each term's options by its own schema). */
export function parseCompositeTerms(owner: string, terms: readonly unknown[]): CompositeTermSpec[] {
  if (terms.length === 0) throw new InputError(`${owner}: option 'terms' must list at least one term.`);
  return terms.map((raw, i) => {
    const where = `${owner}: terms[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new InputError(`${where} must be an object { "algorithm": ..., "weight": ..., "options": {...} }.`);
    const t = raw as Record<string, unknown>;
    for (const key of Object.keys(t))
      if (!['algorithm', 'weight', 'options'].includes(key)) throw new InputError(`${where}: unknown field '${key}'; use algorithm, weight, options.`);
    const name = checkAlgorithmName(t.algorithm, `${where}.algorithm`);
    if (name === 'composite') throw new InputError(`${where}.algorithm: a composite cannot contain another composite; list its terms directly.`);
    const weight = t.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight)) throw new InputError(`${where}.weight must be a finite number (got ${JSON.stringify(t.weight)}).`);
    const options = (t.options ?? {}) as Record<string, unknown>;
    validateAlgorithmOptions(name, options, `${where}.options`);
    return { algorithm: name, weight, options };
  });
}

/** Throws one InputError naming the algorithm and field when the options are wrong; needs no GPU. */
export function validateAlgorithmOptions(name: string, options: Record<string, unknown> | undefined, where?: string): void {
  const algo = checkAlgorithmName(name);
  const owner = where ?? `algorithm '${algo}'`;
  if (algo === 'grpo') checkGrpoOptions(owner, options);
  else if (algo === 'composite') {
    const parsed = parseOptions(owner, compositeSchema, options);
    parseCompositeTerms(owner, parsed.terms);
  } else parseOptions(owner, ALGORITHM_SCHEMAS[algo], options);
}

/** JSON schemas of each algorithm's options, for config tooling. */
export function algorithmJsonSchemas(): Record<AlgorithmName, Record<string, unknown>> {
  return Object.fromEntries(ALGORITHM_NAMES.map((n) => [n, toJsonSchema(ALGORITHM_SCHEMAS[n])])) as Record<AlgorithmName, Record<string, unknown>>;
}
