/**
 * Inria 3DGS PLY: raw parameters (log-scales, opacity logits, wxyz quaternions, SH DC and
 * channel-major `f_rest`). Reads binary little-endian and ASCII, fields by name in any
 * order, with or without normals; writes binary little-endian in Inria's order.
 */
import { InputError } from '../errors.ts';
import { checkFinite, emptyGaussians, shCoeffCount, type GaussianData } from '../scene/gaussian-data.ts';

const TYPE_BYTES: Record<string, number> = {
  char: 1, int8: 1, uchar: 1, uint8: 1,
  short: 2, int16: 2, ushort: 2, uint16: 2,
  int: 4, int32: 4, uint: 4, uint32: 4, float: 4, float32: 4,
  double: 8, float64: 8,
};

interface PlyElement {
  name: string;
  count: number;
  properties: { name: string; type: string }[];
  hasList: boolean;
}

interface PlyHeader {
  format: 'ascii' | 'binary_little_endian';
  elements: PlyElement[];
  dataStart: number;
}

/** f_rest counts for SH degrees 0..3 (3 channels times (K-1) coefficients). */
const REST_COUNTS = [0, 9, 24, 45];
const MAX_HEADER_BYTES = 1 << 16;

function parseHeader(bytes: Uint8Array, file: string): PlyHeader {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.byteLength, MAX_HEADER_BYTES)));
  if (!/^ply\r?\n/.test(head)) throw new InputError(`${file}: not a PLY file (it does not start with 'ply').`);
  const end = head.search(/end_header\r?\n/);
  if (end < 0)
    throw new InputError(`${file}: the PLY header has no 'end_header' line in its first ${MAX_HEADER_BYTES} bytes; the file is truncated or not a PLY.`);
  const endLine = head.slice(end).match(/^end_header\r?\n/)![0];
  const dataStart = end + endLine.length;
  let format: PlyHeader['format'] | undefined;
  const elements: PlyElement[] = [];
  for (const raw of head.slice(0, end).split(/\r?\n/).slice(1)) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === 'format') {
      if (words[1] === 'ascii' || words[1] === 'binary_little_endian') format = words[1];
      else throw new InputError(`${file}: PLY format '${words[1]}' is not supported; use binary_little_endian or ascii.`);
    } else if (words[0] === 'element') {
      const count = Number(words[2]);
      if (!Number.isSafeInteger(count) || count < 0)
        throw new InputError(`${file}: element '${words[1]}' has an invalid count '${words[2]}'.`);
      elements.push({ name: words[1], count, properties: [], hasList: false });
    } else if (words[0] === 'property') {
      const element = elements.at(-1);
      if (!element) throw new InputError(`${file}: a PLY property comes before any element.`);
      if (words[1] === 'list') {
        element.hasList = true;
        element.properties.push({ name: words[4], type: 'list' });
      } else {
        if (!(words[1] in TYPE_BYTES)) throw new InputError(`${file}: property '${words[2]}' has unknown type '${words[1]}'.`);
        element.properties.push({ name: words[2], type: words[1] });
      }
    }
  }
  if (!format) throw new InputError(`${file}: the PLY header has no 'format' line.`);
  return { format, elements, dataStart };
}

/** Maps Inria field names to property columns and works out the SH degree. */
function columnsOf(vertex: PlyElement, file: string) {
  const index = new Map(vertex.properties.map((p, i) => [p.name, i]));
  const need = (name: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new InputError(`${file}: the vertex element has no '${name}' property; this is not an Inria 3DGS PLY.`);
    return i;
  };
  let rest = 0;
  while (index.has(`f_rest_${rest}`)) rest++;
  const degree = REST_COUNTS.indexOf(rest);
  if (degree < 0)
    throw new InputError(`${file}: found f_rest_0..f_rest_${rest - 1} (${rest} values); SH degrees 0 to 3 need 0, 9, 24 or 45.`);
  if (vertex.properties.some((p) => /^f_rest_\d+$/.test(p.name) && Number(p.name.slice(7)) >= rest))
    throw new InputError(`${file}: the f_rest_* properties are not numbered contiguously from 0.`);
  return {
    degree,
    mean: ['x', 'y', 'z'].map(need),
    dc: [0, 1, 2].map((c) => need(`f_dc_${c}`)),
    rest: Array.from({ length: rest }, (_, k) => need(`f_rest_${k}`)),
    opacity: need('opacity'),
    scale: [0, 1, 2].map((c) => need(`scale_${c}`)),
    rot: [0, 1, 2, 3].map((c) => need(`rot_${c}`)),
  };
}

