/**
 * `clip`: cosine similarity between each view's CLIP image embedding and the prompt's text
 * embedding, from an exported CLIP model in a local folder (onnxruntime-node, CPU):
 *   vision encoder: vision_model.onnx | onnx/vision_model.onnx | visual.onnx   input pixel_values [B,3,S,S]
 *   text encoder:   text_model.onnx | onnx/text_model.onnx | textual.onnx      input input_ids [B,L] (+ attention_mask)
 *   tokenizer:      vocab.json + merges.txt, or tokenizer.json
 *   optional preprocessor_config.json (crop_size / size, image_mean, image_std)
 * Outputs named image_embeds / text_embeds are used when present, else the first output; they
 * must be [B, D]. Not differentiable (the model runs on the CPU).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { Gpu } from '../gpu/gpu.ts';
import { InputError } from '../errors.ts';
import type { RewardNeeds, RewardPlugin, RewardScore, RewardViews } from './plugin.ts';
import { ClipTokenizer } from './clip-tokenizer.ts';
import { CLIP_MEAN, CLIP_STD, preprocessViews } from './clip-preprocess.ts';
import { validateOptions } from './registry.ts';

export const optionsSchema = {
  type: 'object',
  required: ['modelDir'],
  additionalProperties: false,
  properties: {
    modelDir: { type: 'string', minLength: 1 },
    /** Views per vision-encoder call. */
    batchSize: { type: 'integer', minimum: 1, default: 8 },
    /** Overrides the input size from preprocessor_config.json (default 224). */
    imageSize: { type: 'integer', minimum: 1 },
    contextLength: { type: 'integer', minimum: 3, default: 77 },
    threads: { type: 'integer', minimum: 0, default: 0 },
  },
};

interface Options {
  modelDir: string;
  batchSize: number;
  imageSize?: number;
  contextLength: number;
  threads: number;
}

const VISION = ['vision_model.onnx', 'onnx/vision_model.onnx', 'visual.onnx'];
const TEXT = ['text_model.onnx', 'onnx/text_model.onnx', 'textual.onnx'];

function findFile(dir: string, names: string[], what: string): string {
  for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  throw new InputError(`clip: no ${what} in ${dir}; expected one of ${names.join(', ')} (an exported CLIP model folder).`);
}

function pickOutput(session: Ort.InferenceSession, preferred: string): string {
  return session.outputNames.includes(preferred) ? preferred : session.outputNames[0];
}

function normalizeRows(data: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let k = 0; k < dim; k++) n += data[r * dim + k] ** 2;
    n = Math.sqrt(n) || 1;
    for (let k = 0; k < dim; k++) out[r * dim + k] = data[r * dim + k] / n;
  }
  return out;
}

export class ClipReward implements RewardPlugin {
  readonly name = 'clip';
  readonly differentiable = false;
  /** Reads rgb only. */
  readonly needs: RewardNeeds = { normal: false };
  private ort!: typeof Ort;
  private vision?: Ort.InferenceSession;
  private text?: Ort.InferenceSession;
  private tokenizer?: ClipTokenizer;
  private size = 224;
  private mean: number[] = CLIP_MEAN;
  private std: number[] = CLIP_STD;
  private textCache: { prompt: string; emb: Float32Array } | null = null;
  private readonly dir: string;

  constructor(private readonly o: Options, baseDir = process.cwd()) {
    this.dir = isAbsolute(o.modelDir) ? o.modelDir : resolve(baseDir, o.modelDir);
  }

