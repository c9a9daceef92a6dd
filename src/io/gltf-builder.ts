/**
 * A small glTF 2.0 document builder that writes GLB: one binary buffer, 4-byte-aligned
 * buffer views, accessors with min/max, meshes, nodes, scenes, materials, animations and
 * extensions at any level. The splat exporter, the mesh exporter and a later 4D exporter
 * (several splat primitives, KHR_node_visibility, KHR_animation_pointer, a vendor
 * extension) all build on it.
 *
 * Why not @loaders.gl/gltf's GLTFScenegraph: it has no per-primitive extensions, drops
 * `normalized`, has no animation API, leaves an empty (invalid) `extensionsRequired`, and
 * copies the data several times; patching around all of that is longer than this file.
 */

export const ComponentType = {
  BYTE: 5120,
  UNSIGNED_BYTE: 5121,
  SHORT: 5122,
  UNSIGNED_SHORT: 5123,
  UNSIGNED_INT: 5125,
  FLOAT: 5126,
} as const;

export const BufferTarget = { ARRAY_BUFFER: 34962, ELEMENT_ARRAY_BUFFER: 34963 } as const;

export const PrimitiveMode = { POINTS: 0, LINES: 1, TRIANGLES: 4 } as const;

export type AccessorType = 'SCALAR' | 'VEC2' | 'VEC3' | 'VEC4' | 'MAT4';

export const ACCESSOR_COMPONENTS: Record<AccessorType, number> = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT4: 16 };

export type Extensions = Record<string, unknown>;

export interface GltfPrimitive {
  attributes: Record<string, number>;
  indices?: number;
  material?: number;
  mode?: number;
  extensions?: Extensions;
}
export interface GltfMesh {
  name?: string;
  primitives: GltfPrimitive[];
  extensions?: Extensions;
}
export interface GltfNode {
  name?: string;
  mesh?: number;
  children?: number[];
  translation?: number[];
  rotation?: number[];
  scale?: number[];
  matrix?: number[];
  extensions?: Extensions;
  extras?: unknown;
}
export interface GltfAccessor {
  bufferView?: number;
  byteOffset?: number;
  componentType: number;
  normalized?: boolean;
  count: number;
  type: AccessorType;
  min?: number[];
  max?: number[];
}
export interface GltfBufferView {
  buffer: number;
  byteOffset?: number;
  byteLength: number;
  byteStride?: number;
  target?: number;
}
export interface GltfAnimationSampler {
  input: number;
  output: number;
  interpolation?: 'LINEAR' | 'STEP' | 'CUBICSPLINE';
}
export interface GltfAnimationChannel {
  sampler: number;
  target: { node?: number; path: string; extensions?: Extensions };
}
export interface GltfAnimation {
  name?: string;
  samplers: GltfAnimationSampler[];
  channels: GltfAnimationChannel[];
}
export interface GltfDocument {
  asset: { version: string; generator?: string };
  scene?: number;
  scenes?: { name?: string; nodes: number[] }[];
  nodes?: GltfNode[];
  meshes?: GltfMesh[];
  materials?: Record<string, unknown>[];
  accessors?: GltfAccessor[];
  bufferViews?: GltfBufferView[];
  buffers?: { byteLength: number; uri?: string }[];
  animations?: GltfAnimation[];
  extensionsUsed?: string[];
  extensionsRequired?: string[];
  extensions?: Extensions;
  extras?: unknown;
}

export type AccessorData = Float32Array | Uint32Array | Uint16Array | Uint8Array | Int16Array | Int8Array;

export interface AccessorOptions {
  normalized?: boolean;
  /** Bounds are written by default; the validator requires them on POSITION and animation inputs. */
  bounds?: boolean;
  target?: number;
}

function componentTypeOf(data: AccessorData): number {
  if (data instanceof Float32Array) return ComponentType.FLOAT;
  if (data instanceof Uint32Array) return ComponentType.UNSIGNED_INT;
  if (data instanceof Uint16Array) return ComponentType.UNSIGNED_SHORT;
  if (data instanceof Uint8Array) return ComponentType.UNSIGNED_BYTE;
  if (data instanceof Int16Array) return ComponentType.SHORT;
  return ComponentType.BYTE;
}

