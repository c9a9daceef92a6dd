/**
 * An epsilon-prediction denoiser loaded from a local .onnx file and run with
 * onnxruntime-node on the CPU, used as a ScorePrior (DDPM schedule, classifier-free guidance,
 * images resized to the model's resolution by the SDS rules).
 *
 * The model's interface (names are fixed; export your model with them):
 *   inputs
 *     sample                 float32 [B, 3, H, W], NCHW, model space [-1, 1]
 *     timestep               int64 or float32 [B] (or a scalar-per-batch [B]), integer DDPM step
 *     cond_flag (optional)   float32 [B]: 1 = conditioned on the prompt, 0 = unconditional
 *     encoder_hidden_states (optional)
 *                            float32 [B, L, D]: the prompt's embedding, taken from `embeddings`
 *                            (a JSON file or object { "<prompt>": number[L*D], "": number[L*D] },
 *                            "" being the unconditional embedding)
 *   output
 *     noise_pred             float32 [B, 3, H, W] (or the model's only output)
 * H and W come from the model's input shape when they are fixed, else from `resolution`.
 * With a conditioning input, CFG runs the unconditional and conditional halves in one batch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InputError } from '../errors.ts';
import { classifierFreeGuidance, ddpmSchedule, type DdpmSchedule, type DdpmScheduleOptions, type NoiseRequest, type ScorePrior } from './score-prior.ts';

export interface OnnxDenoiserOptions {
  /** Local path of the .onnx model. */
  path: string;
  /** Relative paths (model, embeddings) are resolved against this folder. */
  baseDir?: string;
  schedule?: DdpmScheduleOptions;
  /** Model resolution when its input shape leaves H and W dynamic. */
  resolution?: { width: number; height: number };
  /** Prompt embeddings for models with `encoder_hidden_states`: a JSON path or an object. */
  embeddings?: string | Record<string, number[]>;
}

type Conditioning = { kind: 'none' } | { kind: 'flag' } | { kind: 'embedding'; length: number; dim: number; table: Record<string, number[]> };

function tensorMeta(session: ort.InferenceSession, name: string): { type: string; shape: readonly (number | string)[] } | undefined {
  const i = session.inputNames.indexOf(name);
  if (i < 0) return undefined;
  const m = session.inputMetadata?.[i];
  if (!m || !m.isTensor) return { type: 'float32', shape: [] };
  return { type: m.type, shape: m.shape };
}

