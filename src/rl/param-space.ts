/**
 * Shared machinery of the parameter-space rules (grpo, dpo): the selected blocks, the
 * snapshots of the sampling mean ("old") and the reference, checkpoint state, and the
 * evaluation of antithetic candidates mu +- sigma * eps_p in one ensemble call.
 */
import { InputError } from '../errors.ts';
import type { StepContext } from './algorithm.ts';
import { sameSelection, selectBlocks, type BlockSelection } from './block-selection.ts';
import { CandidateBatch, rewardViews } from './candidates.ts';
import { ParamPolicy, ParamSnapshot } from './param-policy.ts';
import type { EnsembleScore } from '../rewards/ensemble.ts';

export interface PolicySnapshots {
  selection: BlockSelection;
  old: ParamSnapshot;
  ref: ParamSnapshot;
  /** True when the snapshots were just (re)made from the current parameters. */
  fresh: boolean;
}

export interface SavedSnapshots {
  blocks: { name: string; count: number }[];
  old: number[][];
  ref: number[][];
}

/** A u32 seed from the step's deterministic random stream. */
export function drawSeed(ctx: StepContext): number {
  return Math.floor(ctx.random() * 4294967296) >>> 0;
}

export class PolicyStateHolder {
  private current: PolicySnapshots | undefined;
  private pending: SavedSnapshots | undefined;

  constructor(
    private readonly owner: string,
    private readonly blockNames: 'all' | string[],
  ) {}

  /** The snapshots for this step; remade (reference = current parameters) when the blocks changed. */
  async get(ctx: StepContext): Promise<PolicySnapshots> {
    const selection = selectBlocks(this.owner, ctx.representation, this.blockNames);
    if (this.current && sameSelection(this.current.selection, selection)) {
      this.current.fresh = false;
      return this.current;
    }
    this.release();
    const old = new ParamSnapshot(ctx.gpu, selection, `${this.owner}:old`);
    const ref = new ParamSnapshot(ctx.gpu, selection, `${this.owner}:ref`);
    await ctx.gpu.run(`${this.owner}:snapshot`, (enc) => {
      old.capture(enc);
      ref.capture(enc);
    });
    if (this.pending) {
      const saved = this.pending;
      this.pending = undefined;
      const same =
        saved.blocks.length === selection.blocks.length &&
        saved.blocks.every((b, i) => b.name === selection.blocks[i].block.name && b.count === selection.blocks[i].block.count);
      if (!same) {
        throw new InputError(
          `${this.owner}: the checkpoint's policy state covers blocks ${saved.blocks.map((b) => `${b.name}[${b.count}]`).join(', ')}, but the representation now has ${selection.blocks.map((s) => `${s.block.name}[${s.block.count}]`).join(', ')}; resume from a matching checkpoint.`,
        );
      }
      old.load(saved.old);
      ref.load(saved.ref);
      this.current = { selection, old, ref, fresh: false };
      return this.current;
    }
    this.current = { selection, old, ref, fresh: true };
    return this.current;
  }

  async save(): Promise<SavedSnapshots | null> {
    if (!this.current) return this.pending ?? null;
    return {
      blocks: this.current.selection.blocks.map((s) => ({ name: s.block.name, count: s.block.count })),
      old: await this.current.old.toArrays(),
      ref: await this.current.ref.toArrays(),
    };
  }

  load(saved: SavedSnapshots | null): void {
    this.release();
    this.pending = saved ?? undefined;
  }

  release(): void {
    this.current?.old.destroy();
    this.current?.ref.destroy();
    this.current = undefined;
  }
}

export interface AntitheticRewards {
  /** Reward of the unperturbed parameters. */
  mean: number;
  plus: number[];
  minus: number[];
  scored: EnsembleScore;
}

/**
 * Renders mu (the current parameters, which must equal `base`), then mu + sigma eps_p and
 * mu - sigma eps_p for every seed, restores mu exactly, and scores all in one call.
 */
export async function evaluateAntithetic(
  ctx: StepContext,
  policy: ParamPolicy,
  snaps: { selection: BlockSelection; base: ParamSnapshot },
  seeds: number[],
  sigma: number,
): Promise<AntitheticRewards> {
  let batch: CandidateBatch | undefined;
  try {
    const first = await ctx.representation.render(ctx.cameras, ctx.renderOptions);
    try {
      batch = new CandidateBatch(ctx.gpu, 1 + 2 * seeds.length, first);
      await batch.add(first, {}, { splats: ctx.representation.rewardSplats?.(first) });
    } finally {
      first.destroy();
    }
    try {
      for (const seed of seeds) {
        for (const sign of [1, -1]) {
          await policy.perturb(snaps.selection, snaps.base, seed, sign * sigma);
          const frame = await ctx.representation.render(ctx.cameras, ctx.renderOptions);
          try {
            // The splats are copied now: the parameters are restored after the last render.
            await batch.add(frame, {}, { splats: ctx.representation.rewardSplats?.(frame) });
          } finally {
            frame.destroy();
          }
        }
      }
    } finally {
      await policy.restore(snaps.base);
    }
    const { rewards, result } = await batch.score(ctx.rewards, ctx.prompt);
    return {
      mean: rewards[0],
      plus: seeds.map((_, p) => rewards[1 + 2 * p]),
      minus: seeds.map((_, p) => rewards[2 + 2 * p]),
      scored: result,
    };
  } finally {
    batch?.destroy();
  }
}

/** Scores the current parameters alone (steps that reuse an earlier group). */
export async function evaluateCurrent(ctx: StepContext): Promise<EnsembleScore> {
  const frame = await ctx.representation.render(ctx.cameras, ctx.renderOptions);
  try {
    return await ctx.rewards.score(rewardViews(frame, ctx.prompt, ctx.representation.rewardSplats?.(frame)), { gradients: false });
  } finally {
    frame.destroy();
  }
}
