// `rl4d optimize` rejects bad scene configs with one InputError before any GPU work:
// the GPU module is replaced by one that fails if a device is requested.
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

vi.mock('../../src/gpu/gpu.ts', () => ({
  Gpu: { create: () => Promise.reject(new Error('GPU touched before the config was validated')) },
}));

const { run } = await import('../../src/cli/commands/optimize.ts');
const dir = mkdtempSync(join(tmpdir(), 'rl4d-optimize-'));
const scene = (patch: (s: any) => void) => {
  const s = JSON.parse(readFileSync('scenes/default.json', 'utf8'));
  patch(s);
  const path = join(dir, `scene-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(s));
  return path;
};

describe('rl4d optimize input errors', () => {
  it.each([
    ['unknown algorithm', (s: any) => (s.algorithm = { name: 'ppo' }), /algorithm\.name 'ppo' is unknown/],
    ['wrong option type', (s: any) => (s.algorithm = { name: 'grpo', options: { groupSize: 'eight' } }), /algorithm\.options.*groupSize/],
    ['unknown reward', (s: any) => (s.rewards.components[0] = { name: 'aesthetics' }), /rewards\.components\[0\]\.name 'aesthetics' is unknown/],
    ['wrong reward option', (s: any) => (s.rewards.components[0].options = { colourWeight: 'red' }), /rewards\.components\[0\]\.options.*colourWeight/],
    ['empty prompt with a text reward', (s: any) => (s.prompt = ''), /prompt is empty, but the reward 'prompt-attributes'/],
    ['missing prior model', (s: any) => (s.prior = { kind: 'onnx', path: 'no/such/model.onnx' }), /prior\.path 'no\/such\/model\.onnx' does not exist/],
  ])('%s', async (_label, patch, message) => {
    const path = scene(patch);
    await expect(run([path, '--out', join(dir, 'out')])).rejects.toThrow(message);
    await expect(run([path, '--out', join(dir, 'out')])).rejects.toHaveProperty('name', 'InputError');
  });

  it('reaches the GPU only with a valid config', async () => {
    await expect(run([scene(() => {}), '--out', join(dir, 'out'), '--steps', '1'])).rejects.toThrow(/GPU touched/);
  });
});
