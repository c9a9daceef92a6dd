// Test reward plugins (loaded by module path through the real RewardEnsemble).
// `mode: 'smooth'`: r_v = -mean (rgb - target)^2, differentiable.
// `mode: 'quantized'`: r_v = -mean of |rgb - target| rounded down to steps of `step`: piecewise
// constant, so its gradient is zero almost everywhere (a black-box reward).
// `mode: 'threshold'`: r_v = fraction of channels within `step` of the target (no gradient).
import type { RewardPlugin, RewardViews } from '../../../src/rewards/plugin.ts';
import type { Gpu } from '../../../src/gpu/gpu.ts';

export default function factory(options: Record<string, unknown>): RewardPlugin {
  const target = options.target as number[];
  const mode = (options.mode as string) ?? 'smooth';
  const step = (options.step as number) ?? 0.1;
  return {
    name: `target-${mode}`,
    differentiable: mode === 'smooth',
    async score(views: RewardViews, gpu: Gpu) {
      const per = views.width * views.height * 3;
      const rgb = await gpu.readF32(views.rgb, views.views * per);
      const scores = new Float32Array(views.views);
      const grad = mode === 'smooth' ? new Float32Array(views.views * per) : undefined;
      for (let v = 0; v < views.views; v++) {
        let s = 0;
        for (let i = 0; i < per; i++) {
          const d = rgb[v * per + i] - target[i % target.length];
          if (mode === 'smooth') {
            s -= (d * d) / per;
            grad![v * per + i] = (-2 * d) / per;
          } else if (mode === 'quantized') s -= Math.floor(Math.abs(d) / step) * step / per;
          else s += Math.abs(d) < step ? 1 / per : 0;
        }
        scores[v] = s;
      }
      if (!grad) return { scores };
      return { scores, grads: { rgb: gpu.upload('test:reward.grad', grad) } };
    },
  };
}
