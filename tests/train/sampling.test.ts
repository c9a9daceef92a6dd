// Seeded RNG, camera sampler and schedules: determinism, exact state restore, ranges, shapes.
import { describe, expect, it } from 'vitest';
import { Rng, mixSeed } from '../../src/train/rng.ts';
import { CameraSampler, turntableCameras } from '../../src/train/camera-sampler.ts';
import { cameraCenter } from '../../src/math/camera.ts';
import { scheduleValue, timestepRange, checkSchedule } from '../../src/train/schedules.ts';
import { packState, unpackState } from '../../src/train/state-pack.ts';

describe('Rng', () => {
  it('repeats for a seed, differs across seeds, and resumes exactly from its state', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(xs);
    const state = a.state();
    const cont = Array.from({ length: 50 }, () => a.next());
    const restored = Rng.fromState(JSON.parse(JSON.stringify(state)));
    expect(Array.from({ length: 50 }, () => restored.next())).toEqual(cont);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });

  it('draws uniform values in [0, 1) with the right mean and normals with unit variance', () => {
    const r = new Rng(1);
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = r.next();
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    let s2 = 0;
    let s1 = 0;
    for (let i = 0; i < n; i++) {
      const g = r.normal();
      s1 += g;
      s2 += g * g;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});

describe('CameraSampler', () => {
  const ranges = {
    elevation: [-10, 40] as [number, number],
    azimuth: [-180, 180] as [number, number],
    radius: [2, 3] as [number, number],
    fov: [30, 50] as [number, number],
    viewsPerStep: 4,
    width: 32,
    height: 24,
  };

  it('is deterministic per (seed, step) and stays in its ranges', () => {
    const s = new CameraSampler(ranges, 3);
    const a = s.sample(5);
    const b = new CameraSampler(ranges, 3).sample(5);
    expect(b).toEqual(a);
    expect(s.sample(6).poses).not.toEqual(a.poses);
    expect(new CameraSampler(ranges, 4).sample(5).poses).not.toEqual(a.poses);
    for (const p of a.poses) {
      expect(p.elevation).toBeGreaterThanOrEqual(-10);
      expect(p.elevation).toBeLessThanOrEqual(40);
      expect(p.radius).toBeGreaterThanOrEqual(2);
      expect(p.radius).toBeLessThanOrEqual(3);
      expect(p.fov).toBeGreaterThanOrEqual(30);
      expect(p.fov).toBeLessThanOrEqual(50);
    }
    // The camera centre is at the sampled radius from the target.
    a.cameras.forEach((cam, i) => expect(Math.hypot(...cameraCenter(cam))).toBeCloseTo(a.poses[i].radius, 4));
    expect(a.cameras[0].width).toBe(32);
  });

  it('stratifies azimuth: each view of a batch lies in its own quarter of the range', () => {
    const s = new CameraSampler(ranges, 11);
    for (let step = 0; step < 20; step++) {
      s.sample(step).poses.forEach((p, i) => {
        expect(p.azimuth).toBeGreaterThanOrEqual(-180 + 90 * i);
        expect(p.azimuth).toBeLessThan(-180 + 90 * (i + 1));
      });
    }
  });

  it('gives 4D views times on the frame grid, spread over the batch', () => {
    const s = new CameraSampler({ ...ranges, times: 5, viewsPerStep: 5 }, 2);
    const times = s.sample(0).poses.map((p) => p.time);
    for (const t of times) expect(Math.abs(t * 4 - Math.round(t * 4))).toBeLessThan(1e-9);
    expect(new Set(times).size).toBe(5);
    expect(s.sample(0).cameras.map((c) => c.time)).toEqual(times);
    expect(new CameraSampler(ranges, 2).sample(0).poses.every((p) => p.time === 0)).toBe(true);
  });

  it('puts anchor poses first in every batch without moving the other views', () => {
    const anchors = [{ elevation: 5, azimuth: 30 }];
    const free = new CameraSampler({ ...ranges, times: 4 }, 3).sample(7);
    const anchored = new CameraSampler({ ...ranges, times: 4, anchors }, 3).sample(7);
    expect(anchored.poses[0]).toMatchObject({ elevation: 5, azimuth: 30, radius: 2.5, fov: 40 });
    expect(anchored.poses[0].time).toBe(free.poses[0].time);
    expect(anchored.poses.slice(1)).toEqual(free.poses.slice(1));
    const other = new CameraSampler({ ...ranges, times: 4, anchors }, 3).sample(8);
    expect(other.poses[0]).toMatchObject({ elevation: 5, azimuth: 30 });
  });

  it('turntable cameras circle the object at one radius', () => {
    const cams = turntableCameras({ frames: 8, elevation: 20, radius: 2.5, fov: 40, width: 16, height: 16 });
    expect(cams).toHaveLength(8);
    const c0 = cameraCenter(cams[0]);
    const c4 = cameraCenter(cams[4]);
    expect(c0[0]).toBeCloseTo(-c4[0], 4);
    expect(c0[2]).toBeCloseTo(-c4[2], 4);
    expect(c0[1]).toBeCloseTo(2.5 * Math.sin((20 * Math.PI) / 180), 4);
  });
});

describe('schedules', () => {
  it('evaluates constant, linear, cosine, exponential and piecewise schedules', () => {
    expect(scheduleValue(0.5, 10, 100)).toBe(0.5);
    expect(scheduleValue({ kind: 'constant', value: 2 }, 10, 100)).toBe(2);
    const lin = { kind: 'linear' as const, from: 1, to: 0, start: 10, end: 20 };
    expect(scheduleValue(lin, 0, 100)).toBe(1);
    expect(scheduleValue(lin, 15, 100)).toBeCloseTo(0.5, 12);
    expect(scheduleValue(lin, 99, 100)).toBe(0);
    const cos = { kind: 'cosine' as const, from: 1, to: 0 };
    expect(scheduleValue(cos, 0, 101)).toBeCloseTo(1, 12);
    expect(scheduleValue(cos, 50, 101)).toBeCloseTo(0.5, 12);
    expect(scheduleValue(cos, 25, 101)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(scheduleValue(cos, 100, 101)).toBeCloseTo(0, 12);
    // gsplat means decay: lr * gamma^step with gamma = 0.01^(1/max_steps).
    const exp = { kind: 'exponential' as const, from: 1.6e-4, to: 1.6e-6 };
    const gamma = Math.pow(0.01, 1 / 999);
    expect(scheduleValue(exp, 500, 1000)).toBeCloseTo(1.6e-4 * Math.pow(gamma, 500), 12);
    expect(scheduleValue(exp, 999, 1000)).toBeCloseTo(1.6e-6, 12);
    const pw = { kind: 'piecewise' as const, values: [[0, 0.98], [500, 0.55]] as [number, number][] };
    expect(scheduleValue(pw, 499, 1000)).toBe(0.98);
    expect(scheduleValue(pw, 500, 1000)).toBe(0.55);
  });

  it('anneals the SDS timestep range step-wise and keeps max >= min', () => {
    const ts = { min: 0.02, max: { kind: 'piecewise' as const, values: [[0, 0.98], [100, 0.5]] as [number, number][] } };
    expect(timestepRange(ts, 0, 200)).toEqual([0.02, 0.98]);
    expect(timestepRange(ts, 150, 200)).toEqual([0.02, 0.5]);
    // DreamGaussian: t = (1 - step/iters) deterministic, as a linear max with min following it.
    const dg = { min: { kind: 'linear' as const, from: 0.98, to: 0.02 }, max: { kind: 'linear' as const, from: 0.98, to: 0.02 } };
    const [lo, hi] = timestepRange(dg, 50, 101);
    expect(lo).toBeCloseTo(0.5, 12);
    expect(hi).toBeCloseTo(0.5, 12);
    expect(timestepRange({ min: 0.6, max: 0.3 }, 0, 10)).toEqual([0.6, 0.6]);
  });

  it('rejects schedules that cannot be evaluated, naming the field', () => {
    expect(() => checkSchedule({ kind: 'exponential', from: 0, to: 1 }, 'schedule.lr.means')).toThrow(/schedule\.lr\.means.*above 0/);
    expect(() => checkSchedule({ kind: 'linear', from: 0, to: 1, start: 5, end: 5 }, 'x')).toThrow(/'end'/);
    expect(() => checkSchedule({ kind: 'piecewise', values: [[5, 1], [2, 0]] }, 'w')).toThrow(/w\.values/);
  });
});

describe('state packing', () => {
  it('round-trips nested typed arrays bit-exactly', () => {
    const f = Float32Array.from([1.5, -0, NaN, 3e-38]);
    const state = { a: 1, nested: { f, u: Uint32Array.from([1, 2 ** 32 - 1]), list: [Float64Array.from([Math.PI])] }, s: 'x', inf: Infinity };
    const back = unpackState<typeof state>(packState(state));
    expect(back.a).toBe(1);
    expect(back.s).toBe('x');
    expect(back.inf).toBe(Infinity);
    expect(new Uint32Array(back.nested.f.buffer)).toEqual(new Uint32Array(f.buffer));
    expect(Array.from(back.nested.u)).toEqual([1, 2 ** 32 - 1]);
    expect(back.nested.list[0][0]).toBe(Math.PI);
    expect(() => unpackState(new Uint8Array(20))).toThrow(/not an rl4d checkpoint/);
    const bytes = packState(state);
    expect(() => unpackState(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
  });
});
