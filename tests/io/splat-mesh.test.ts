import { describe, expect, it } from 'vitest';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import type { Mesh } from 'three';
import { splatsToMesh } from '../../src/io/splat-mesh.ts';
import { writeMeshGlb } from '../../src/io/mesh-glb.ts';
import { srgbToLinear } from '../../src/io/activation.ts';
import { coloredSphere } from './synthetic.ts';
import { validatorErrors } from './validate-glb.ts';

describe('splat mesh export', () => {
  const splats = coloredSphere(300, 0, 5);
  const mesh = splatsToMesh(splats, { resolution: 24 });

  it('meshes the splat shell where the splats are, coloured by the splats', () => {
    const V = mesh.positions.length / 3;
    expect(V).toBeGreaterThan(200);
    let agree = 0;
    for (let v = 0; v < V; v++) {
      const p = mesh.positions.subarray(v * 3, v * 3 + 3);
      const r = Math.hypot(p[0], p[1], p[2]);
      expect(r).toBeGreaterThan(0.6); // the shell has an inner and an outer surface
      expect(r).toBeLessThan(1.4);
      // The sphere's colour grows with each coordinate: 0.15 + 0.7 * (0.5 + 0.5 * dir).
      for (let c = 0; c < 3; c++) {
        const expected = 0.15 + 0.7 * (0.5 + 0.5 * (p[c] / r));
        if (Math.abs(mesh.colors[v * 3 + c] - expected) < 0.12) agree++;
      }
    }
    expect(agree / (3 * V)).toBeGreaterThan(0.9);
  });

  it('writes a GLB that passes the validator and that three.js loads with the same vertices and colours', async () => {
    const glb = writeMeshGlb(mesh);
    expect(await validatorErrors(glb)).toEqual([]);
    const gltf = await new GLTFLoader().parseAsync(glb.slice().buffer, '');
    const loaded = gltf.scene.getObjectByProperty('type', 'Mesh') as Mesh;
    const position = loaded.geometry.getAttribute('position');
    const color = loaded.geometry.getAttribute('color');
    expect(position.count).toBe(mesh.positions.length / 3);
    expect(loaded.geometry.getAttribute('normal').count).toBe(position.count);
    expect(loaded.geometry.index!.count).toBe(mesh.indices.length);
    for (let v = 0; v < position.count; v += 17) {
      expect(position.getX(v)).toBe(mesh.positions[v * 3]);
      expect(color.getY(v)).toBeCloseTo(srgbToLinear(mesh.colors[v * 3 + 1]), 6);
    }
  });

  it('rejects a resolution outside the limits', () => {
    expect(() => splatsToMesh(splats, { resolution: 4 })).toThrow(/resolution 4 is out of range/);
    expect(() => splatsToMesh(splats, { resolution: 100000 })).toThrow(/from 8 to 512/);
  });
});
