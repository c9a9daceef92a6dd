/**
 * The reward plugin contract. A plugin scores a batch of rendered views (the renderer's
 * output plus cameras, times and the prompt) with one number per view, higher is better.
 * A differentiable plugin also returns d(sum of its scores)/d(images) as GPU buffers laid out
 * like the images. When each view's score depends only on that view's images, the ensemble
 * weights that gradient per view. A cross-view plugin (a view's score reads other views, e.g.
 * consistency) implements `weightedGradient` instead, which the ensemble calls with the
 * weight of every view's score.
 *
 * A plugin module default-exports a factory `(options) => RewardPlugin` and may export an
 * `optionsSchema` (JSON schema) that the registry validates the options against.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { RenderCotangents, RenderOutput } from '../render/types.ts';

export interface RewardSplats {
  count: number;
  /** [N][3] world positions. */
  means: GPUBuffer;
  /** [N][3] log scales (raw, as stored). */
  logScales: GPUBuffer;
  /** [N] opacity logits (raw). */
  opacityLogits: GPUBuffer;
}

export interface RewardViews extends RenderOutput {
  /** One time per view (0 for static scenes). */
  times: number[];
  prompt: string;
  /**
   * The splats that made the views, when the representation has them. One set: it made every
   * view. An array of G sets: the views form G equal consecutive groups (candidates of
   * grpo/dpo/reward-weighted sds, each rendered from its own parameters) and set g made the
   * views g * V / G .. (g + 1) * V / G - 1; use `splatGroups` to read either form.
   */
  splats?: RewardSplats | RewardSplats[];
}

/** The views' splats as groups of consecutive views (one group for the single form). */
export function splatGroups(views: Pick<RewardViews, 'views' | 'splats'>): { first: number; views: number; splats: RewardSplats }[] {
  if (!views.splats) return [];
  const sets = Array.isArray(views.splats) ? views.splats : [views.splats];
  if (sets.length === 0 || views.views % sets.length !== 0)
    throw new Error(`RewardViews: ${sets.length} splat sets cannot split ${views.views} views into equal groups.`);
  const per = views.views / sets.length;
  return sets.map((splats, g) => ({ first: g * per, views: per, splats }));
}

export interface RewardScore {
  /** One score per view; higher is better. */
  scores: Float32Array;
  /**
   * d(sum of scores)/d(images); a missing buffer is zero. Only differentiable plugins return it.
   * The buffers pass to the caller (the ensemble destroys them once it has combined them).
   */
  grads?: RenderCotangents;
  /** Named sub-scores (means over the batch) for the metrics log. */
  details?: Record<string, number>;
  /** Things the user should know (e.g. prompt words a reward does not understand). */
  warnings?: string[];
}

/** Render outputs a plugin reads beyond rgb, alpha and depth (which every render has). */
export interface RewardNeeds {
  /** RenderOutput.distortion: the trainer renders with `distortion: true` (splats only). */
  distortion?: boolean;
  /**
   * RenderOutput.normal. Unless some plugin needs it, the trainer renders without normals
   * (`normals: false`; a NeRF's normal image is then zeros). Default true: a plugin that does
   * not say may read `views.normal`, so only an explicit `false` lets the trainer skip them.
   */
  normal?: boolean;
}

/** A plugin's needs with the defaults filled in (distortion off, normal on). */
export function resolveNeeds(needs: RewardNeeds | undefined): Required<RewardNeeds> {
  return { distortion: needs?.distortion === true, normal: needs?.normal !== false };
}

/** What the caller of score() wants besides the scores. */
export interface ScoreRequest {
  /** False when nobody reads `grads` (ranking algorithms): a plugin may skip its backward. Default true. */
  gradients?: boolean;
}

export interface RewardPlugin {
  name: string;
  differentiable: boolean;
  /** Render outputs this plugin reads beyond rgb, alpha and depth (fixed once the plugin is made; see RewardNeeds for the defaults). */
  needs?: RewardNeeds;
  setup?(gpu: Gpu): Promise<void>;
  teardown?(): Promise<void> | void;
  score(views: RewardViews, gpu: Gpu, request?: ScoreRequest): Promise<RewardScore>;
  /**
   * Cross-view plugins: d(sum_v weights[v] * scores[v])/d(images) of the batch the last
   * score() call saw (its image buffers are still alive then). The ensemble calls it right
   * after score(..., { gradients: false }) with the weight of each view's score in the
   * aggregated total, which per-view weighting of `grads` cannot express for such plugins.
   */
  weightedGradient?(weights: Float32Array, gpu: Gpu): Promise<RenderCotangents>;
}

export type RewardFactory = (options: Record<string, unknown>) => RewardPlugin;

/** What a plugin module exports. */
export interface RewardPluginModule {
  default: RewardFactory;
  optionsSchema?: object;
}

/** How a scene config names a reward: a built-in `name` or a `module` path, a weight and options. */
export interface RewardSpec {
  name?: string;
  module?: string;
  weight: number;
  options?: object;
}
