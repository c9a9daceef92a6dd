/**
 * CPU evaluation of a saved deformation state at any time, through the TypeScript reference:
 * used by the exporter to bake flip-book frames and by the viewer to show any time.
 */
import { InputError } from '../../errors.ts';
import type { GaussianData } from '../gaussian-data.ts';
import { applyOffsetsRef } from '../../reference/deform/apply-offsets.ts';
import { hexPlaneOffsetsRef } from '../../reference/deform/hexplane.ts';
import { trajectoryOffsetsRef } from '../../reference/deform/trajectory.ts';
import type { DeformationState } from './deformation-field.ts';

export function evaluateState(state: DeformationState, time: number, canonical: GaussianData): GaussianData {
  if (state.kind === 'hexplane') {
    const offsets = hexPlaneOffsetsRef(state.config, state.planes, state.mlp, canonical.means, time);
    return applyOffsetsRef(canonical, offsets, { opacity: state.config.opacityHead, color: state.config.colorHead });
  }
  if (state.count !== canonical.count)
    throw new InputError(`trajectory state has ${state.count} splats but the canonical scene has ${canonical.count}; they must match.`);
  const offsets = trajectoryOffsetsRef(state.config, state.count, state.position, state.rotation, time);
  return applyOffsetsRef(canonical, offsets, { opacity: false, color: false });
}
