/**
 * One optimisation step made of image-space terms: render the step's cameras, score them
 * once, let each term add its image gradient, clip, and back-propagate once through the
 * representation.
 */
import type { StepContext, StepReport } from './algorithm.ts';
import { CotangentAccumulator, type CotangentKernels } from './cotangents.ts';
import { rewardViews } from './candidates.ts';
import { prefixed, rewardMetrics, type ImageTerm } from './terms.ts';

export async function runImageTerms(
  ctx: StepContext,
  kernels: CotangentKernels,
  terms: { term: ImageTerm; weight: number }[],
  gradClip: number,
): Promise<StepReport> {
  const frame = await ctx.representation.render(ctx.cameras, ctx.renderOptions);
  const acc = new CotangentAccumulator(ctx.gpu, kernels, frame);
  try {
    // Image gradients of the rewards only when a term reads them (sds alone only needs scores).
    const gradients = terms.some(({ term, weight }) => weight !== 0 && term.usesRewardGradient);
    const scored = await ctx.rewards.score(rewardViews(frame, ctx.prompt, ctx.representation.rewardSplats?.(frame)), { gradients });
    const metrics: Record<string, number> = rewardMetrics(scored);
    let loss = 0;
    let hasLoss = false;
    // Terms that read the ensemble's gradient go first: a later ensemble call frees it.
    const ordered = [...terms].sort((a, b) => Number(b.term.usesRewardGradient) - Number(a.term.usesRewardGradient));
    for (const { term, weight } of ordered) {
      if (weight === 0) continue;
      const r = await term.addImageGradient(ctx, frame, scored, acc, weight);
      Object.assign(metrics, prefixed(term.name, r.metrics));
      if (r.loss !== undefined) {
        loss += weight * r.loss;
        hasLoss = true;
      }
    }
    if (!acc.empty) {
      await acc.clip(gradClip);
      await ctx.representation.backward(frame, acc.cotangents());
    }
    return { reward: scored.total, ...(hasLoss ? { loss } : {}), metrics };
  } finally {
    acc.destroy();
    frame.destroy();
  }
}
