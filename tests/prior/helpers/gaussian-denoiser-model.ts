// Builds, with onnx-proto, the exact epsilon-predictor for per-pixel Gaussian data
// x0 ~ N(m, s^2 I), where the mean m switches from m_u to m_c with the conditioning flag:
//   eps_hat(x_t, t) = E[eps | x_t] = sigma_t (x_t - alpha_t m) / (alpha_t^2 s^2 + sigma_t^2)
// The graph: Gather the per-timestep alpha_t and coefficient, then (sample - alpha m) * coef.
import onnxProto from 'onnx-proto';
import type { DdpmSchedule } from '../../../src/prior/score-prior.ts';

const { onnx } = onnxProto as unknown as { onnx: typeof import('onnx-proto').onnx };

const FLOAT = 1;
const INT64 = 7;

export interface GaussianModelSpec {
  schedule: DdpmSchedule;
  width: number;
  height: number;
  /** [3][H][W] means (NCHW without the batch), unconditional and conditional. */
  meanUncond: Float32Array;
  meanCond: Float32Array;
  std: number;
  timestepType?: 'int64' | 'float32';
}

function floats(name: string, dims: number[], values: ArrayLike<number>) {
  return { name, dims, dataType: FLOAT, floatData: Array.from(values) };
}

export function buildGaussianDenoiser(spec: GaussianModelSpec): Uint8Array {
  const { schedule, width: W, height: H, std } = spec;
  const T = schedule.steps;
  const alphaTab = new Float32Array(T);
  const coefTab = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const ab = schedule.alphasCumprod[t];
    const a = Math.sqrt(ab);
    const s = Math.sqrt(1 - ab);
    alphaTab[t] = a;
    coefTab[t] = s / (a * a * std * std + s * s);
  }
  const dm = spec.meanCond.map((c, i) => c - spec.meanUncond[i]);
  const tsType = spec.timestepType ?? 'int64';
  const nodes = [
    ...(tsType === 'float32' ? [{ opType: 'Cast', input: ['timestep'], output: ['t_idx'], attribute: [{ name: 'to', type: 2, i: INT64 }] }] : []),
    { opType: 'Gather', input: ['alpha_tab', tsType === 'float32' ? 't_idx' : 'timestep'], output: ['a'] },
    { opType: 'Gather', input: ['coef_tab', tsType === 'float32' ? 't_idx' : 'timestep'], output: ['c'] },
    { opType: 'Reshape', input: ['a', 'shape4'], output: ['a4'] },
    { opType: 'Reshape', input: ['c', 'shape4'], output: ['c4'] },
    { opType: 'Reshape', input: ['cond_flag', 'shape4'], output: ['f4'] },
    { opType: 'Mul', input: ['f4', 'mean_delta'], output: ['fdm'] },
    { opType: 'Add', input: ['mean_uncond', 'fdm'], output: ['mean'] },
    { opType: 'Mul', input: ['a4', 'mean'], output: ['am'] },
    { opType: 'Sub', input: ['sample', 'am'], output: ['diff'] },
    { opType: 'Mul', input: ['diff', 'c4'], output: ['noise_pred'] },
  ];
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  const valueInfo = (name: string, elemType: number, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map(dim) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'rl4d-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'gaussian_denoiser',
      node: nodes,
      initializer: [
        floats('alpha_tab', [T], alphaTab),
        floats('coef_tab', [T], coefTab),
        floats('mean_uncond', [1, 3, H, W], spec.meanUncond),
        floats('mean_delta', [1, 3, H, W], dm),
        { name: 'shape4', dims: [4], dataType: INT64, int64Data: [-1, 1, 1, 1] },
      ],
      input: [
        valueInfo('sample', FLOAT, ['B', 3, H, W]),
        valueInfo('timestep', tsType === 'int64' ? INT64 : FLOAT, ['B']),
        valueInfo('cond_flag', FLOAT, ['B']),
      ],
      output: [valueInfo('noise_pred', FLOAT, ['B', 3, H, W])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
