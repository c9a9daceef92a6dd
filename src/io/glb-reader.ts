/**
 * Reads a GLB container and its accessors with every offset and count checked against the
 * bytes that are really there, so a damaged file gets one InputError that names the file
 * and the broken part instead of a RangeError, a hang or a huge allocation.
 *
 * Why not @loaders.gl/gltf's GLTFLoader: its errors on damaged files are generic (or it
 * yields undefined attributes), and the exporter's tests need exact control of what is read.
 */
import { InputError } from '../errors.ts';
import {
  ACCESSOR_COMPONENTS,
  CHUNK_BIN,
  CHUNK_JSON,
  ComponentType,
  GLB_MAGIC,
  type GltfAccessor,
  type GltfDocument,
} from './gltf-builder.ts';

export interface GlbContents {
  json: GltfDocument;
  bin: Uint8Array | undefined;
}

export function parseGlb(bytes: Uint8Array, file = 'GLB'): GlbContents {
  if (bytes.byteLength < 20) throw new InputError(`${file}: truncated GLB (${bytes.byteLength} bytes, a header needs 20).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== GLB_MAGIC)
    throw new InputError(`${file}: not a GLB file (the first 4 bytes are not 'glTF').`);
  const version = view.getUint32(4, true);
  if (version !== 2) throw new InputError(`${file}: GLB version ${version} is not supported; only glTF 2.0 is.`);
  const length = view.getUint32(8, true);
  if (length > bytes.byteLength)
    throw new InputError(`${file}: truncated GLB: the header says ${length} bytes but the file has ${bytes.byteLength}.`);
  const jsonLength = view.getUint32(12, true);
  if (view.getUint32(16, true) !== CHUNK_JSON) throw new InputError(`${file}: the first GLB chunk is not JSON.`);
  if (20 + jsonLength > length)
    throw new InputError(`${file}: truncated GLB: the JSON chunk (${jsonLength} bytes) runs past the end of the file.`);
  let json: GltfDocument;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + jsonLength))) as GltfDocument;
  } catch (e) {
    throw new InputError(`${file}: the GLB's JSON chunk does not parse: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || typeof json.asset !== 'object')
    throw new InputError(`${file}: the glTF JSON has no 'asset'; this is not a glTF document.`);
  let bin: Uint8Array | undefined;
  let at = 20 + ((jsonLength + 3) & ~3);
  if (at + 8 <= length) {
    const binLength = view.getUint32(at, true);
    if (view.getUint32(at + 4, true) === CHUNK_BIN) {
      if (at + 8 + binLength > length)
        throw new InputError(`${file}: truncated GLB: the BIN chunk (${binLength} bytes) runs past the end of the file.`);
      bin = bytes.subarray(at + 8, at + 8 + binLength);
    }
  }
  return { json, bin };
}

const COMPONENT_BYTES: Record<number, number> = {
  [ComponentType.BYTE]: 1,
  [ComponentType.UNSIGNED_BYTE]: 1,
  [ComponentType.SHORT]: 2,
  [ComponentType.UNSIGNED_SHORT]: 2,
  [ComponentType.UNSIGNED_INT]: 4,
  [ComponentType.FLOAT]: 4,
};

/**
 * Reads accessor `index` as floats (normalized integers are mapped to [0,1] or [-1,1] as
 * glTF defines), checking the accessor, its buffer view and the BIN chunk. `what` names the
 * attribute in errors.
 */
export function readAccessor(glb: GlbContents, index: number, file: string, what: string): Float32Array {
  const { json, bin } = glb;
  const accessor: GltfAccessor | undefined = json.accessors?.[index];
  if (!accessor) throw new InputError(`${file}: ${what} refers to accessor ${index}, which does not exist.`);
  const components = ACCESSOR_COMPONENTS[accessor.type];
  const size = COMPONENT_BYTES[accessor.componentType];
  if (!components || !size)
    throw new InputError(`${file}: accessor ${index} (${what}) has an unknown type ${accessor.type}/${accessor.componentType}.`);
  const count = accessor.count;
  if (!Number.isInteger(count) || count < 0)
    throw new InputError(`${file}: accessor ${index} (${what}) has an invalid count ${count}.`);
  if (accessor.bufferView === undefined) {
    // glTF allows a view-less accessor (all zeros); still bound its size by something sane.
    if (count > 1 << 28) throw new InputError(`${file}: accessor ${index} (${what}) claims ${count} elements without data.`);
    return new Float32Array(count * components);
  }
  const bufferView = json.bufferViews?.[accessor.bufferView];
  if (!bufferView)
    throw new InputError(`${file}: accessor ${index} (${what}) refers to buffer view ${accessor.bufferView}, which does not exist.`);
  if (bufferView.buffer !== 0 || !bin || json.buffers?.[0]?.uri !== undefined)
    throw new InputError(`${file}: buffer view ${accessor.bufferView} (${what}) is not in the GLB's binary chunk; only self-contained GLB files are read.`);
  const elementBytes = components * size;
  const stride = bufferView.byteStride ?? elementBytes;
  const viewStart = bufferView.byteOffset ?? 0;
  const start = viewStart + (accessor.byteOffset ?? 0);
  const needed = count === 0 ? 0 : (count - 1) * stride + elementBytes;
  if (viewStart + bufferView.byteLength > bin.byteLength)
    throw new InputError(`${file}: buffer view ${accessor.bufferView} (${what}) runs past the end of the binary chunk.`);
  if (start - viewStart + needed > bufferView.byteLength)
    throw new InputError(
      `${file}: accessor ${index} (${what}) needs ${needed} bytes for ${count} elements but its buffer view holds ${bufferView.byteLength - (start - viewStart)}.`,
    );
  if (count === 0) return new Float32Array(0);
  const view = new DataView(bin.buffer, bin.byteOffset + start, needed);
  const result = new Float32Array(count * components);
  const normalized = accessor.normalized === true;
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < components; c++) {
      result[i * components + c] = readComponent(view, i * stride + c * size, accessor.componentType, normalized);
    }
  }
  return result;
}

function readComponent(view: DataView, at: number, type: number, normalized: boolean): number {
  switch (type) {
    case ComponentType.FLOAT:
      return view.getFloat32(at, true);
    case ComponentType.BYTE: {
      const v = view.getInt8(at);
      return normalized ? Math.max(v / 127, -1) : v;
    }
    case ComponentType.UNSIGNED_BYTE: {
      const v = view.getUint8(at);
      return normalized ? v / 255 : v;
    }
    case ComponentType.SHORT: {
      const v = view.getInt16(at, true);
      return normalized ? Math.max(v / 32767, -1) : v;
    }
    case ComponentType.UNSIGNED_SHORT: {
      const v = view.getUint16(at, true);
      return normalized ? v / 65535 : v;
    }
    default:
      return view.getUint32(at, true);
  }
}
