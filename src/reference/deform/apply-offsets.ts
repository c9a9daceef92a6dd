/**
 * Reference of the step shared by every deformation field: deformed = canonical + offset for
 * means, quaternions (additive delta, as 4DGS), log-scales, and, where the field drives them,
 * opacity logits and the SH DC colour. Its backward passes cotangents straight through to the
 * canonical parameters and gathers them into offset cotangents [N][14].
 */
import { shCoeffCount, type GaussianData } from '../../scene/gaussian-data.ts';
import { OFFSET_CHANNELS, OFFSET_STRIDE } from '../../scene/deform/offsets.ts';

export interface DrivenChannels {
  opacity: boolean;
  color: boolean;
}

export function applyOffsetsRef(canonical: GaussianData, offsets: ArrayLike<number>, driven: DrivenChannels): GaussianData {
  const n = canonical.count;
  const K3 = shCoeffCount(canonical.shDegree) * 3;
  const out: GaussianData = {
    count: n,
    shDegree: canonical.shDegree,
    means: canonical.means.slice(),
    quats: canonical.quats.slice(),
    logScales: canonical.logScales.slice(),
    opacityLogits: canonical.opacityLogits.slice(),
    sh: canonical.sh.slice(),
  };
  for (let i = 0; i < n; i++) {
    const o = i * OFFSET_STRIDE;
    for (let c = 0; c < 3; c++) out.means[3 * i + c] += offsets[o + OFFSET_CHANNELS.means.at + c];
    for (let c = 0; c < 4; c++) out.quats[4 * i + c] += offsets[o + OFFSET_CHANNELS.quats.at + c];
    for (let c = 0; c < 3; c++) out.logScales[3 * i + c] += offsets[o + OFFSET_CHANNELS.logScales.at + c];
    if (driven.opacity) out.opacityLogits[i] += offsets[o + OFFSET_CHANNELS.opacityLogits.at];
    if (driven.color) for (let c = 0; c < 3; c++) out.sh[K3 * i + c] += offsets[o + OFFSET_CHANNELS.sh.at + c];
  }
  return out;
}

/** Offset cotangents [N][14] from cotangents on the deformed parameters (missing ones are zero). */
export function offsetCotangentsRef(
  count: number,
  shDegree: number,
  d: Partial<Record<'means' | 'quats' | 'logScales' | 'opacityLogits' | 'sh', ArrayLike<number>>>,
  driven: DrivenChannels,
): Float64Array {
  const K3 = shCoeffCount(shDegree) * 3;
  const out = new Float64Array(count * OFFSET_STRIDE);
  for (let i = 0; i < count; i++) {
    const o = i * OFFSET_STRIDE;
    if (d.means) for (let c = 0; c < 3; c++) out[o + c] = d.means[3 * i + c];
    if (d.quats) for (let c = 0; c < 4; c++) out[o + 3 + c] = d.quats[4 * i + c];
    if (d.logScales) for (let c = 0; c < 3; c++) out[o + 7 + c] = d.logScales[3 * i + c];
    if (d.opacityLogits && driven.opacity) out[o + 10] = d.opacityLogits[i];
    if (d.sh && driven.color) for (let c = 0; c < 3; c++) out[o + 11 + c] = d.sh[K3 * i + c];
  }
  return out;
}
