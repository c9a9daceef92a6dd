// Names and options of the algorithms: errors before any GPU work, one InputError each.
import { describe, expect, it } from 'vitest';
import AjvModule from 'ajv';
import { InputError } from '../../src/errors.ts';
import { ALGORITHM_NAMES, algorithmJsonSchemas, createAlgorithm, validateAlgorithmOptions } from '../../src/rl/registry.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;

function expectInputError(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(pattern);
}

describe('algorithm registry', () => {
  it('knows every algorithm of issue 5', () => {
    expect([...ALGORITHM_NAMES].sort()).toEqual(['composite', 'dpo', 'grpo', 'reward-gradient', 'reward-weighted-sds', 'sds']);
    for (const name of ALGORITHM_NAMES) validateAlgorithmOptions(name, name === 'composite' ? { terms: [{ algorithm: 'sds' }] } : {});
  });

  it('an unknown algorithm lists the known ones (before any GPU work)', async () => {
    const noGpu = {} as Gpu;
    await expect(createAlgorithm('ppo', {}, noGpu)).rejects.toThrow(InputError);
    await expect(createAlgorithm('ppo', {}, noGpu)).rejects.toThrow(/unknown algorithm "ppo"; known algorithms are reward-gradient, grpo, dpo, sds/);
    await expect(createAlgorithm('grpo', { sigma: 'big' }, noGpu)).rejects.toThrow(/option 'sigma' must be a number > 0/);
  });

  it('wrong option types and values name the field', () => {
    expectInputError(() => validateAlgorithmOptions('grpo', { sigma: '0.1' }), /algorithm 'grpo': option 'sigma' must be a number > 0 \(got "0.1"\)/);
    expectInputError(() => validateAlgorithmOptions('grpo', { groupSize: 7 }), /'groupSize' must be even/);
    expectInputError(() => validateAlgorithmOptions('grpo', { groupSize: 2.5 }), /'groupSize' must be an integer/);
    expectInputError(() => validateAlgorithmOptions('grpo', { block: [] }), /'block' must be 'all' or a non-empty list/);
    expectInputError(() => validateAlgorithmOptions('dpo', { sigmaa: 1 }), /unknown option 'sigmaa'; known options are 'block', 'sigma'/);
    expectInputError(() => validateAlgorithmOptions('sds', { timestepRange: [0.9, 0.1] }), /'timestepRange' must be a pair \[low, high\]/);
    expectInputError(() => validateAlgorithmOptions('sds', { weighting: 'fancy' }), /'weighting' must be one of 'sds', 'uniform', 'fantasia3d'/);
    expectInputError(() => validateAlgorithmOptions('reward-gradient', { shaping: 'hinge', scale: -1 }), /'scale' must be a number > 0/);
    expectInputError(() => validateAlgorithmOptions('reward-weighted-sds', { samples: 1 }), /'samples' must be an integer >= 2/);
    expectInputError(() => validateAlgorithmOptions('sds', 'fast' as unknown as Record<string, unknown>), /options must be an object/);
  });

  it('composite checks each term by its own schema', () => {
    expectInputError(() => validateAlgorithmOptions('composite', { terms: [] }), /'terms' must list at least one term/);
    expectInputError(() => validateAlgorithmOptions('composite', { terms: [{ algorithm: 'sds' }, { algorithm: 'nope' }] }), /terms\[1\]\.algorithm: unknown algorithm "nope"/);
    expectInputError(() => validateAlgorithmOptions('composite', { terms: [{ algorithm: 'grpo', options: { epochs: 0 } }] }), /terms\[0\]\.options: option 'epochs' must be an integer >= 1/);
    expectInputError(() => validateAlgorithmOptions('composite', { terms: [{ algorithm: 'sds', weight: 'x' }] }), /terms\[0\]\.weight must be a finite number/);
    expectInputError(() => validateAlgorithmOptions('composite', { terms: [{ algorithm: 'composite' }] }), /cannot contain another composite/);
  });

  it('exports JSON schemas that ajv accepts and that agree with the validator', () => {
    const ajv = new Ajv({ strict: false });
    const schemas = algorithmJsonSchemas();
    const grpo = ajv.compile(schemas.grpo);
    expect(grpo({ sigma: 0.1, block: ['colors'] })).toBe(true);
    expect(grpo({ sigma: 'x' })).toBe(false);
    expect(grpo({ sigmaa: 1 })).toBe(false);
    const sds = ajv.compile(schemas.sds);
    expect(sds({ timestepRange: [0.02, 0.5], anneal: 'linear' })).toBe(true);
    expect(sds({ anneal: 'cosine' })).toBe(false);
  });
});