function bounds(data: AccessorData, components: number): { min: number[]; max: number[] } {
  const min = new Array<number>(components).fill(Infinity);
  const max = new Array<number>(components).fill(-Infinity);
  for (let i = 0; i < data.length; i += components) {
    for (let c = 0; c < components; c++) {
      const v = data[i + c];
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  return { min, max };
}

const align4 = (n: number): number => (n + 3) & ~3;

export class GltfBuilder {
  readonly json: GltfDocument;
  private readonly chunks: Uint8Array[] = [];
  private binLength = 0;

  constructor(generator = 'rl4d') {
    this.json = { asset: { version: '2.0', generator } };
  }

  /** Appends bytes to the binary buffer at a 4-byte boundary and returns the view's index. */
  addBufferView(bytes: Uint8Array, target?: number, byteStride?: number): number {
    const padding = align4(this.binLength) - this.binLength;
    if (padding) this.chunks.push(new Uint8Array(padding));
    const byteOffset = this.binLength + padding;
    this.chunks.push(bytes);
    this.binLength = byteOffset + bytes.byteLength;
    const view: GltfBufferView = { buffer: 0, byteOffset, byteLength: bytes.byteLength };
    if (byteStride !== undefined) view.byteStride = byteStride;
    if (target !== undefined) view.target = target;
    return push((this.json.bufferViews ??= []), view);
  }

  /** One accessor over its own tightly packed buffer view. */
  addAccessor(data: AccessorData, type: AccessorType, options: AccessorOptions = {}): number {
    const components = ACCESSOR_COMPONENTS[type];
    if (data.length % components !== 0)
      throw new Error(`accessor data of length ${data.length} is not a whole number of ${type} elements`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const accessor: GltfAccessor = {
      bufferView: this.addBufferView(bytes, options.target),
      componentType: componentTypeOf(data),
      count: data.length / components,
      type,
    };
    if (options.normalized) accessor.normalized = true;
    if (options.bounds !== false && accessor.count > 0) Object.assign(accessor, bounds(data, components));
    return push((this.json.accessors ??= []), accessor);
  }

  addMesh(mesh: GltfMesh): number {
    return push((this.json.meshes ??= []), mesh);
  }

  addNode(node: GltfNode): number {
    return push((this.json.nodes ??= []), node);
  }

  addMaterial(material: Record<string, unknown>): number {
    return push((this.json.materials ??= []), material);
  }

  addAnimation(animation: GltfAnimation): number {
    return push((this.json.animations ??= []), animation);
  }

  /** Adds a scene; the first scene added becomes the default. */
  addScene(nodes: number[], name?: string): number {
    const index = push((this.json.scenes ??= []), name ? { name, nodes } : { nodes });
    this.json.scene ??= index;
    return index;
  }

  /** Lists an extension in extensionsUsed (and extensionsRequired when asked), once. */
  useExtension(name: string, required = false): void {
    const used = (this.json.extensionsUsed ??= []);
    if (!used.includes(name)) used.push(name);
    if (required) {
      const req = (this.json.extensionsRequired ??= []);
      if (!req.includes(name)) req.push(name);
    }
  }

  /** Sets a document-level extension object (a vendor extension, for instance) and lists it as used. */
  setRootExtension(name: string, value: unknown, required = false): void {
    (this.json.extensions ??= {})[name] = value;
    this.useExtension(name, required);
  }

  /** Serialises to GLB: 12-byte header, JSON chunk padded with spaces, BIN chunk padded with zeros. */
  toGlb(): Uint8Array {
    const binLength = align4(this.binLength);
    if (binLength > 0) this.json.buffers = [{ byteLength: this.binLength }];
    const jsonBytes = new TextEncoder().encode(JSON.stringify(this.json));
    const jsonLength = align4(jsonBytes.byteLength);
    const total = 12 + 8 + jsonLength + (binLength > 0 ? 8 + binLength : 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    view.setUint32(0, GLB_MAGIC, true);
    view.setUint32(4, 2, true);
    view.setUint32(8, total, true);
    view.setUint32(12, jsonLength, true);
    view.setUint32(16, CHUNK_JSON, true);
    out.set(jsonBytes, 20);
    out.fill(0x20, 20 + jsonBytes.byteLength, 20 + jsonLength);
    if (binLength > 0) {
      let at = 20 + jsonLength;
      view.setUint32(at, binLength, true);
      view.setUint32(at + 4, CHUNK_BIN, true);
      at += 8;
      for (const chunk of this.chunks) {
        out.set(chunk, at);
        at += chunk.byteLength;
      }
    }
    return out;
  }
}

export const GLB_MAGIC = 0x46546c67; // 'glTF'
export const CHUNK_JSON = 0x4e4f534a; // 'JSON'
export const CHUNK_BIN = 0x004e4942; // 'BIN\0'

function push<T>(list: T[], item: T): number {
  list.push(item);
  return list.length - 1;
}
