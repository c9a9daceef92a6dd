/**
 * An example reward plugin: "centredness". It rewards views whose foreground (alpha) is
 * centred on a target point of the image, which keeps the object in frame while cameras
 * orbit. It is differentiable in alpha.
 *
 *   score_v = -|c_v - target|^2,  c_v = sum_p alpha_p * p / sum_p alpha_p  (p in [0, 1]^2)
 *
 * Register it in a scene config with a path relative to the config file:
 *   "rewards": [{ "module": "plugins/example-plugin.ts", "weight": 0.2, "options": { "target": [0.5, 0.5] } }]
 */
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { RewardPlugin, RewardScore, RewardViews } from '../../src/rewards/plugin.ts';

/** Validated by the registry (ajv); defaults are filled in before the factory runs. */
export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    target: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2, default: [0.5, 0.5] },
    /** Score of a view with nothing in it. */
    emptyScore: { type: 'number', default: -1 },
  },
};

export default function centredness(options: Record<string, unknown>): RewardPlugin {
  const [tx, ty] = (options.target as [number, number] | undefined) ?? [0.5, 0.5];
  const emptyScore = (options.emptyScore as number | undefined) ?? -1;
  return {
    name: 'centredness',
    differentiable: true,
    async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
      const { views: V, width: W, height: H } = views;
      const alpha = await gpu.readF32(views.alpha, V * W * H);
      const scores = new Float32Array(V);
      const grad = new Float32Array(V * W * H);
      let offset = 0;
      for (let v = 0; v < V; v++) {
        let mass = 0;
        let sx = 0;
        let sy = 0;
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const a = alpha[(v * H + y) * W + x];
            mass += a;
            sx += a * ((x + 0.5) / W);
            sy += a * ((y + 0.5) / H);
          }
        if (mass <= 1e-6) {
          scores[v] = emptyScore;
          continue;
        }
        const cx = sx / mass;
        const cy = sy / mass;
        scores[v] = -((cx - tx) ** 2 + (cy - ty) ** 2);
        offset += Math.hypot(cx - tx, cy - ty) / V;
        // d score / d alpha_p through the centroid: dc/dalpha_p = (p - c) / mass.
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++)
            grad[(v * H + y) * W + x] = (-2 * ((cx - tx) * ((x + 0.5) / W - cx) + (cy - ty) * ((y + 0.5) / H - cy))) / mass;
      }
      return { scores, grads: { alpha: gpu.upload('centredness.dalpha', grad) }, details: { offset } };
    },
  };
}