  async setup(): Promise<void> {
    if (this.vision) return;
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory())
      throw new InputError(`clip: model folder '${this.dir}' does not exist; set options.modelDir to an exported CLIP model folder.`);
    const visionPath = findFile(this.dir, VISION, 'vision encoder');
    const textPath = findFile(this.dir, TEXT, 'text encoder');
    this.tokenizer = ClipTokenizer.fromFolder(this.dir, this.o.contextLength);
    const pre = join(this.dir, 'preprocessor_config.json');
    if (existsSync(pre)) {
      const cfg = JSON.parse(readFileSync(pre, 'utf8'));
      const crop = cfg.crop_size ?? cfg.size;
      const s = typeof crop === 'number' ? crop : (crop?.height ?? crop?.shortest_edge);
      if (typeof s === 'number') this.size = s;
      if (Array.isArray(cfg.image_mean) && cfg.image_mean.length === 3) this.mean = cfg.image_mean;
      if (Array.isArray(cfg.image_std) && cfg.image_std.length === 3) this.std = cfg.image_std;
    }
    if (this.o.imageSize) this.size = this.o.imageSize;
    this.ort = await import('onnxruntime-node');
    const opts: Ort.InferenceSession.SessionOptions = this.o.threads ? { intraOpNumThreads: this.o.threads } : {};
    try {
      this.vision = await this.ort.InferenceSession.create(visionPath, opts);
      this.text = await this.ort.InferenceSession.create(textPath, opts);
    } catch (e) {
      throw new InputError(`clip: could not load the ONNX models in ${this.dir}: ${(e as Error).message}`);
    }
    if (!this.vision.inputNames.includes('pixel_values'))
      throw new InputError(`clip: ${visionPath} has inputs [${this.vision.inputNames.join(', ')}]; expected 'pixel_values'.`);
    if (!this.text.inputNames.includes('input_ids'))
      throw new InputError(`clip: ${textPath} has inputs [${this.text.inputNames.join(', ')}]; expected 'input_ids'.`);
  }

  private embedding(t: Ort.Tensor, rows: number, what: string): Float32Array {
    if (t.dims.length !== 2 || t.dims[0] !== rows)
      throw new InputError(`clip: the ${what} encoder's output has shape [${t.dims.join(', ')}]; expected [${rows}, D] embeddings (export with projection, e.g. image_embeds/text_embeds).`);
    return normalizeRows(t.data as Float32Array, rows, t.dims[1]);
  }

  private async textEmbedding(prompt: string): Promise<Float32Array> {
    if (this.textCache?.prompt === prompt) return this.textCache.emb;
    const { ids, mask } = this.tokenizer!.encode(prompt);
    const L = ids.length;
    const feeds: Record<string, Ort.Tensor> = { input_ids: new this.ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, L]) };
    if (this.text!.inputNames.includes('attention_mask')) feeds.attention_mask = new this.ort.Tensor('int64', BigInt64Array.from(mask, BigInt), [1, L]);
    const out = await this.text!.run(feeds);
    const emb = this.embedding(out[pickOutput(this.text!, 'text_embeds')], 1, 'text');
    this.textCache = { prompt, emb };
    return emb;
  }

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    await this.setup();
    const { views: V, width: W, height: H } = views;
    const text = await this.textEmbedding(views.prompt);
    const rgb = await gpu.readF32(views.rgb, V * W * H * 3);
    const scores = new Float32Array(V);
    const S = this.size;
    for (let start = 0; start < V; start += this.o.batchSize) {
      const batch = Array.from({ length: Math.min(this.o.batchSize, V - start) }, (_, k) => start + k);
      const pixels = preprocessViews(rgb, batch, W, H, S, this.mean, this.std);
      const out = await this.vision!.run({ pixel_values: new this.ort.Tensor('float32', pixels, [batch.length, 3, S, S]) });
      const emb = this.embedding(out[pickOutput(this.vision!, 'image_embeds')], batch.length, 'vision');
      const D = emb.length / batch.length;
      if (D !== text.length) throw new InputError(`clip: image embeddings have ${D} dimensions but text embeddings ${text.length}.`);
      batch.forEach((v, k) => {
        let c = 0;
        for (let d = 0; d < D; d++) c += emb[k * D + d] * text[d];
        scores[v] = c;
      });
    }
    return { scores, details: { similarity: scores.reduce((a, b) => a + b, 0) / V } };
  }

  async teardown(): Promise<void> {
    await this.vision?.release();
    await this.text?.release();
    this.vision = this.text = undefined;
  }
}

export default function createClipReward(options: Record<string, unknown>): RewardPlugin {
  return new ClipReward(validateOptions('clip', optionsSchema, options) as unknown as Options);
}
