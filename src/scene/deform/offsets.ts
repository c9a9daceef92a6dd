/**
 * The per-splat offset vector every deformation field produces and the apply kernels add to
 * the canonical splats: 14 floats per splat, position (3), rotation as an additive quaternion
 * delta in (w, x, y, z) (4, as 4DGS adds it; the renderer normalises), log-scale (3), opacity
 * logit (1) and SH DC colour (3). Channels a field does not drive stay zero.
 */
export const OFFSET_STRIDE = 14;

/** Where each deformed parameter's offset starts in the vector, and how many channels it has. */
export const OFFSET_CHANNELS = {
  means: { at: 0, channels: 3, stride: 3 },
  quats: { at: 3, channels: 4, stride: 4 },
  logScales: { at: 7, channels: 3, stride: 3 },
  opacityLogits: { at: 10, channels: 1, stride: 1 },
  /** Colour offsets add to SH coefficient 0 (DC) only; stride is K*3 and set per scene. */
  sh: { at: 11, channels: 3, stride: 0 },
} as const;

export type DeformedParam = keyof typeof OFFSET_CHANNELS;
export const DEFORMED_PARAMS: DeformedParam[] = ['means', 'quats', 'logScales', 'opacityLogits', 'sh'];
