// RadianceField bookkeeping: config validation, parameter blocks, checkpoints.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { InputError } from '../../src/errors.ts';
import { RadianceField } from '../../src/scene/radiance-field.ts';
import { fieldLayout } from '../../src/scene/nerf/layout.ts';
import { smallConfig, views } from './fixtures.ts';

const gpu = useGpu();

describe('RadianceField', () => {
  it('lays out levels (dense where they fit) and the MLP', () => {
    const l = fieldLayout(smallConfig());
    expect(l.resolutions).toEqual([4, 8, 16, 32]);
    // (r+1)^3 <= 1024 for r = 4 and 8 only.
    expect(l.denseMask).toBe(0b0011);
    expect(l.encodingDim).toBe(8);
    expect(l.mlpCount).toBe(16 * 8 + 16 + 16 + 1 + 3 * (16 + 9) + 3);
    expect(l.hashCount).toBe(4 * 1024 * 2);
  });

  it('rejects bad configs with the field named', () => {
    expect(() => fieldLayout(smallConfig({ levels: 0 }))).toThrow(/'levels'/);
    expect(() => fieldLayout(smallConfig({ levels: 16, featuresPerLevel: 8 }))).toThrow(InputError);
    expect(() => fieldLayout(smallConfig({ hiddenWidth: 65 }))).toThrow(/'hiddenWidth'/);
    expect(() => fieldLayout(smallConfig({ bounds: { min: [0, 0, 0], max: [1, 0, 1] } }))).toThrow(/'bounds'/);
    expect(() => fieldLayout(smallConfig({ finestResolution: 2 }))).toThrow(/'finestResolution'/);
  });

  it('exposes two parameter blocks and round-trips through its state', async () => {
    const g = gpu();
    const cfg = smallConfig();
    const field = await RadianceField.create(g, cfg);
    const blocks = field.params();
    expect(blocks.map((b) => [b.name, b.count])).toEqual([['nerf.hash', field.layout.hashCount], ['nerf.mlp', field.layout.mlpCount]]);
    await field.updateOccupancy({ threshold: 1 });
    const state = await field.toState();
    const copy = await RadianceField.fromState(g, JSON.parse(JSON.stringify({ ...state, hash: [...state.hash], mlp: [...state.mlp], occupancy: [...state.occupancy], occupancyDensity: [...state.occupancyDensity] })));
    const cams = views(1, 8);
    const a = await field.render(cams);
    const b = await copy.render(cams);
    expect(Array.from(await g.readF32(b.rgb))).toEqual(Array.from(await g.readF32(a.rgb)));
    expect(Array.from(await copy.occupancy.readFlags())).toEqual(Array.from(state.occupancy));
    const bad = { ...state, mlp: state.mlp.slice(1) };
    await expect(RadianceField.fromState(g, bad)).rejects.toThrow(/MLP values/);
    const nan = { ...state, hash: state.hash.map((v, i) => (i === 3 ? NaN : v)) };
    await expect(RadianceField.fromState(g, nan)).rejects.toThrow(/'hash' parameter 3/);
    await expect(field.backward(a, { rgb: g.buffer('small', 16) })).rejects.toThrow(InputError);
    for (const x of [a, b]) x.destroy();
    field.destroy();
    copy.destroy();
  });
});
