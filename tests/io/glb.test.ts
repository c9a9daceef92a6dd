import { describe, expect, it } from 'vitest';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { GLTFGaussianSplatLoaderExtension } from 'three/examples/jsm/loaders/GLTFGaussianSplatLoaderExtension.js';
import { readSplatGlb, writeSplatGlb, shAttributeName } from '../../src/io/glb.ts';
import { parseGlb } from '../../src/io/glb-reader.ts';
import { readPly, writePly } from '../../src/io/ply.ts';
import { SH_C0, shCoeffCount, type GaussianData } from '../../src/scene/gaussian-data.ts';
import { coloredSphere } from './synthetic.ts';
import { validatorErrors } from './validate-glb.ts';

const f = Math.fround;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function unitXyzw(data: GaussianData, i: number): number[] {
  const [w, x, y, z] = data.quats.subarray(i * 4, i * 4 + 4);
  const n = Math.hypot(w, x, y, z);
  return [x / n, y / n, z / n, w / n];
}

describe('GLB with KHR_gaussian_splatting', () => {
  for (const degree of [0, 1, 3]) {
    it(`PLY -> GLB -> PLY keeps every value (SH degree ${degree})`, () => {
      const original = readPly(writePly(coloredSphere(40, degree, 30 + degree)));
      const back = readPly(writePly(readSplatGlb(writeSplatGlb(original), 'mem.glb')));
      expect(back.shDegree).toBe(degree);
      // Means and SH are stored as float32 as they are: bit-exact.
      expect(back.means).toEqual(original.means);
      expect(back.sh).toEqual(original.sh);
      for (let i = 0; i < original.count; i++) {
        // Activated values are stored as float32; compare in the stored (activated) space.
        for (let c = 0; c < 3; c++)
          expect(f(Math.exp(back.logScales[i * 3 + c]))).toBeCloseTo(f(Math.exp(original.logScales[i * 3 + c])), 7);
        expect(Math.abs(sigmoid(back.opacityLogits[i]) - sigmoid(original.opacityLogits[i]))).toBeLessThan(1e-7);
        const a = unitXyzw(back, i);
        const b = unitXyzw(original, i);
        for (let c = 0; c < 4; c++) expect(Math.abs(a[c] - b[c])).toBeLessThan(1e-7);
      }
    });
  }

  it('writes activated values, every SH coefficient, a linear COLOR_0 and the extension object', () => {
    const data = coloredSphere(5, 2, 8);
    const glb = parseGlb(writeSplatGlb(data));
    const primitive = glb.json.meshes![0].primitives[0];
    expect(primitive.mode).toBe(0);
    expect(primitive.extensions!.KHR_gaussian_splatting).toMatchObject({ kernel: 'ellipse', colorSpace: 'srgb_rec709_display' });
    expect(glb.json.extensionsUsed).toEqual(['KHR_gaussian_splatting']);
    expect(glb.json.extensionsRequired).toBeUndefined();
    const names = Object.keys(primitive.attributes);
    for (let k = 0; k < 9; k++) expect(names).toContain(shAttributeName(k));
    expect(names).toContain('KHR_gaussian_splatting:SH_DEGREE_2_COEF_4');
    expect(names).not.toContain('KHR_gaussian_splatting:SH_DEGREE_3_COEF_0');
    expect(glb.json.accessors![primitive.attributes.COLOR_0]).toMatchObject({ type: 'VEC4', componentType: 5126 });
  });

  for (const degree of [0, 3]) {
    it(`passes the Khronos validator apart from the splat attribute names (SH degree ${degree})`, async () => {
      const errors = await validatorErrors(writeSplatGlb(coloredSphere(30, degree, 2)));
      expect(errors).toEqual([]);
    });
  }

  it('the validator filter still reports a broken splat GLB', async () => {
    const bytes = writeSplatGlb(coloredSphere(10, 0, 2));
    // Corrupt the POSITION accessor's count in place (same JSON length): a real error remains.
    const text = new TextDecoder().decode(bytes);
    const at = text.indexOf('"count":10');
    bytes.set(new TextEncoder().encode('"count":99'), at);
    expect((await validatorErrors(bytes)).length).toBeGreaterThan(0);
  });

  it("three.js's GLTFLoader with its Gaussian-splat extension reads back the same splats", async () => {
    const data = coloredSphere(25, 1, 17);
    const glb = writeSplatGlb(data);
    const loader = new GLTFLoader();
    loader.register((parser) => new GLTFGaussianSplatLoaderExtension(parser) as never);
    const gltf = await loader.parseAsync(glb.slice().buffer, '');
    const splat = gltf.scene.getObjectByProperty('type', 'GaussianSplat') as unknown as {
      splatGeometry: { getAttribute(n: string): { array: ArrayLike<number>; count: number } };
    };
    expect(splat).toBeDefined();
    const g = splat.splatGeometry;
    const positions = g.getAttribute('position').array;
    const covariances = g.getAttribute('covariance').array;
    const colors = g.getAttribute('color').array;
    expect(g.getAttribute('position').count).toBe(data.count);
    const K = shCoeffCount(1);
    for (let i = 0; i < data.count; i++) {
      for (let c = 0; c < 3; c++) expect(positions[i * 3 + c]).toBe(data.means[i * 3 + c]);
      // Covariance R S S^T R^T from our scales and rotations, compared with three's.
      const [x, y, z, w] = unitXyzw(data, i);
      const R = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
      ];
      const s = [0, 1, 2].map((c) => Math.exp(data.logScales[i * 3 + c]));
      const cov = (a: number, b: number) => R[a][0] * R[b][0] * s[0] ** 2 + R[a][1] * R[b][1] * s[1] ** 2 + R[a][2] * R[b][2] * s[2] ** 2;
      const expected = [cov(0, 0), cov(0, 1), cov(0, 2), cov(1, 1), cov(1, 2), cov(2, 2)];
      const scale = s[0] ** 2 + s[1] ** 2 + s[2] ** 2;
      for (let e = 0; e < 6; e++) expect(Math.abs(covariances[i * 6 + e] - expected[e]) / scale).toBeLessThan(1e-5);
      // Colours and opacity as RGBA8 from SH DC and the opacity attribute.
      for (let c = 0; c < 3; c++)
        expect(Math.abs(colors[i * 4 + c] - (0.5 + SH_C0 * data.sh[i * K * 3 + c]) * 255)).toBeLessThanOrEqual(0.5001);
      expect(Math.abs(colors[i * 4 + 3] - sigmoid(data.opacityLogits[i]) * 255)).toBeLessThanOrEqual(0.5001);
    }
    expect(g.getAttribute('sphericalHarmonics1').count).toBe(data.count);
  });
});
