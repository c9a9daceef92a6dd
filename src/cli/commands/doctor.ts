/** `rl4d doctor`: which adapter was found, whether a test kernel runs, and what to install if not. */
import { Gpu } from '../../gpu/gpu.ts';

export const summary = 'report the WebGPU adapter, its features and limits, and run a test kernel';

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log('usage: rl4d doctor\n\nEnvironment: RL4D_BACKEND=vulkan|opengles selects a Dawn backend.');
    return 0;
  }
  let gpu: Gpu;
  try {
    gpu = await Gpu.create();
  } catch (e) {
    console.log(`adapter: none\n${(e as Error).message}`);
    return 1;
  }
  try {
    const s = gpu.summary;
    console.log(`adapter:     ${s.description || s.device} (${s.vendor}, ${s.architecture})`);
    console.log(`backend:     ${s.backend}${s.isFallbackAdapter ? ' (software fallback adapter)' : ''}`);
    console.log(`features:    ${s.features.join(', ')}`);
    for (const [k, v] of Object.entries(s.limits)) console.log(`  ${k.padEnd(36)} ${v}`);
    const ok = await testKernel(gpu);
    console.log(`test kernel: ${ok ? 'ok' : 'WRONG RESULT'}`);
    if (s.isFallbackAdapter) console.log('note: a software adapter works but is slow; a real GPU is 100x faster.');
    return ok ? 0 : 1;
  } finally {
    gpu.destroy();
  }
}

async function testKernel(gpu: Gpu): Promise<boolean> {
  const n = 1000;
  const x = Float32Array.from({ length: n }, (_, i) => i);
  const params = new ArrayBuffer(8);
  new Float32Array(params, 0, 1)[0] = 2;
  new Uint32Array(params, 4, 1)[0] = n;
  const xb = gpu.upload('doctor.x', x);
  const yb = gpu.upload('doctor.y', new Float32Array(n).fill(1));
  const k = await gpu.kernel({ file: 'test/saxpy.wgsl', entry: 'saxpy' });
  await gpu.run('doctor saxpy', (enc) => gpu.dispatch(enc, k, [gpu.uniform('doctor.params', new Uint8Array(params)), xb, yb], Math.ceil(n / 64)));
  const y = await gpu.readF32(yb);
  return y.every((v, i) => v === 2 * i + 1);
}
