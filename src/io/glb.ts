/**
 * GLB with KHR_gaussian_splatting: a POINTS primitive with activated values (linear scale,
 * post-sigmoid opacity, unit quaternion in x, y, z, w), every SH coefficient as its own
 * `KHR_gaussian_splatting:SH_DEGREE_l_COEF_n` VEC3, and a linear COLOR_0 (with opacity in
 * alpha) for viewers that fall back to points. The extension is listed in extensionsUsed
 * only, so that those viewers still open the file.
 */
import { InputError } from '../errors.ts';
import { checkFinite, emptyGaussians, shCoeffCount, type GaussianData } from '../scene/gaussian-data.ts';
import { dcToColor, logit, MIN_LINEAR_SCALE, sigmoid, srgbToLinear, unitQuatXyzw } from './activation.ts';
import { GltfBuilder, PrimitiveMode, type GltfPrimitive } from './gltf-builder.ts';
import { parseGlb, readAccessor, type GlbContents } from './glb-reader.ts';

export const KHR_GAUSSIAN_SPLATTING = 'KHR_gaussian_splatting';
const P = `${KHR_GAUSSIAN_SPLATTING}:`;

export type SplatColorSpace = 'srgb_rec709_display' | 'lin_rec709_display';

export interface SplatPrimitiveOptions {
  /** Colour space of the reconstructed colours; 3DGS training produces sRGB display colours. */
  colorSpace?: SplatColorSpace;
  /** Nested extensions inside KHR_gaussian_splatting (for example a deformation extension). */
  extensions?: Record<string, unknown>;
}

/** Attribute name of SH coefficient k (k >= 0, DC first) in the flat [K] layout. */
export function shAttributeName(k: number): string {
  const degree = Math.floor(Math.sqrt(k));
  return `${P}SH_DEGREE_${degree}_COEF_${k - degree * degree}`;
}

/**
 * Adds the accessors of one splat primitive to `builder` and returns the primitive, ready
 * to be put in a mesh. Several primitives (one per keyframe, say) can share a builder.
 */
export function addSplatPrimitive(builder: GltfBuilder, data: GaussianData, options: SplatPrimitiveOptions = {}): GltfPrimitive {
  const colorSpace = options.colorSpace ?? 'srgb_rec709_display';
  const n = data.count;
  const K = shCoeffCount(data.shDegree);
  const scales = new Float32Array(n * 3);
  const rotations = new Float32Array(n * 4);
  const opacities = new Float32Array(n);
  const color0 = new Float32Array(n * 4);
  const toLinear = colorSpace === 'srgb_rec709_display' ? srgbToLinear : (c: number) => c;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      scales[i * 3 + c] = Math.exp(data.logScales[i * 3 + c]);
      color0[i * 4 + c] = toLinear(dcToColor(data.sh[i * K * 3 + c]));
    }
    unitQuatXyzw(data.quats, i, rotations, i * 4);
    opacities[i] = sigmoid(data.opacityLogits[i]);
    color0[i * 4 + 3] = opacities[i];
  }
  const attributes: Record<string, number> = {
    POSITION: builder.addAccessor(new Float32Array(data.means), 'VEC3'),
    COLOR_0: builder.addAccessor(color0, 'VEC4'),
    [`${P}SCALE`]: builder.addAccessor(scales, 'VEC3'),
    [`${P}ROTATION`]: builder.addAccessor(rotations, 'VEC4'),
    [`${P}OPACITY`]: builder.addAccessor(opacities, 'SCALAR'),
  };
  for (let k = 0; k < K; k++) {
    const coefficient = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) coefficient[i * 3 + c] = data.sh[(i * K + k) * 3 + c];
    attributes[shAttributeName(k)] = builder.addAccessor(coefficient, 'VEC3');
  }
  const extension: Record<string, unknown> = { kernel: 'ellipse', colorSpace, projection: 'perspective', sortingMethod: 'cameraDistance' };
  if (options.extensions) extension.extensions = options.extensions;
  builder.useExtension(KHR_GAUSSIAN_SPLATTING);
  return { attributes, mode: PrimitiveMode.POINTS, extensions: { [KHR_GAUSSIAN_SPLATTING]: extension } };
}

/** One splat mesh on one node in one scene. */
export function writeSplatGlb(data: GaussianData, options: SplatPrimitiveOptions & { name?: string } = {}): Uint8Array {
  const builder = new GltfBuilder();
  const mesh = builder.addMesh({ name: options.name ?? 'splats', primitives: [addSplatPrimitive(builder, data, options)] });
  builder.addScene([builder.addNode({ name: options.name ?? 'splats', mesh })]);
  return builder.toGlb();
}

/** Finds the splat primitives of a parsed GLB, in mesh order. */
export function splatPrimitives(glb: GlbContents): GltfPrimitive[] {
  return (glb.json.meshes ?? []).flatMap((m) => m.primitives ?? []).filter((p) => p.extensions?.[KHR_GAUSSIAN_SPLATTING] !== undefined);
}

