/**
 * 4D GLB: a canonical splat set plus a deformation field, written two ways in one file.
 *  - A flip-book any KHR_gaussian_splatting viewer can play: one splat mesh per baked frame,
 *    each on its own node under one root, shown in turn by toggling
 *    `KHR_node_visibility.visible` through a `KHR_animation_pointer` animation (STEP, one
 *    unsigned-byte SCALAR per frame node, as the pointer spec requires for booleans).
 *    Frame 0 starts visible, so a viewer without those extensions still shows one frame
 *    (with every other frame on top of it: the cost of having no standard for 4D splats).
 *  - The exact motion in the vendor extension `RL4D_deformation_field` (root level, listed
 *    in extensionsUsed only): the field's parameters (HexPlane planes and MLP weights, or
 *    trajectory coefficients) and the canonical splats in their raw rl4d layouts, each a
 *    little-endian f32 buffer view, so that any time can be evaluated exactly again.
 * Frames are baked on the CPU with evaluateState, the same reference the viewer uses.
 */
import { InputError } from '../errors.ts';
import { checkFinite, shCoeffCount, type GaussianData } from '../scene/gaussian-data.ts';
import type { DeformationState, HexPlaneState, TrajectoryState } from '../scene/deform/deformation-field.ts';
import { evaluateState } from '../scene/deform/evaluate-state.ts';
import { hexPlaneLayout, validateHexPlaneConfig, type HexPlaneConfig } from '../scene/deform/hexplane-layout.ts';
import { basisSize } from '../reference/deform/trajectory.ts';
import { addSplatPrimitive, readSplatPrimitive, type SplatPrimitiveOptions } from './glb.ts';
import { parseGlb, type GlbContents } from './glb-reader.ts';
import { GltfBuilder } from './gltf-builder.ts';

export const RL4D_DEFORMATION_FIELD = 'RL4D_deformation_field';
export const KHR_NODE_VISIBILITY = 'KHR_node_visibility';
export const KHR_ANIMATION_POINTER = 'KHR_animation_pointer';
const FORMAT_VERSION = 1;

export interface Write4dOptions extends SplatPrimitiveOptions {
  /** Number of baked flip-book frames (>= 1), evenly spaced over timeRange, both ends included. */
  frames: number;
  /** Field time range the frames cover; defaults to the field's own timeRange. */
  timeRange?: [number, number];
  /** Playback rate of the flip-book animation in frames per second (default 12). */
  fps?: number;
}

export interface Frame4d {
  time: number;
  /** Index of the frame's node in the glTF document. */
  node: number;
  data: GaussianData;
}

export interface Read4dResult {
  frames: Frame4d[];
  canonical: GaussianData;
  state: DeformationState;
  timeRange: [number, number];
  fps: number;
}

/** The vendor extension object as written (buffer view indices refer to the GLB). */
interface FieldExtension {
  version: number;
  timeRange: [number, number];
  fps: number;
  animation: number;
  frames: { node: number; mesh: number; time: number }[];
  canonical: { count: number; shDegree: number; means: number; logScales: number; quats: number; opacityLogits: number; sh: number };
  field:
    | { kind: 'hexplane'; config: HexPlaneConfig; planes: number; mlp: number }
    | { kind: 'trajectory'; config: TrajectoryState['config']; count: number; position: number; rotation?: number };
}

