// Scene config validation: every error names the file and field, and comes before GPU work.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/errors.ts';
import { loadSceneConfig, parseSceneConfig, type ConfigValidators } from '../../src/train/config.ts';

// Registries as the trainer sees them, reduced to what the checks consult.
const validators: ConfigValidators = {
  algorithmNames: ['reward-gradient', 'grpo'],
  validateAlgorithmOptions(name, options) {
    if (name === 'grpo' && 'groupSize' in options && !Number.isInteger(options.groupSize))
      throw new InputError(`grpo: option 'groupSize' must be an integer (got ${JSON.stringify(options.groupSize)})`);
  },
  rewardNames: ['geometry', 'prompt-attributes'],
  validateRewardOptions(name, options) {
    if (name === 'geometry' && 'weightSparsity' in options && typeof options.weightSparsity !== 'number')
      throw new InputError(`reward plugin 'geometry': option 'weightSparsity' must be number`);
  },
  rewardNeedsPrompt: (name) => name === 'prompt-attributes',
};

const base = () => ({
  prompt: 'a red cube',
  seed: 1,
  representation: { kind: 'splats', init: { count: 100 } },
  rewards: { components: [{ name: 'prompt-attributes', weight: 1 }] },
  algorithm: { name: 'reward-gradient', options: {} },
  schedule: { steps: 10 },
  cameras: { width: 32, height: 32 },
});

async function errorOf(json: unknown, v = validators): Promise<string> {
  try {
    await parseSceneConfig(json, v, { file: 'scenes/x.json', baseDir: tmpdir() });
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('scene config', () => {
  it('accepts a minimal config and fills defaults', async () => {
    const c = await parseSceneConfig(base(), validators, { file: 'scenes/x.json' });
    expect(c.cameras.viewsPerStep).toBe(4);
    expect(c.schedule.lr.means).toBeDefined();
    expect(c.densify.strategy).toBe('none');
    expect(c.representation.init.count).toBe(100);
    const o = await parseSceneConfig(base(), validators, { overrides: { steps: 3, seed: 9 } });
    expect([o.schedule.steps, o.seed]).toEqual([3, 9]);
  });

  it('names an unknown algorithm and lists the known ones', async () => {
    const c = base();
    c.algorithm.name = 'ppo';
    expect(await errorOf(c)).toBe("scenes/x.json: algorithm.name 'ppo' is unknown; use one of reward-gradient, grpo.");
  });

  it('names a wrong algorithm option type with its path', async () => {
    const c = { ...base(), algorithm: { name: 'grpo', options: { groupSize: 2.5 } } };
    expect(await errorOf(c)).toMatch(/^scenes\/x\.json: algorithm\.options: grpo: option 'groupSize' must be an integer/);
  });

  it('names an unknown reward, a wrong reward option, and a bad weight type', async () => {
    const c = base();
    c.rewards.components = [{ name: 'aesthetics', weight: 1 }];
    expect(await errorOf(c)).toMatch(/^scenes\/x\.json: rewards\.components\[0\]\.name 'aesthetics' is unknown; use one of geometry, prompt-attributes/);
    const d = { ...base(), rewards: { components: [{ name: 'geometry', options: { weightSparsity: 'high' } }] } };
    expect(await errorOf(d)).toMatch(/rewards\.components\[0\]\.options: reward plugin 'geometry': option 'weightSparsity' must be number/);
    const w = { ...base(), rewards: { components: [{ name: 'geometry', weight: 'heavy' }] } };
    expect(await errorOf(w)).toMatch(/rewards\.components\[0\]\.weight must be number/);
  });

  it('refuses an empty prompt when a text reward reads it, and accepts it otherwise', async () => {
    const c = { ...base(), prompt: '  ' };
    expect(await errorOf(c)).toMatch(/prompt is empty, but the reward 'prompt-attributes'/);
    const g = { ...base(), prompt: '', rewards: { components: [{ name: 'geometry' }] } };
    await expect(parseSceneConfig(g, validators)).resolves.toBeDefined();
  });

  it('refuses a missing prior model file, naming the path', async () => {
    const c = { ...base(), prior: { kind: 'onnx', path: 'models/missing.onnx' } };
    expect(await errorOf(c)).toMatch(/prior\.path 'models\/missing\.onnx' does not exist/);
  });

  it('names schema errors by field path: types, unknown fields, enums, ranges, schedules', async () => {
    expect(await errorOf({ ...base(), cameras: { width: 32.5, height: 32 } })).toBe('scenes/x.json: cameras.width must be integer.');
    expect(await errorOf({ ...base(), camera: {} })).toMatch(/unknown field 'camera'/);
    expect(await errorOf({ ...base(), densify: { strategy: 'adc' } })).toMatch(/densify\.strategy must be one of "default", "mcmc", "none"/);
    expect(await errorOf({ ...base(), cameras: { width: 8, height: 8, elevation: [40, 10] } })).toMatch(/cameras\.elevation: the range/);
    expect(await errorOf({ ...base(), schedule: { steps: 5, lr: { means: { kind: 'exponential', from: 0, to: 1 } } } })).toMatch(
      /schedule\.lr\.means: an exponential schedule needs/,
    );
    expect(await errorOf({ ...base(), schedule: { steps: 5, lr: { colours: 0.1 } } })).toMatch(/schedule\.lr\.colours: no such parameter block/);
    const { prompt: _p, ...noPrompt } = base();
    expect(await errorOf(noPrompt)).toBe("scenes/x.json: missing field 'prompt'.");
  });

  it('reports unreadable files and invalid JSON with the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl4d-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "prompt": ');
    await expect(loadSceneConfig(file, validators)).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(loadSceneConfig(join(dir, 'none.json'), validators)).rejects.toThrow(/does not exist/);
  });
});
