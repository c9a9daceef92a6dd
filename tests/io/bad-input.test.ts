import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { readPly, writePly } from '../../src/io/ply.ts';
import { readSplat, writeSplat } from '../../src/io/splat-file.ts';
import { readSplatGlb, writeSplatGlb } from '../../src/io/glb.ts';
import { parseGlb } from '../../src/io/glb-reader.ts';
import { GltfBuilder, type GltfDocument } from '../../src/io/gltf-builder.ts';
import { loadGaussians } from '../../src/io/gaussians-file.ts';
import { writeMeshGlb } from '../../src/io/mesh-glb.ts';
import { splatsToMesh } from '../../src/io/splat-mesh.ts';
import { run as exportCommand } from '../../src/cli/commands/export.ts';
import { coloredSphere } from './synthetic.ts';

const dir = mkdtempSync(join(tmpdir(), 'rl4d-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Expects one InputError whose message names the file and matches `what`. */
function expectInputError(f: () => unknown, file: string, what: RegExp): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).toContain(file);
  expect((error as Error).message).toMatch(what);
}

const encode = (s: string) => new TextEncoder().encode(s);

/** Re-encodes a GLB after editing its JSON, keeping the binary chunk. */
function editGlb(bytes: Uint8Array, edit: (json: GltfDocument) => void): Uint8Array {
  const { json, bin } = parseGlb(bytes);
  edit(json);
  const text = encode(JSON.stringify(json));
  const jsonLength = (text.length + 3) & ~3;
  const binLength = bin ? (bin.length + 3) & ~3 : 0;
  const total = 20 + jsonLength + (bin ? 8 + binLength : 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x46546c67, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, total, true);
  view.setUint32(12, jsonLength, true);
  view.setUint32(16, 0x4e4f534a, true);
  out.fill(0x20, 20, 20 + jsonLength);
  out.set(text, 20);
  if (bin) {
    view.setUint32(20 + jsonLength, binLength, true);
    view.setUint32(24 + jsonLength, 0x004e4942, true);
    out.set(bin, 28 + jsonLength);
  }
  return out;
}

describe('bad PLY input', () => {
  const good = writePly(coloredSphere(8, 1, 3));
  const headerEnd = new TextDecoder().decode(good.subarray(0, 2000)).indexOf('end_header') + 'end_header\n'.length;
  const withHeader = (edit: (h: string) => string) => {
    const header = encode(edit(new TextDecoder().decode(good.subarray(0, headerEnd))));
    const out = new Uint8Array(header.length + good.length - headerEnd);
    out.set(header);
    out.set(good.subarray(headerEnd), header.length);
    return out;
  };

  it('wrong magic', () => expectInputError(() => readPly(encode('plx\nformat ascii 1.0\n'), 'a.ply'), 'a.ply', /not a PLY/));
  it('truncated data', () => expectInputError(() => readPly(good.subarray(0, good.length - 5), 'b.ply'), 'b.ply', /declares 8 vertices .* truncated/));
  it('truncated header', () => expectInputError(() => readPly(good.subarray(0, 60), 'c.ply'), 'c.ply', /no 'end_header'/));
  it('absurd vertex count fails at once', () =>
    expectInputError(() => readPly(withHeader((h) => h.replace('element vertex 8', 'element vertex 900000000000')), 'd.ply'), 'd.ply', /900000000000 vertices/));
  it('missing field', () =>
    expectInputError(() => readPly(withHeader((h) => h.replace('property float opacity', 'property float opacityx')), 'e.ply'), 'e.ply', /no 'opacity' property/));
  it('partial SH', () =>
    expectInputError(() => readPly(withHeader((h) => h.replace('property float f_rest_8\n', 'property float g_8\n')), 'f.ply'), 'f.ply', /f_rest_0..f_rest_7 \(8 values\)/));
  it('big-endian format', () =>
    expectInputError(() => readPly(withHeader((h) => h.replace('binary_little_endian', 'binary_big_endian')), 'g.ply'), 'g.ply', /binary_big_endian/));
  it('ASCII with a short row', () => {
    const text = 'ply\nformat ascii 1.0\nelement vertex 1\n' + ['x', 'y', 'z', 'f_dc_0', 'f_dc_1', 'f_dc_2', 'opacity', 'scale_0', 'scale_1', 'scale_2', 'rot_0', 'rot_1', 'rot_2', 'rot_3'].map((n) => `property float ${n}`).join('\n') + '\nend_header\n' + Array(13).fill('0.25').join(' ') + '\n';
    expectInputError(() => readPly(encode(text), 'h.ply'), 'h.ply', /vertex 0 has 13 values but the header declares 14/);
  });
  it('NaN values', () => {
    const data = coloredSphere(3, 0, 1);
    data.means[4] = NaN;
    expectInputError(() => readPly(writePly(data), 'i.ply'), 'i.ply', /'means' of splat 1 is NaN/);
  });
});