/** The field time of frame k of `frames` over `range` (both ends included). */
export function frameTime(range: [number, number], frames: number, k: number): number {
  return frames === 1 ? range[0] : range[0] + ((range[1] - range[0]) * k) / (frames - 1);
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function write4dGlb(canonical: GaussianData, state: DeformationState, options: Write4dOptions): Uint8Array {
  const { frames } = options;
  if (!Number.isInteger(frames) || frames < 1) throw new InputError(`4D export: 'frames' must be an integer >= 1, got ${frames}.`);
  const fps = options.fps ?? 12;
  if (!(Number.isFinite(fps) && fps > 0)) throw new InputError(`4D export: 'fps' must be a positive number, got ${fps}.`);
  const timeRange = options.timeRange ?? state.config.timeRange;
  if (!(Number.isFinite(timeRange[0]) && Number.isFinite(timeRange[1]) && timeRange[1] >= timeRange[0]))
    throw new InputError(`4D export: 'timeRange' must be two finite, non-decreasing numbers, got [${timeRange.join(', ')}].`);
  if (canonical.count < 1) throw new InputError('4D export: the canonical scene has no splats.');
  checkFinite(canonical, '4D export canonical splats');

  const builder = new GltfBuilder();
  const primitiveOptions = { colorSpace: options.colorSpace, extensions: options.extensions };
  const frameRefs: FieldExtension['frames'] = [];
  for (let k = 0; k < frames; k++) {
    const time = frameTime(timeRange, frames, k);
    const data = evaluateState(state, time, canonical);
    checkFinite(data, `4D export frame ${k} (t=${time})`);
    const mesh = builder.addMesh({ name: `frame_${k}`, primitives: [addSplatPrimitive(builder, data, primitiveOptions)] });
    const node = builder.addNode({ name: `frame_${k}`, mesh, extensions: { [KHR_NODE_VISIBILITY]: { visible: k === 0 } } });
    frameRefs.push({ node, mesh, time });
  }
  builder.useExtension(KHR_NODE_VISIBILITY);
  const root = builder.addNode({ name: 'rl4d-4d', children: frameRefs.map((f) => f.node) });
  builder.addScene([root]);

  // Key k at k/fps shows frame k; a last key at frames/fps holds the final frame for a full period.
  const input = builder.addAccessor(Float32Array.from({ length: frames + 1 }, (_, k) => k / fps), 'SCALAR');
  const samplers = frameRefs.map((_, k) => ({
    input,
    output: builder.addAccessor(Uint8Array.from({ length: frames + 1 }, (_, key) => (Math.min(key, frames - 1) === k ? 1 : 0)), 'SCALAR'),
    interpolation: 'STEP' as const,
  }));
  const channels = frameRefs.map((f, k) => ({
    sampler: k,
    target: { path: 'pointer', extensions: { [KHR_ANIMATION_POINTER]: { pointer: `/nodes/${f.node}/extensions/${KHR_NODE_VISIBILITY}/visible` } } },
  }));
  const animation = builder.addAnimation({ name: 'flip-book', samplers, channels });
  builder.useExtension(KHR_ANIMATION_POINTER);

  const view = (a: Float32Array) => builder.addBufferView(f32Bytes(a));
  const extension: FieldExtension = {
    version: FORMAT_VERSION,
    timeRange: [timeRange[0], timeRange[1]],
    fps,
    animation,
    frames: frameRefs,
    canonical: {
      count: canonical.count,
      shDegree: canonical.shDegree,
      means: view(canonical.means),
      logScales: view(canonical.logScales),
      quats: view(canonical.quats),
      opacityLogits: view(canonical.opacityLogits),
      sh: view(canonical.sh),
    },
    field:
      state.kind === 'hexplane'
        ? { kind: 'hexplane', config: state.config, planes: view(state.planes), mlp: view(state.mlp) }
        : {
            kind: 'trajectory',
            config: state.config,
            count: state.count,
            position: view(state.position),
            ...(state.rotation ? { rotation: view(state.rotation) } : {}),
          },
  };
  builder.setRootExtension(RL4D_DEFORMATION_FIELD, extension);
  return builder.toGlb();
}

// ------------------------------------------------------------------------------ reading

function fail(file: string, what: string): never {
  throw new InputError(`${file}: ${RL4D_DEFORMATION_FIELD} ${what}`);
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function int(file: string, v: unknown, field: string, min = 0): number {
  if (!Number.isInteger(v) || (v as number) < min) fail(file, `'${field}' must be an integer >= ${min}, got ${JSON.stringify(v)}.`);
  return v as number;
}

function range(file: string, v: unknown, field: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !isNumber(v[0]) || !isNumber(v[1]) || v[1] < v[0])
    fail(file, `'${field}' must be two finite, non-decreasing numbers.`);
  return [v[0], v[1]];
}

/** A buffer view of exactly `length` f32 values, copied out (the BIN chunk need not be 4-aligned in memory). */
function readF32View(glb: GlbContents, index: unknown, length: number, file: string, field: string): Float32Array {
  const i = int(file, index, field);
  const bv = glb.json.bufferViews?.[i];
  if (!bv) fail(file, `'${field}' refers to buffer view ${i}, which does not exist.`);
  if (bv.buffer !== 0 || !glb.bin) fail(file, `'${field}': buffer view ${i} is not in the GLB's binary chunk.`);
  const start = bv.byteOffset ?? 0;
  if (bv.byteLength !== length * 4)
    fail(file, `'${field}': buffer view ${i} holds ${bv.byteLength} bytes; ${length} floats (${length * 4} bytes) are expected.`);
  if (start + bv.byteLength > glb.bin.byteLength) fail(file, `'${field}': buffer view ${i} runs past the end of the binary chunk.`);
  // Copy into a fresh Uint8Array: a Node Buffer's slice() is a view on the whole file's
  // memory, so its .buffer would not start at the view.
  const out = new Float32Array(Uint8Array.from(glb.bin.subarray(start, start + bv.byteLength)).buffer);
  for (let k = 0; k < out.length; k++) if (!Number.isFinite(out[k])) fail(file, `'${field}' value ${k} is ${out[k]}.`);
  return out;
}

function readHexPlaneConfig(file: string, c: unknown): HexPlaneConfig {
  if (typeof c !== 'object' || c === null) fail(file, "'field.config' must be an object.");
  const o = c as Record<string, unknown>;
  const vec3 = (name: string): [number, number, number] => {
    const v = o[name];
    if (!Array.isArray(v) || v.length !== 3 || !v.every(isNumber)) fail(file, `'field.config.${name}' must be 3 finite numbers.`);
    return [v[0], v[1], v[2]];
  };
  const bool = (name: string): boolean => {
    if (typeof o[name] !== 'boolean') fail(file, `'field.config.${name}' must be true or false.`);
    return o[name] as boolean;
  };
  const num = (name: string): number => {
    if (!isNumber(o[name])) fail(file, `'field.config.${name}' must be a finite number.`);
    return o[name] as number;
  };
  if (!Array.isArray(o.resolutions)) fail(file, "'field.config.resolutions' must be a list of integers.");
  const config: HexPlaneConfig = {
    boundsMin: vec3('boundsMin'),
    boundsMax: vec3('boundsMax'),
    timeRange: range(file, o.timeRange, 'field.config.timeRange'),
    resolutions: (o.resolutions as unknown[]).map((r, k) => int(file, r, `field.config.resolutions[${k}]`, 2)),
    timeResolution: int(file, o.timeResolution, 'field.config.timeResolution', 2),
    features: int(file, o.features, 'field.config.features', 1),
    hidden: int(file, o.hidden, 'field.config.hidden', 1),
    opacityHead: bool('opacityHead'),
    colorHead: bool('colorHead'),
    lrPlanes: num('lrPlanes'),
    lrMlp: num('lrMlp'),
  };
  try {
    validateHexPlaneConfig(config);
  } catch (e) {
    fail(file, (e as Error).message);
  }
  return config;
}

function readTrajectoryConfig(file: string, c: unknown): TrajectoryState['config'] {
  if (typeof c !== 'object' || c === null) fail(file, "'field.config' must be an object.");
  const o = c as Record<string, unknown>;
  if (typeof o.rotation !== 'boolean') fail(file, "'field.config.rotation' must be true or false.");
  if (!isNumber(o.lr)) fail(file, "'field.config.lr' must be a finite number.");
  const config = {
    timeRange: range(file, o.timeRange, 'field.config.timeRange'),
    degree: int(file, o.degree, 'field.config.degree'),
    frequencies: int(file, o.frequencies, 'field.config.frequencies'),
    rotation: o.rotation as boolean,
    lr: o.lr as number,
  };
  if (!(config.timeRange[1] > config.timeRange[0])) fail(file, "'field.config.timeRange' must be increasing.");
  if (basisSize(config) < 1) fail(file, "'field.config' has an empty basis (degree + 2 * frequencies is 0).");
  return config;
}

function readState(glb: GlbContents, f: unknown, canonicalCount: number, file: string): DeformationState {
  if (typeof f !== 'object' || f === null) fail(file, "'field' must be an object.");
  const o = f as Record<string, unknown>;
  if (o.kind === 'hexplane') {
    const config = readHexPlaneConfig(file, o.config);
    const L = hexPlaneLayout(config);
    const state: HexPlaneState = {
      kind: 'hexplane',
      config,
      planes: readF32View(glb, o.planes, L.planeFloats, file, 'field.planes'),
      mlp: readF32View(glb, o.mlp, L.mlpFloats, file, 'field.mlp'),
    };
    return state;
  }
  if (o.kind === 'trajectory') {
    const config = readTrajectoryConfig(file, o.config);
    const count = int(file, o.count, 'field.count');
    if (count !== canonicalCount) fail(file, `'field.count' is ${count} but the canonical splats number ${canonicalCount}.`);
    const B = basisSize(config);
    if (config.rotation && o.rotation === undefined) fail(file, "'field.rotation' is missing although 'field.config.rotation' is true.");
    const state: TrajectoryState = {
      kind: 'trajectory',
      config,
      count,
      position: readF32View(glb, o.position, count * B * 3, file, 'field.position'),
      rotation: config.rotation ? readF32View(glb, o.rotation, count * B * 4, file, 'field.rotation') : null,
    };
    return state;
  }
  fail(file, `'field.kind' must be 'hexplane' or 'trajectory', got ${JSON.stringify(o.kind)}.`);
}

function readCanonical(glb: GlbContents, c: unknown, file: string): GaussianData {
  if (typeof c !== 'object' || c === null) fail(file, "'canonical' must be an object.");
  const o = c as Record<string, unknown>;
  const count = int(file, o.count, 'canonical.count', 1);
  const shDegree = int(file, o.shDegree, 'canonical.shDegree');
  if (shDegree > 3) fail(file, `'canonical.shDegree' is ${shDegree}; 0 to 3 are supported.`);
  const K = shCoeffCount(shDegree);
  return {
    count,
    shDegree,
    means: readF32View(glb, o.means, count * 3, file, 'canonical.means'),
    logScales: readF32View(glb, o.logScales, count * 3, file, 'canonical.logScales'),
    quats: readF32View(glb, o.quats, count * 4, file, 'canonical.quats'),
    opacityLogits: readF32View(glb, o.opacityLogits, count, file, 'canonical.opacityLogits'),
    sh: readF32View(glb, o.sh, count * K * 3, file, 'canonical.sh'),
  };
}

/** Whether a parsed GLB carries rl4d's deformation extension. */
export function has4dExtension(glb: GlbContents): boolean {
  return glb.json.extensions?.[RL4D_DEFORMATION_FIELD] !== undefined;
}

/** Reads a GLB written by write4dGlb: the baked frames, the canonical splats and the field state. */
export function read4dGlb(bytes: Uint8Array, file = 'GLB'): Read4dResult {
  const glb = parseGlb(bytes, file);
  const ext = glb.json.extensions?.[RL4D_DEFORMATION_FIELD] as Record<string, unknown> | undefined;
  if (typeof ext !== 'object' || ext === null)
    throw new InputError(`${file}: no ${RL4D_DEFORMATION_FIELD} extension; this GLB holds no rl4d 4D result.`);
  if (ext.version !== FORMAT_VERSION) fail(file, `version ${JSON.stringify(ext.version)} is not supported; this rl4d reads version ${FORMAT_VERSION}.`);
  const timeRange = range(file, ext.timeRange, 'timeRange');
  if (!isNumber(ext.fps) || ext.fps <= 0) fail(file, "'fps' must be a positive number.");
  const canonical = readCanonical(glb, ext.canonical, file);
  const state = readState(glb, ext.field, canonical.count, file);
  if (!Array.isArray(ext.frames) || ext.frames.length === 0) fail(file, "'frames' must be a non-empty list.");
  const frames = (ext.frames as unknown[]).map((f, k): Frame4d => {
    const o = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
    const node = int(file, o.node, `frames[${k}].node`);
    const mesh = int(file, o.mesh, `frames[${k}].mesh`);
    if (!isNumber(o.time)) fail(file, `'frames[${k}].time' must be a finite number.`);
    if (glb.json.nodes?.[node]?.mesh !== mesh) fail(file, `'frames[${k}]': node ${node} does not hold mesh ${mesh}.`);
    const primitive = glb.json.meshes?.[mesh]?.primitives?.[0];
    if (!primitive?.extensions?.KHR_gaussian_splatting) fail(file, `'frames[${k}]': mesh ${mesh} has no splat primitive.`);
    const data = readSplatPrimitive(glb, primitive, `${file} (frame ${k})`);
    if (data.count !== canonical.count) fail(file, `frame ${k} has ${data.count} splats but the canonical splats number ${canonical.count}.`);
    return { time: o.time as number, node, data };
  });
  return { frames, canonical, state, timeRange, fps: ext.fps as number };
}