/**
 * Reads the first KHR_gaussian_splatting primitive back to raw parameters. Node transforms
 * are not applied: rl4d writes splats on an identity node.
 */
export function readSplatGlb(bytes: Uint8Array, file = 'GLB'): GaussianData {
  const glb = parseGlb(bytes, file);
  const primitive = splatPrimitives(glb)[0];
  if (!primitive)
    throw new InputError(`${file}: no mesh primitive uses ${KHR_GAUSSIAN_SPLATTING}; this GLB holds no Gaussian splats.`);
  return readSplatPrimitive(glb, primitive, file);
}

export function readSplatPrimitive(glb: GlbContents, primitive: GltfPrimitive, file: string): GaussianData {
  const ext = primitive.extensions![KHR_GAUSSIAN_SPLATTING] as { kernel?: string; colorSpace?: string };
  if (ext.kernel !== 'ellipse')
    throw new InputError(`${file}: ${KHR_GAUSSIAN_SPLATTING} kernel '${ext.kernel}' is not supported; only 'ellipse' is.`);
  if ((primitive.mode ?? 4) !== PrimitiveMode.POINTS)
    throw new InputError(`${file}: a ${KHR_GAUSSIAN_SPLATTING} primitive must use mode 0 (POINTS), found ${primitive.mode ?? 4}.`);
  const attrs = primitive.attributes ?? {};
  const read = (name: string, components: number): Float32Array => {
    const index = attrs[name];
    if (index === undefined) throw new InputError(`${file}: the splat primitive has no '${name}' attribute.`);
    const values = readAccessor(glb, index, file, name);
    const accessor = glb.json.accessors![index];
    if (values.length !== accessor.count * components)
      throw new InputError(`${file}: attribute '${name}' must have ${components} components per splat (type ${accessor.type}).`);
    return values;
  };
  const positions = read('POSITION', 3);
  const n = positions.length / 3;
  const checkCount = (name: string, values: Float32Array, components: number) => {
    if (values.length !== n * components)
      throw new InputError(`${file}: attribute '${name}' has ${values.length / components} elements but POSITION has ${n}.`);
    return values;
  };
  const scales = checkCount(`${P}SCALE`, read(`${P}SCALE`, 3), 3);
  const rotations = checkCount(`${P}ROTATION`, read(`${P}ROTATION`, 4), 4);
  const opacities = checkCount(`${P}OPACITY`, read(`${P}OPACITY`, 1), 1);
  const degree = shDegreeOf(attrs, file);
  const K = shCoeffCount(degree);
  const data = emptyGaussians(n, degree);
  data.means.set(positions);
  for (let k = 0; k < K; k++) {
    const name = shAttributeName(k);
    const coefficient = checkCount(name, read(name, 3), 3);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data.sh[(i * K + k) * 3 + c] = coefficient[i * 3 + c];
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const s = scales[i * 3 + c];
      if (!(s >= 0)) throw new InputError(`${file}: splat ${i} has scale ${s}; KHR_gaussian_splatting scales must be >= 0.`);
      data.logScales[i * 3 + c] = Math.log(Math.max(s, MIN_LINEAR_SCALE));
    }
    const a = opacities[i];
    if (!(a >= 0 && a <= 1)) throw new InputError(`${file}: splat ${i} has opacity ${a}; opacities must lie in [0, 1].`);
    data.opacityLogits[i] = logit(a);
    // glTF (x, y, z, w) back to rl4d's (w, x, y, z).
    data.quats[i * 4] = rotations[i * 4 + 3];
    data.quats[i * 4 + 1] = rotations[i * 4];
    data.quats[i * 4 + 2] = rotations[i * 4 + 1];
    data.quats[i * 4 + 3] = rotations[i * 4 + 2];
  }
  checkFinite(data, file);
  return data;
}

/** The SH degree whose coefficients are all present; partial or non-contiguous degrees are errors. */
function shDegreeOf(attrs: Record<string, number>, file: string): number {
  let degree = -1;
  for (let l = 0; l <= 3; l++) {
    const names = Array.from({ length: 2 * l + 1 }, (_, m) => shAttributeName(l * l + m));
    const present = names.filter((name) => attrs[name] !== undefined);
    if (present.length === 0) continue;
    if (present.length < names.length)
      throw new InputError(
        `${file}: SH degree ${l} is incomplete: '${names.find((name) => attrs[name] === undefined)}' is missing; degrees must be complete.`,
      );
    if (degree !== l - 1) throw new InputError(`${file}: SH degree ${l} is present but degree ${l - 1} is not; degrees must be contiguous.`);
    degree = l;
  }
  if (degree < 0) throw new InputError(`${file}: the splat primitive has no '${shAttributeName(0)}' attribute.`);
  for (const name of Object.keys(attrs))
    if (name.startsWith(`${P}SH_DEGREE_`) && !Array.from({ length: shCoeffCount(degree) }, (_, k) => shAttributeName(k)).includes(name))
      throw new InputError(`${file}: attribute '${name}' is not a valid SH coefficient name.`);
  return degree;
}