export class OnnxDenoiser implements ScorePrior {
  readonly name = 'onnx';
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly schedule: DdpmSchedule,
    readonly resolution: { width: number; height: number },
    private readonly timestepType: 'int64' | 'float32',
    private readonly conditioning: Conditioning,
    private readonly outputName: string,
    private readonly label: string,
  ) {}

  static async create(options: OnnxDenoiserOptions): Promise<OnnxDenoiser> {
    if (typeof options.path !== 'string' || options.path === '')
      throw new InputError(`onnx prior: 'path' must name a local .onnx file.`);
    const base = options.baseDir ?? process.cwd();
    const full = isAbsolute(options.path) ? options.path : resolve(base, options.path);
    if (!existsSync(full))
      throw new InputError(`onnx prior: model file '${options.path}' not found (looked for ${full}); export or download the denoiser there, or use the exemplar prior.`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(full);
    } catch (e) {
      throw new InputError(`onnx prior: '${full}' is not a loadable ONNX model: ${(e as Error).message}`);
    }
    const label = `onnx prior '${options.path}'`;
    const sample = tensorMeta(session, 'sample');
    const timestep = tensorMeta(session, 'timestep');
    if (!sample || !timestep)
      throw new InputError(`${label}: the model needs inputs 'sample' and 'timestep'; it has ${session.inputNames.join(', ')}.`);
    const known = ['sample', 'timestep', 'cond_flag', 'encoder_hidden_states'];
    const unknown = session.inputNames.filter((n) => !known.includes(n));
    if (unknown.length) throw new InputError(`${label}: unknown model inputs ${unknown.join(', ')}; supported inputs are ${known.join(', ')}.`);
    if (timestep.type !== 'int64' && timestep.type !== 'float32')
      throw new InputError(`${label}: input 'timestep' must be int64 or float32, the model has ${timestep.type}.`);
    const shape = sample.shape;
    if (shape.length === 4 && typeof shape[1] === 'number' && shape[1] !== 3)
      throw new InputError(`${label}: input 'sample' must have 3 channels (NCHW), the model has ${shape[1]}.`);
    let resolution = options.resolution;
    if (shape.length === 4 && typeof shape[2] === 'number' && typeof shape[3] === 'number') {
      const fixed = { width: shape[3], height: shape[2] };
      if (resolution && (resolution.width !== fixed.width || resolution.height !== fixed.height))
        throw new InputError(`${label}: 'resolution' ${resolution.width}x${resolution.height} disagrees with the model's fixed ${fixed.width}x${fixed.height}.`);
      resolution = fixed;
    }
    if (!resolution || !(resolution.width > 0 && resolution.height > 0))
      throw new InputError(`${label}: the model's image size is dynamic; give 'resolution': {"width": W, "height": H}.`);

    let conditioning: Conditioning = { kind: 'none' };
    if (session.inputNames.includes('cond_flag')) conditioning = { kind: 'flag' };
    const ehs = tensorMeta(session, 'encoder_hidden_states');
    if (ehs) {
      if (options.embeddings === undefined)
        throw new InputError(`${label}: the model takes 'encoder_hidden_states'; give 'embeddings' (a JSON file of { "<prompt>": [...], "": [...] }).`);
      let table: Record<string, number[]>;
      if (typeof options.embeddings === 'string') {
        const p = isAbsolute(options.embeddings) ? options.embeddings : resolve(base, options.embeddings);
        if (!existsSync(p)) throw new InputError(`${label}: embeddings file '${options.embeddings}' not found (looked for ${p}).`);
        try {
          table = JSON.parse(readFileSync(p, 'utf8'));
        } catch (e) {
          throw new InputError(`${label}: embeddings file '${p}' is not valid JSON: ${(e as Error).message}`);
        }
      } else table = options.embeddings;
      const [, L, D] = ehs.shape;
      if (typeof L !== 'number' || typeof D !== 'number')
        throw new InputError(`${label}: input 'encoder_hidden_states' needs fixed [B, L, D] dimensions.`);
      if (!Array.isArray(table['']) || table[''].length !== L * D)
        throw new InputError(`${label}: 'embeddings' needs an unconditional entry "" with ${L * D} numbers.`);
      conditioning = { kind: 'embedding', length: L, dim: D, table };
    }
    const outputName = session.outputNames.includes('noise_pred') ? 'noise_pred' : session.outputNames[0];
    if (session.outputNames.length > 1 && outputName !== 'noise_pred')
      throw new InputError(`${label}: the model has several outputs (${session.outputNames.join(', ')}); name the noise prediction 'noise_pred'.`);
    return new OnnxDenoiser(session, ddpmSchedule(options.schedule), resolution, timestep.type as 'int64' | 'float32', conditioning, outputName, label);
  }

  /** Runs the model on a batch of NHWC images with one timestep and condition per image. */
  private async run(nhwc: Float32Array, count: number, t: number[], conditional: boolean[], prompt: string): Promise<Float32Array> {
    const { width: W, height: H } = this.resolution;
    const nchw = new Float32Array(count * 3 * H * W);
    for (let b = 0; b < count; b++)
      for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) nchw[((b * 3 + c) * H * W) + p] = nhwc[(b * H * W + p) * 3 + c];
    const feeds: Record<string, ort.Tensor> = {
      sample: new ort.Tensor('float32', nchw, [count, 3, H, W]),
      timestep:
        this.timestepType === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from(t, (x) => BigInt(Math.round(x))), [count])
          : new ort.Tensor('float32', Float32Array.from(t), [count]),
    };
    const cond = this.conditioning;
    if (cond.kind === 'flag') feeds.cond_flag = new ort.Tensor('float32', Float32Array.from(conditional, (c) => (c ? 1 : 0)), [count]);
    if (cond.kind === 'embedding') {
      const text = cond.table[prompt];
      if (conditional.some(Boolean) && (!Array.isArray(text) || text.length !== cond.length * cond.dim))
        throw new InputError(`${this.label}: 'embeddings' has no entry of ${cond.length * cond.dim} numbers for the prompt "${prompt}"; add one.`);
      const data = new Float32Array(count * cond.length * cond.dim);
      for (let b = 0; b < count; b++) data.set(conditional[b] ? text : cond.table[''], b * cond.length * cond.dim);
      feeds.encoder_hidden_states = new ort.Tensor('float32', data, [count, cond.length, cond.dim]);
    }
    const out = (await this.session.run(feeds))[this.outputName];
    if (!out || out.type !== 'float32' || out.data.length !== nchw.length)
      throw new InputError(`${this.label}: output '${this.outputName}' must be float32 [${count}, 3, ${H}, ${W}].`);
    const eps = out.data as Float32Array;
    const nhwcOut = new Float32Array(nchw.length);
    for (let b = 0; b < count; b++)
      for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) nhwcOut[(b * H * W + p) * 3 + c] = eps[((b * 3 + c) * H * W) + p];
    return nhwcOut;
  }

  async predictNoise(req: NoiseRequest): Promise<Float32Array> {
    const { views, width, height, data } = req.noisy;
    if (width !== this.resolution.width || height !== this.resolution.height)
      throw new InputError(`${this.label}: images must be ${this.resolution.width}x${this.resolution.height}, got ${width}x${height}.`);
    const V = views;
    if (this.conditioning.kind === 'none') return this.run(data, V, req.t, new Array(V).fill(false), req.prompt);
    if (req.guidanceScale === 1) return this.run(data, V, req.t, new Array(V).fill(true), req.prompt);
    // Unconditional and conditional halves in one batch.
    const both = new Float32Array(2 * data.length);
    both.set(data, 0);
    both.set(data, data.length);
    const eps = await this.run(both, 2 * V, [...req.t, ...req.t], [...new Array(V).fill(false), ...new Array(V).fill(true)], req.prompt);
    return classifierFreeGuidance(eps.subarray(0, data.length), eps.subarray(data.length), req.guidanceScale);
  }

  async destroy(): Promise<void> {
    await this.session.release();
  }
}