describe('bad .splat input', () => {
  it('length not a multiple of 32', () => expectInputError(() => readSplat(new Uint8Array(33), 'a.splat'), 'a.splat', /not a whole number of 32-byte/));
  it('negative scale', () => {
    const bytes = writeSplat(coloredSphere(2, 0, 1));
    new DataView(bytes.buffer).setFloat32(32 + 16, -1, true);
    expectInputError(() => readSplat(bytes, 'b.splat'), 'b.splat', /splat 1 has scale -1/);
  });
});

describe('bad GLB input', () => {
  const good = writeSplatGlb(coloredSphere(6, 1, 2));
  it('wrong magic', () => expectInputError(() => readSplatGlb(encode('PK\u0003\u0004 not a glb at all.....'), 'a.glb'), 'a.glb', /not a GLB/));
  it('truncated file', () => expectInputError(() => readSplatGlb(good.subarray(0, good.length - 40), 'b.glb'), 'b.glb', /truncated GLB/));
  it('a missing buffer view', () =>
    expectInputError(() => readSplatGlb(editGlb(good, (j) => (j.accessors![2].bufferView = 77)), 'c.glb'), 'c.glb', /buffer view 77, which does not exist/));
  it('an accessor count larger than its data', () =>
    expectInputError(() => readSplatGlb(editGlb(good, (j) => (j.accessors![0].count = 1e12)), 'd.glb'), 'd.glb', /accessor 0 \(POSITION\) needs \d+ bytes for 1000000000000 elements/));
  it('mismatched attribute counts', () =>
    expectInputError(() => readSplatGlb(editGlb(good, (j) => (j.accessors![4].count = 3)), 'e.glb'), 'e.glb', /has 3 elements but POSITION has 6/));
  it('incomplete SH degree', () =>
    expectInputError(
      () => readSplatGlb(editGlb(good, (j) => delete j.meshes![0].primitives[0].attributes['KHR_gaussian_splatting:SH_DEGREE_1_COEF_1']), 'f.glb'),
      'f.glb',
      /SH degree 1 is incomplete: 'KHR_gaussian_splatting:SH_DEGREE_1_COEF_1' is missing/,
    ));
  it('a GLB without splats', () =>
    expectInputError(() => readSplatGlb(writeMeshGlb(splatsToMesh(coloredSphere(50, 0, 1), { resolution: 8 })), 'g.glb'), 'g.glb', /no mesh primitive uses KHR_gaussian_splatting/));
  it('broken JSON', () => {
    const bytes = new GltfBuilder().toGlb();
    bytes[20] = 0x7d; // '}' where '{' was
    expectInputError(() => readSplatGlb(bytes, 'h.glb'), 'h.glb', /JSON chunk does not parse/);
  });
});

describe('files and the export command', () => {
  it('an unknown extension and a missing file', async () => {
    await expect(loadGaussians(join(dir, 'x.obj'))).rejects.toThrow(/unknown splat format '.obj'/);
    await expect(loadGaussians(join(dir, 'missing.ply'))).rejects.toThrow(/missing.ply: cannot read the file \(ENOENT\)/);
  });

  it('a failed export leaves no output and no temporary file behind', async () => {
    const input = join(dir, 'broken.ply');
    writeFileSync(input, writePly(coloredSphere(5, 0, 1)).subarray(0, 700));
    const output = join(dir, 'out.glb');
    await expect(exportCommand([input, '--to', output])).rejects.toBeInstanceOf(InputError);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('out.glb'))).toEqual([]);
  });

  it('exports PLY to GLB, .splat and a mesh, and the files read back', async () => {
    const input = join(dir, 'sphere.ply');
    const data = coloredSphere(120, 2, 6);
    writeFileSync(input, writePly(data));
    const log = console.log;
    console.log = () => {};
    try {
      expect(await exportCommand([input, '--to', join(dir, 'sphere.glb')])).toBe(0);
      expect(await exportCommand([input, '--to', join(dir, 'sphere.splat')])).toBe(0);
      expect(await exportCommand([input, '--to', join(dir, 'mesh.glb'), '--mesh', '--resolution', '16'])).toBe(0);
    } finally {
      console.log = log;
    }
    expect((await loadGaussians(join(dir, 'sphere.glb'))).sh).toEqual(data.sh);
    expect((await loadGaussians(join(dir, 'sphere.splat'))).count).toBe(120);
    expect(parseGlb(new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(join(dir, 'mesh.glb'))))).json.meshes![0].primitives[0].mode).toBe(4);
    await expect(exportCommand([input, '--to', join(dir, 'mesh.ply'), '--mesh'])).rejects.toThrow(/--mesh writes a GLB/);
  });
});
