/**
 * Reference of the per-splat trajectory field: offset(t) = sum_b phi_b(tau) * coef[b], with
 * tau = (t - t0) / (t1 - t0) and the basis tau, tau^2, ..., tau^P, then for k = 1..K
 * sin(2 pi k tau) and cos(2 pi k tau) - 1. Every basis function is zero at tau = 0, so the
 * canonical splats are exactly the frame at t0 whatever the coefficients.
 */
import { OFFSET_STRIDE } from '../../scene/deform/offsets.ts';

export interface TrajectoryBasis {
  timeRange: [number, number];
  degree: number;
  frequencies: number;
}

export function basisSize(b: Pick<TrajectoryBasis, 'degree' | 'frequencies'>): number {
  return b.degree + 2 * b.frequencies;
}

export function trajectoryBasisRef(b: TrajectoryBasis, time: number): Float64Array {
  const tau = (time - b.timeRange[0]) / (b.timeRange[1] - b.timeRange[0]);
  const phi = new Float64Array(basisSize(b));
  let p = 1;
  for (let d = 0; d < b.degree; d++) {
    p *= tau;
    phi[d] = p;
  }
  for (let k = 1; k <= b.frequencies; k++) {
    const w = 2 * Math.PI * k * tau;
    phi[b.degree + 2 * (k - 1)] = Math.sin(w);
    phi[b.degree + 2 * (k - 1) + 1] = Math.cos(w) - 1;
  }
  return phi;
}

/** Offsets [N][14]: position from `position` [N][B][3], rotation from `rotation` [N][B][4] when given. */
export function trajectoryOffsetsRef(
  b: TrajectoryBasis,
  count: number,
  position: ArrayLike<number>,
  rotation: ArrayLike<number> | null,
  time: number,
): Float64Array {
  const phi = trajectoryBasisRef(b, time);
  const B = phi.length;
  const out = new Float64Array(count * OFFSET_STRIDE);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < B; k++) {
      for (let c = 0; c < 3; c++) out[i * OFFSET_STRIDE + c] += phi[k] * position[(i * B + k) * 3 + c];
      if (rotation) for (let c = 0; c < 4; c++) out[i * OFFSET_STRIDE + 3 + c] += phi[k] * rotation[(i * B + k) * 4 + c];
    }
  }
  return out;
}

/** Gradients of sum(dOffsets * offsets) with respect to the coefficients. */
export function trajectoryBackwardRef(
  b: TrajectoryBasis,
  count: number,
  time: number,
  dOffsets: ArrayLike<number>,
  withRotation: boolean,
): { position: Float64Array; rotation: Float64Array | null } {
  const phi = trajectoryBasisRef(b, time);
  const B = phi.length;
  const position = new Float64Array(count * B * 3);
  const rotation = withRotation ? new Float64Array(count * B * 4) : null;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < B; k++) {
      for (let c = 0; c < 3; c++) position[(i * B + k) * 3 + c] = phi[k] * dOffsets[i * OFFSET_STRIDE + c];
      if (rotation) for (let c = 0; c < 4; c++) rotation[(i * B + k) * 4 + c] = phi[k] * dOffsets[i * OFFSET_STRIDE + 3 + c];
    }
  }
  return { position, rotation };
}
