// The offset applier over the binding limit: with RL4D_BUFFER_LIMIT lowered, a few thousand
// splats at SH degree 3 have sh, its cotangents and gradients past one binding, and the
// applier binds them in ranges of whole splats. Forward and backward must equal the plain
// path (and the reference); a row no range can hold gets the clear limit error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { InputError } from '../../src/errors.ts';
import { Rng } from '../../src/train/rng.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { CanonicalGrads, CanonicalSplats } from '../../src/scene/deform/deformation-field.ts';
import { OffsetApplier } from '../../src/scene/deform/offset-applier.ts';
import { OFFSET_STRIDE } from '../../src/scene/deform/offsets.ts';
import { applyOffsetsRef, offsetCotangentsRef } from '../../src/reference/deform/apply-offsets.ts';
import { expectClose } from '../helpers/compare.ts';
import { useGpu, withBindingLimit } from '../helpers/gpu.ts';
import { randomArray, randomScene } from './fixtures.ts';

const gpu = useGpu();
const LIMIT = 'RL4D_BUFFER_LIMIT';
afterEach(() => {
  delete process.env[LIMIT];
});

const PARAMS = ['means', 'quats', 'logScales', 'opacityLogits', 'sh'] as const;
const DRIVEN = { opacity: true, color: true };

/** Buffers for every parameter of `data`, allocated ranged (sh may pass one binding). */
function upload(g: Gpu, data: GaussianData, what: string): Required<CanonicalGrads> {
  return Object.fromEntries(PARAMS.map((p) => [p, g.upload(`${what}.${p}`, data[p], undefined, true)])) as Required<CanonicalGrads>;
}

async function readAll(g: Gpu, bufs: CanonicalGrads): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const p of PARAMS) out[p] = await g.readF32(bufs[p]!);
  return out;
}

describe('OffsetApplier over the binding limit', () => {
  it('binds sh in ranges of whole splats: forward and backward equal the plain path', async () => {
    const g = gpu();
    const scene = randomScene(7, 3000, 3);
    const rng = new Rng(8);
    const offsetData = randomArray(rng, scene.count * OFFSET_STRIDE, -1, 1);
    const cot = randomScene(9, scene.count, 3);
    const shBytes = scene.sh.byteLength;
    const shRow = shBytes / scene.count;
    // Half of sh per binding (buffers may be twice the limit): 2-3 ranges of whole splats.
    const limit = String(Math.ceil(shBytes / 2));

    const run = (lowered: boolean) => withBindingLimit(lowered ? limit : undefined, async () => {
      const dispatch = vi.spyOn(g, 'dispatch');
      try {
        const ranges = g.bindingRanges(shBytes, shRow).length;
        const applier = await OffsetApplier.create(g);
        const canonical: CanonicalSplats = { count: scene.count, shDegree: scene.shDegree, ...upload(g, scene, 'canonical') };
        const offsets = g.upload('offsets', offsetData);
        const cotangents = upload(g, cot, 'cotangent');
        const grads = Object.fromEntries(PARAMS.map((p) => [p, g.buffer(`grad.${p}`, scene[p].byteLength, undefined, true)]));
        const dOffsets = g.buffer('dOffsets', offsetData.byteLength);
        // Without canonical grads the backward takes its offsets-only kernel.
        const dOffsetsOnly = g.buffer('dOffsets (offsets only)', offsetData.byteLength);
        const enc = g.device.createCommandEncoder();
        const applied = applier.forward(enc, canonical, offsets, DRIVEN);
        applier.backward(enc, canonical, cotangents, grads, DRIVEN, dOffsets);
        applier.backward(enc, canonical, cotangents, {}, DRIVEN, dOffsetsOnly);
        await g.submit('apply offsets fwd+bwd', enc);
        const out = {
          ranges,
          dispatches: dispatch.mock.calls.length,
          deformed: await readAll(g, applied),
          grads: await readAll(g, grads),
          dOffsets: await g.readF32(dOffsets),
          dOffsetsOnly: await g.readF32(dOffsetsOnly),
        };
        for (const b of [...applied.owned, ...Object.values(canonical), offsets, ...Object.values(cotangents), ...Object.values(grads), dOffsets, dOffsetsOnly])
          if (typeof b === 'object') b.destroy();
        applier.destroy();
        return out;
      } finally {
        dispatch.mockRestore();
      }
    });

    const whole = await run(false);
    const ranged = await run(true);
    expect(whole.ranges).toBe(1);
    expect(ranged.ranges).toBeGreaterThanOrEqual(2);
    expect(ranged.ranges).toBeLessThanOrEqual(3);
    // sh is dispatched once per range in the forward and in each backward.
    expect(ranged.dispatches - whole.dispatches).toBe(3 * (ranged.ranges - 1));
    for (const p of PARAMS) {
      expect(ranged.deformed[p], `deformed ${p}`).toEqual(whole.deformed[p]);
      expect(ranged.grads[p], `grad ${p}`).toEqual(whole.grads[p]);
    }
    expect(ranged.dOffsets).toEqual(whole.dOffsets);
    expect(ranged.dOffsetsOnly).toEqual(whole.dOffsets);

    // And the plain path is right.
    const ref = applyOffsetsRef(scene, offsetData, DRIVEN);
    for (const p of PARAMS) {
      expectClose(whole.deformed[p], ref[p], 1e-6, `deformed ${p}`);
      expectClose(whole.grads[p], cot[p], 1e-6, `grad ${p}`);
    }
    expectClose(whole.dOffsets, offsetCotangentsRef(scene.count, scene.shDegree, cot, DRIVEN), 1e-6, 'offset cotangents');
  });

  it('refuses an sh row that no binding range can hold, naming the buffer and the limit', async () => {
    const g = gpu();
    const scene = randomScene(10, 4, 3);
    const applier = await OffsetApplier.create(g);
    const canonical: CanonicalSplats = { count: scene.count, shDegree: scene.shDegree, ...upload(g, scene, 'canonical') };
    const cotangents = upload(g, scene, 'cotangent');
    const offsets = g.upload('offsets', new Float32Array(scene.count * OFFSET_STRIDE));
    const dOffsets = g.buffer('dOffsets', offsets.size);
    // 100 bytes: the other parameters of 4 splats fit; one splat's 192 bytes of sh do not.
    process.env[LIMIT] = '100';
    const enc = g.device.createCommandEncoder();
    const message = /Buffer '(deformed\.sh|cotangent\.sh)' needs 768 bytes, over this device's maxStorageBufferBindingSize \(100 bytes\)/;
    expect(() => applier.forward(enc, canonical, offsets, DRIVEN)).toThrow(InputError);
    expect(() => applier.forward(enc, canonical, offsets, DRIVEN)).toThrow(message);
    expect(() => applier.backward(enc, canonical, { sh: cotangents.sh }, {}, DRIVEN, dOffsets)).toThrow(message);
    // Colour not driven: sh is passed through untouched and nothing is refused.
    const applied = applier.forward(enc, canonical, offsets, { opacity: true, color: false });
    expect(applied.sh).toBe(canonical.sh);
    delete process.env[LIMIT];
    enc.finish();
    for (const b of [...applied.owned, ...Object.values(canonical), ...Object.values(cotangents), offsets, dOffsets])
      if (typeof b === 'object') b.destroy();
    applier.destroy();
  });
});
