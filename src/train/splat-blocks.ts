/** The splat parameter blocks by name, with their row widths and buffers (shared by densifiers and the adapter). */
import { GaussianCloud, GaussianGrads } from '../scene/gaussian-cloud.ts';

export const SPLAT_BLOCK_NAMES = ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const;
export type SplatBlockName = (typeof SPLAT_BLOCK_NAMES)[number];

export function blockWidth(name: SplatBlockName, shCoeffs: number): number {
  return { means: 3, logScales: 3, quats: 4, opacityLogits: 1, sh: shCoeffs * 3 }[name];
}

export function cloudBuffer(cloud: GaussianCloud, name: SplatBlockName): GPUBuffer {
  return cloud[name];
}

export function gradBuffer(grads: GaussianGrads, name: SplatBlockName): GPUBuffer {
  return grads[name];
}

/** The state densification works on and replaces. */
export interface SplatState {
  cloud: GaussianCloud;
  grads: GaussianGrads;
}
