/**
 * Packs a tree of plain values and typed arrays into one byte buffer and back, bit-exact:
 * a magic, a JSON header where each typed array is replaced by {"$array": index}, and the
 * arrays' bytes (8-byte aligned) after it. Used for checkpoints.
 */
import { InputError } from '../errors.ts';

const MAGIC = 'RL4DSTATE1';
type Typed = Float32Array | Float64Array | Uint32Array | Int32Array | Uint8Array | Uint16Array;
const CTORS = { Float32Array, Float64Array, Uint32Array, Int32Array, Uint8Array, Uint16Array } as const;
type TypeName = keyof typeof CTORS;

function typeName(v: unknown): TypeName | null {
  for (const name of Object.keys(CTORS) as TypeName[]) if (v instanceof CTORS[name]) return name;
  return null;
}

export function packState(state: unknown): Uint8Array {
  const arrays: Typed[] = [];
  const types: TypeName[] = [];
  const header = JSON.stringify(state, function (this: unknown, _key, value) {
    const t = typeName(value);
    if (t) {
      arrays.push(value as Typed);
      types.push(t);
      return { $array: arrays.length - 1, type: t, length: (value as Typed).length };
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  });
  const headerBytes = new TextEncoder().encode(header);
  const magic = new TextEncoder().encode(MAGIC);
  let offset = magic.length + 4 + headerBytes.length;
  const offsets: number[] = [];
  for (const a of arrays) {
    offset = Math.ceil(offset / 8) * 8;
    offsets.push(offset);
    offset += a.byteLength;
  }
  const out = new Uint8Array(offset);
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(magic.length, headerBytes.length, true);
  out.set(headerBytes, magic.length + 4);
  arrays.forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offsets[i]));
  return out;
}

export function unpackState<T = unknown>(bytes: Uint8Array, source = 'checkpoint'): T {
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) throw new InputError(`${source}: not an rl4d checkpoint (bad magic); pass a checkpoint.rl4d written by 'rl4d optimize'.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const headerStart = MAGIC.length + 4;
  if (headerStart + headerLength > bytes.length) throw new InputError(`${source}: truncated checkpoint header.`);
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  let offset = headerStart + headerLength;
  // Arrays are laid out in the order JSON.stringify met them, which is the order JSON.parse's
  // reviver meets them too (both walk keys in insertion order), so offsets can be recomputed.
  const layout: { type: TypeName; length: number; offset: number }[] = [];
  JSON.parse(header, (_k, v) => {
    if (v && typeof v === 'object' && '$array' in v) {
      const ctor = CTORS[v.type as TypeName];
      offset = Math.ceil(offset / 8) * 8;
      layout[v.$array] = { type: v.type, length: v.length, offset };
      offset += v.length * ctor.BYTES_PER_ELEMENT;
    }
    return v;
  });
  if (offset > bytes.length) throw new InputError(`${source}: truncated checkpoint data (${bytes.length} of ${offset} bytes).`);
  return JSON.parse(header, (_k, v) => {
    if (v && typeof v === 'object' && '$array' in v) {
      const { type, length, offset: at } = layout[v.$array];
      const ctor = CTORS[type];
      const copy = new Uint8Array(length * ctor.BYTES_PER_ELEMENT);
      copy.set(bytes.subarray(at, at + copy.length));
      return new ctor(copy.buffer);
    }
    if (v && typeof v === 'object' && '$number' in v) return Number(v.$number);
    return v;
  }) as T;
}