export function readPly(bytes: Uint8Array, file = 'PLY'): GaussianData {
  const header = parseHeader(bytes, file);
  const vertexAt = header.elements.findIndex((e) => e.name === 'vertex');
  if (vertexAt < 0) throw new InputError(`${file}: the PLY has no 'vertex' element.`);
  const vertex = header.elements[vertexAt];
  if (vertex.hasList) throw new InputError(`${file}: the vertex element has list properties; a 3DGS PLY has none.`);
  const cols = columnsOf(vertex, file);
  const n = vertex.count;
  const row = new Float64Array(vertex.properties.length);
  const rows =
    header.format === 'ascii'
      ? asciiRows(bytes, header, vertexAt, row, file)
      : binaryRows(bytes, header, vertexAt, row, file);
  const data = emptyGaussians(n, cols.degree);
  const K = shCoeffCount(cols.degree);
  const restPerChannel = K - 1;
  let i = 0;
  for (const r of rows) {
    for (let c = 0; c < 3; c++) {
      data.means[i * 3 + c] = r[cols.mean[c]];
      data.logScales[i * 3 + c] = r[cols.scale[c]];
      data.sh[i * K * 3 + c] = r[cols.dc[c]];
      for (let k = 1; k < K; k++) data.sh[(i * K + k) * 3 + c] = r[cols.rest[c * restPerChannel + k - 1]];
    }
    for (let c = 0; c < 4; c++) data.quats[i * 4 + c] = r[cols.rot[c]];
    data.opacityLogits[i] = r[cols.opacity];
    i++;
  }
  checkFinite(data, file);
  return data;
}

