/**
 * Scoring several candidate renders in ONE ensemble call. Group-relative rules (grpo, dpo,
 * reward-weighted sds) compare candidates, and the ensemble's normalisation ('running'
 * statistics, per-batch 'rank') must treat the candidates of a group alike, so their views
 * are concatenated into one batch of G x V views; a candidate's reward is the mean of its
 * views' combined scores. The splats that made each candidate go with it (one RewardSplats
 * per candidate), so splat terms judge every candidate by its own splats and views.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderOutput } from '../render/types.ts';
import type { EnsembleScore, RewardEnsemble } from '../rewards/ensemble.ts';
import type { RewardSplats, RewardViews } from '../rewards/plugin.ts';

export type Scorer = Pick<RewardEnsemble, 'score'>;

const CHANNELS = { rgb: 3, alpha: 1, depth: 1, normal: 3 } as const;
type Key = keyof typeof CHANNELS;
const KEYS = Object.keys(CHANNELS) as Key[];

/** The reward batch of one render; `splats` are the ones that made it (Representation.rewardSplats). */
export function rewardViews(frame: RenderOutput, prompt: string, splats?: RewardSplats): RewardViews {
  return {
    views: frame.views,
    width: frame.width,
    height: frame.height,
    cameras: frame.cameras,
    rgb: frame.rgb,
    alpha: frame.alpha,
    depth: frame.depth,
    normal: frame.normal,
    ...(frame.distortion ? { distortion: frame.distortion } : {}),
    times: frame.cameras.map((c) => c.time ?? 0),
    prompt,
    ...(splats ? { splats } : {}),
  };
}

const SPLAT_FIELDS = { means: 3, logScales: 3, opacityLogits: 1 } as const;

export interface CandidateScores {
  /** Mean over each candidate's views of the ensemble's per-view score. */
  rewards: number[];
  /** perView of candidate c, view v is perView[c * views + v]. */
  perView: Float32Array;
  result: EnsembleScore;
}

/** Collects candidate renders (copied, so the caller may destroy each frame at once). */
export class CandidateBatch {
  private readonly buffers: Record<Key, GPUBuffer>;
  /** Candidates' distortion images, when their frames carry them (rewards that need it). */
  private distortion?: GPUBuffer;
  private added = 0;
  private readonly cameras: Camera[] = [];
  /** Each candidate's splats (undefined where its render had none). */
  private readonly splats: (RewardSplats | undefined)[] = [];
  /** Splat copies this batch owns. */
  private readonly owned: GPUBuffer[] = [];

  constructor(
    private readonly gpu: Gpu,
    private readonly capacity: number,
    private readonly shape: { views: number; width: number; height: number },
  ) {
    const pixels = shape.views * shape.width * shape.height;
    this.buffers = Object.fromEntries(
      KEYS.map((k) => [k, gpu.buffer(`rl:candidates:${k}`, capacity * pixels * CHANNELS[k] * 4)]),
    ) as Record<Key, GPUBuffer>;
  }

  get count(): number {
    return this.added;
  }

  /**
   * Copies a frame's buffers into slot `count`; an override replaces one of them (e.g. rgb).
   * `splats` made the frame. They are copied too, since callers perturb and restore the
   * parameters between renders, unless `shared` (candidates that differ only in image space,
   * whose splats stay unchanged until score()).
   */
  async add(frame: RenderOutput, override: Partial<Record<Key, GPUBuffer>> = {}, opts: { splats?: RewardSplats; shared?: boolean } = {}): Promise<void> {
    if (this.added >= this.capacity) throw new Error(`CandidateBatch holds at most ${this.capacity} candidates`);
    const { views, width, height } = this.shape;
    if (frame.views !== views || frame.width !== width || frame.height !== height)
      throw new Error(`candidate render is ${frame.views}x${frame.width}x${frame.height}, expected ${views}x${width}x${height}`);
    const pixels = views * width * height;
    const slot = this.added;
    const src = opts.splats;
    let copy: RewardSplats | undefined;
    if (src && !opts.shared) {
      const buf = (f: keyof typeof SPLAT_FIELDS) => this.gpu.buffer(`rl:candidates:splats:${f}`, Math.max(1, src.count) * SPLAT_FIELDS[f] * 4);
      copy = { count: src.count, means: buf('means'), logScales: buf('logScales'), opacityLogits: buf('opacityLogits') };
      this.owned.push(copy.means, copy.logScales, copy.opacityLogits);
    }
    if (frame.distortion) this.distortion ??= this.gpu.buffer('rl:candidates:distortion', this.capacity * pixels * 4);
    await this.gpu.run('rl:candidates:copy', (enc) => {
      for (const k of KEYS) {
        const bytes = pixels * CHANNELS[k] * 4;
        enc.copyBufferToBuffer(override[k] ?? frame[k], 0, this.buffers[k], slot * bytes, bytes);
      }
      if (frame.distortion) enc.copyBufferToBuffer(frame.distortion, 0, this.distortion!, slot * pixels * 4, pixels * 4);
      if (copy && copy.count > 0)
        for (const f of Object.keys(SPLAT_FIELDS) as (keyof typeof SPLAT_FIELDS)[]) enc.copyBufferToBuffer(src![f], 0, copy[f], 0, copy.count * SPLAT_FIELDS[f] * 4);
    });
    this.splats.push(copy ?? src);
    this.cameras.push(...frame.cameras);
    this.added++;
  }

  /** Scores all candidates added so far in one ensemble call. */
  async score(scorer: Scorer, prompt: string): Promise<CandidateScores> {
    const { views, width, height } = this.shape;
    const n = this.added * views;
    // Buffers may be longer than n views when fewer candidates were added; plugins read n.
    const batch: RewardViews = {
      views: n,
      width,
      height,
      cameras: this.cameras.slice(0, n),
      rgb: this.buffers.rgb,
      alpha: this.buffers.alpha,
      depth: this.buffers.depth,
      normal: this.buffers.normal,
      ...(this.distortion ? { distortion: this.distortion } : {}),
      times: this.cameras.slice(0, n).map((c) => c.time ?? 0),
      prompt,
    };
    // One splat set per candidate, when every candidate has one.
    if (this.added > 0 && this.splats.every((s) => s)) batch.splats = this.splats as RewardSplats[];
    // Candidates are compared by their rewards; nobody reads image gradients of the batch.
    const result = await scorer.score(batch, { gradients: false });
    const rewards: number[] = [];
    for (let c = 0; c < this.added; c++) {
      let s = 0;
      for (let v = 0; v < views; v++) s += result.perView[c * views + v];
      rewards.push(s / views);
    }
    return { rewards, perView: result.perView, result };
  }

  destroy(): void {
    for (const k of KEYS) this.buffers[k].destroy();
    this.distortion?.destroy();
    for (const b of this.owned) b.destroy();
  }
}
