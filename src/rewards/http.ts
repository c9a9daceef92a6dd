/**
 * `http`: scores views with a reward server (the way ImageReward, HPS or a VLM judge are
 * served). POSTs JSON to `url`:
 *   { prompt, width, height, views: [{ image: "data:image/png;base64,...", camera: { fx, fy, cx, cy, viewmat }, time }] }
 * and expects { scores: number[] } with one finite score per view (higher is better).
 * Time-outs, retries with back-off on network errors and 5xx/429 answers, and errors that
 * name the URL and what went wrong. Not differentiable.
 */
import { encode } from 'fast-png';
import type { Gpu } from '../gpu/gpu.ts';
import type { RewardNeeds, RewardPlugin, RewardScore, RewardViews } from './plugin.ts';
import { validateOptions } from './registry.ts';

export const optionsSchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: '^https?://' },
    timeoutMs: { type: 'number', exclusiveMinimum: 0, default: 30000 },
    retries: { type: 'integer', minimum: 0, default: 2 },
    retryDelayMs: { type: 'number', minimum: 0, default: 500 },
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    /** Send RGBA (true) or RGB (false) PNGs. */
    includeAlpha: { type: 'boolean', default: true },
  },
};

interface Options {
  url: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  headers: Record<string, string>;
  includeAlpha: boolean;
}

/** Encodes view `v` of f32 rgb/alpha as a PNG. */
export function viewToPng(rgb: Float32Array, alpha: Float32Array, v: number, width: number, height: number, withAlpha: boolean): Uint8Array {
  const P = width * height;
  const ch = withAlpha ? 4 : 3;
  const data = new Uint8Array(P * ch);
  const q = (x: number) => Math.max(0, Math.min(255, Math.round(x * 255)));
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < 3; c++) data[p * ch + c] = q(rgb[(v * P + p) * 3 + c]);
    if (withAlpha) data[p * ch + 3] = q(alpha[v * P + p]);
  }
  return encode({ width, height, data, channels: ch, depth: 8 });
}

class RetryableError extends Error {}

export class HttpReward implements RewardPlugin {
  readonly name = 'http';
  readonly differentiable = false;
  /** Sends rgb (and alpha) only. */
  readonly needs: RewardNeeds = { normal: false };
  constructor(private readonly o: Options) {}

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    const { views: V, width: W, height: H } = views;
    const rgb = await gpu.readF32(views.rgb, V * W * H * 3);
    const alpha = await gpu.readF32(views.alpha, V * W * H);
    const body = JSON.stringify({
      prompt: views.prompt,
      width: W,
      height: H,
      views: views.cameras.map((c, v) => ({
        image: `data:image/png;base64,${Buffer.from(viewToPng(rgb, alpha, v, W, H, this.o.includeAlpha)).toString('base64')}`,
        camera: { fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy, viewmat: Array.from(c.viewmat) },
        time: views.times[v] ?? 0,
      })),
    });
    const answer = await this.post(body);
    const scores = (answer as { scores?: unknown })?.scores;
    if (!Array.isArray(scores) || scores.length !== V || !scores.every((s) => typeof s === 'number' && Number.isFinite(s)))
      throw new Error(`reward server ${this.o.url} must answer { "scores": [${V} finite numbers] }; got ${JSON.stringify(answer).slice(0, 200)}`);
    return { scores: Float32Array.from(scores as number[]) };
  }

  private async post(body: string): Promise<unknown> {
    const attempts = this.o.retries + 1;
    let last = '';
    for (let k = 0; k < attempts; k++) {
      if (k > 0) await new Promise((r) => setTimeout(r, this.o.retryDelayMs * 2 ** (k - 1)));
      try {
        return await this.once(body);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        last = e.message;
      }
    }
    throw new Error(`reward server ${this.o.url}: ${last} (after ${attempts} attempt${attempts > 1 ? 's' : ''}); check that the server is running and 'url' is right`);
  }

  private async once(body: string): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.o.headers },
          body,
          signal: controller.signal,
        });
      } catch (e) {
        if (controller.signal.aborted) throw new RetryableError(`did not answer within ${this.o.timeoutMs} ms`);
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const code = cause?.code ?? cause?.message ?? (e as Error).message;
        throw new RetryableError(code === 'ECONNREFUSED' ? 'not reachable (connection refused)' : `not reachable (${code})`);
      }
      const text = await res.text().catch(() => '');
      if (res.status >= 500 || res.status === 429) throw new RetryableError(`answered HTTP ${res.status} ${text.slice(0, 200)}`);
      if (!res.ok) throw new Error(`reward server ${this.o.url} refused the request: HTTP ${res.status} ${text.slice(0, 200)}`);
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`reward server ${this.o.url} answered with something that is not JSON: ${text.slice(0, 200)}`);
      }
    } catch (e) {
      if (controller.signal.aborted && !(e instanceof RetryableError)) throw new RetryableError(`did not answer within ${this.o.timeoutMs} ms`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

export default function createHttpReward(options: Record<string, unknown>): RewardPlugin {
  return new HttpReward(validateOptions('http', optionsSchema, options) as unknown as Options);
}
