/**
 * Runs the Khronos glTF validator on a GLB and returns its errors, minus the known false
 * alarm on KHR_gaussian_splatting:* attribute names (the validator accepts only known or
 * '_'-prefixed semantics; KhronosGroup/glTF-Validator#252). Filtered by JSON pointer, not by
 * code, so any other invalid attribute still counts.
 */
import { validateBytes, type ValidatorMessage } from 'gltf-validator';

const SPLAT_ATTRIBUTE_POINTER = /^\/meshes\/\d+\/primitives\/\d+\/attributes\/KHR_gaussian_splatting:[A-Z0-9_]+$/;

export async function validatorErrors(glb: Uint8Array): Promise<ValidatorMessage[]> {
  const report = await validateBytes(glb, { format: 'glb', writeTimestamp: false, maxIssues: 0 });
  return report.issues.messages.filter(
    (m) => m.severity === 0 && !(m.code === 'MESH_PRIMITIVE_INVALID_ATTRIBUTE' && SPLAT_ATTRIBUTE_POINTER.test(m.pointer ?? '')),
  );
}