/** Checks the declared size against the bytes eagerly (before the caller allocates), then iterates. */
function binaryRows(bytes: Uint8Array, header: PlyHeader, vertexAt: number, row: Float64Array, file: string): Iterable<Float64Array> {
  const rowBytes = (e: PlyElement) => {
    if (e.hasList) throw new InputError(`${file}: element '${e.name}' before the vertices has list properties; it cannot be skipped.`);
    return e.properties.reduce((s, p) => s + TYPE_BYTES[p.type], 0);
  };
  let at = header.dataStart;
  for (const e of header.elements.slice(0, vertexAt)) at += e.count * rowBytes(e);
  const vertex = header.elements[vertexAt];
  const stride = rowBytes(vertex);
  const available = bytes.byteLength - at;
  // Checked before anything is allocated, so an absurd count fails at once.
  if (vertex.count * stride > available)
    throw new InputError(
      `${file}: the header declares ${vertex.count} vertices (${vertex.count * stride} bytes) but only ${Math.max(available, 0)} bytes of data follow; the file is truncated or the header is wrong.`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const readers = vertex.properties.map((p) => BINARY_READERS[p.type]);
  const offsets: number[] = [];
  vertex.properties.reduce((o, p) => (offsets.push(o), o + TYPE_BYTES[p.type]), 0);
  return (function* () {
    for (let i = 0; i < vertex.count; i++, at += stride) {
      for (let p = 0; p < readers.length; p++) row[p] = readers[p](view, at + offsets[p]);
      yield row;
    }
  })();
}

const BINARY_READERS: Record<string, (v: DataView, at: number) => number> = {
  char: (v, at) => v.getInt8(at),
  int8: (v, at) => v.getInt8(at),
  uchar: (v, at) => v.getUint8(at),
  uint8: (v, at) => v.getUint8(at),
  short: (v, at) => v.getInt16(at, true),
  int16: (v, at) => v.getInt16(at, true),
  ushort: (v, at) => v.getUint16(at, true),
  uint16: (v, at) => v.getUint16(at, true),
  int: (v, at) => v.getInt32(at, true),
  int32: (v, at) => v.getInt32(at, true),
  uint: (v, at) => v.getUint32(at, true),
  uint32: (v, at) => v.getUint32(at, true),
  float: (v, at) => v.getFloat32(at, true),
  float32: (v, at) => v.getFloat32(at, true),
  double: (v, at) => v.getFloat64(at, true),
  float64: (v, at) => v.getFloat64(at, true),
};

function asciiRows(bytes: Uint8Array, header: PlyHeader, vertexAt: number, row: Float64Array, file: string): Iterable<Float64Array> {
  const vertex = header.elements[vertexAt];
  const body = bytes.subarray(header.dataStart);
  const width = vertex.properties.length;
  // Each ASCII value takes at least two bytes (a digit and a separator).
  if (vertex.count * width * 2 > body.byteLength)
    throw new InputError(
      `${file}: the header declares ${vertex.count} vertices but the ASCII body has only ${body.byteLength} bytes; the file is truncated or the header is wrong.`,
    );
  const lines = new TextDecoder('latin1').decode(body).split(/\r?\n/);
  let line = 0;
  for (const e of header.elements.slice(0, vertexAt)) line += e.count;
  if (lines.length - line < vertex.count)
    throw new InputError(`${file}: the header declares ${vertex.count} vertices but the ASCII body has only ${Math.max(lines.length - line, 0)} lines.`);
  return (function* () {
    for (let i = 0; i < vertex.count; i++, line++) {
      const text = lines[line]?.trim();
      if (!text)
        throw new InputError(`${file}: the header declares ${vertex.count} vertices but the data ends after ${i}.`);
      const words = text.split(/\s+/);
      if (words.length !== width)
        throw new InputError(`${file}: vertex ${i} has ${words.length} values but the header declares ${width} properties.`);
      for (let p = 0; p < width; p++) {
        const v = Number(words[p]);
        if (Number.isNaN(v) && words[p] !== 'nan') throw new InputError(`${file}: vertex ${i} has a non-numeric value '${words[p]}'.`);
        row[p] = v;
      }
      yield row;
    }
  })();
}

/** Inria's binary little-endian layout, normals included (as zeros) for tools that expect them. */
export function writePly(data: GaussianData): Uint8Array {
  const K = shCoeffCount(data.shDegree);
  const rest = 3 * (K - 1);
  const names = [
    'x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2',
    ...Array.from({ length: rest }, (_, k) => `f_rest_${k}`),
    'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3',
  ];
  const header = new TextEncoder().encode(
    ['ply', 'format binary_little_endian 1.0', `element vertex ${data.count}`, ...names.map((n) => `property float ${n}`), 'end_header', ''].join('\n'),
  );
  const width = names.length;
  const body = new Float32Array(data.count * width);
  for (let i = 0; i < data.count; i++) {
    const o = i * width;
    body.set(data.means.subarray(i * 3, i * 3 + 3), o);
    for (let c = 0; c < 3; c++) {
      body[o + 6 + c] = data.sh[i * K * 3 + c];
      for (let k = 1; k < K; k++) body[o + 9 + c * (K - 1) + k - 1] = data.sh[(i * K + k) * 3 + c];
    }
    body[o + 9 + rest] = data.opacityLogits[i];
    body.set(data.logScales.subarray(i * 3, i * 3 + 3), o + 10 + rest);
    body.set(data.quats.subarray(i * 4, i * 4 + 4), o + 13 + rest);
  }
  const out = new Uint8Array(header.byteLength + body.byteLength);
  out.set(header, 0);
  // Float32Array is little-endian on every platform Node runs on.
  out.set(new Uint8Array(body.buffer), header.byteLength);
  return out;
}
