import { describe, expect, it } from 'vitest';
import { composeShader } from '../../src/gpu/shader-source.ts';
import { workgroupGrid } from '../../src/gpu/gpu.ts';
import { InputError, GpuError } from '../../src/errors.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

async function saxpy(n: number, a: number) {
  const g = gpu();
  const x = Float32Array.from({ length: n }, (_, i) => i % 97);
  const y = Float32Array.from({ length: n }, (_, i) => (i % 13) - 6);
  const params = new ArrayBuffer(8);
  new Float32Array(params, 0, 1)[0] = a;
  new Uint32Array(params, 4, 1)[0] = n;
  const xb = g.upload('x', x);
  const yb = g.upload('y', y);
  const ub = g.uniform('params', new Uint8Array(params));
  const k = await g.kernel({ file: 'test/saxpy.wgsl', entry: 'saxpy' });
  await g.run('saxpy', (enc) => g.dispatch(enc, k, [ub, xb, yb], Math.ceil(n / 64)));
  const out = await g.readF32(yb);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (out[i] !== Math.fround(Math.fround(a * x[i]) + y[i])) wrong++;
  expect(wrong).toBe(0);
}

describe('gpu layer', () => {
  it('runs a kernel on a count that is not a multiple of the workgroup size', async () => {
    await saxpy(1000, 2.5);
  });

  it('splits dispatches over 65,535 workgroups into 2D', async () => {
    expect(workgroupGrid(70000)[0] * workgroupGrid(70000)[1]).toBeGreaterThanOrEqual(70000);
    await saxpy(65536 * 64 + 17, -1.5);
  });

  it('composes includes once and honours #if defines', async () => {
    const files: Record<string, string> = {
      'a.wgsl': '#include "lib.wgsl"\n#include "lib.wgsl"\n#if X\nfn x() {}\n#else\nfn notx() {}\n#endif\nfn a() {}',
      'lib.wgsl': 'fn lib() {}',
    };
    const read = async (p: string) => files[p];
    const on = await composeShader('a.wgsl', read, { X: true });
    expect(on.code.split('\n')).toEqual(['fn lib() {}', 'fn x() {}', 'fn a() {}']);
    expect(on.origin).toEqual(['lib.wgsl:1', 'a.wgsl:4', 'a.wgsl:8']);
    const off = await composeShader('a.wgsl', read, {});
    expect(off.code).toContain('notx');
  });

  it('reports WGSL compile errors with the source file and line', async () => {
    const g = gpu();
    const bad = await import('../../src/gpu/gpu.ts');
    const broken = await bad.Gpu.create({
      shaderReader: async (p) => (p === 'bad.wgsl' ? '#include "ok.wgsl"\n@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }' : 'fn ok() {}'),
    });
    try {
      await expect(broken.kernel({ file: 'bad.wgsl', entry: 'main' })).rejects.toThrow(/bad\.wgsl:2/);
    } finally {
      broken.destroy();
    }
    expect(g).toBeDefined();
  });

  it('refuses buffers over the device limit with an error naming the limit', () => {
    const g = gpu();
    const tooBig = g.limits.maxStorageBufferBindingSize + 4;
    expect(() => g.buffer('huge', tooBig)).toThrow(InputError);
    expect(() => g.buffer('huge', tooBig)).toThrow(/maxStorageBufferBindingSize/);
  });

  it('turns validation errors into thrown errors naming the work', async () => {
    const g = gpu();
    const small = g.buffer('small', 16);
    await expect(
      g.run('bad copy', (enc) => enc.copyBufferToBuffer(small, 0, small, 0, 64)),
    ).rejects.toThrow(GpuError);
  });
});
