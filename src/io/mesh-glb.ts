/**
 * A triangle mesh as GLB: POSITION, NORMAL, COLOR_0 (linear, as glTF defines vertex
 * colours, so display colours are sRGB-decoded here) and indices, with a rough,
 * non-metallic white material that lets the vertex colours show.
 */
import { srgbToLinear } from './activation.ts';
import { BufferTarget, GltfBuilder, PrimitiveMode } from './gltf-builder.ts';
import type { ColoredMesh } from './splat-mesh.ts';

export function addMeshPrimitive(builder: GltfBuilder, mesh: ColoredMesh) {
  const linear = new Float32Array(mesh.colors.length);
  for (let i = 0; i < linear.length; i++) linear[i] = srgbToLinear(mesh.colors[i]);
  const vertexCount = mesh.positions.length / 3;
  const indices = vertexCount < 65536 ? new Uint16Array(mesh.indices) : new Uint32Array(mesh.indices);
  const material = builder.addMaterial({
    name: 'vertex-colors',
    pbrMetallicRoughness: { baseColorFactor: [1, 1, 1, 1], metallicFactor: 0, roughnessFactor: 1 },
  });
  return {
    attributes: {
      POSITION: builder.addAccessor(mesh.positions, 'VEC3', { target: BufferTarget.ARRAY_BUFFER }),
      NORMAL: builder.addAccessor(mesh.normals, 'VEC3', { target: BufferTarget.ARRAY_BUFFER }),
      COLOR_0: builder.addAccessor(linear, 'VEC3', { target: BufferTarget.ARRAY_BUFFER }),
    },
    indices: builder.addAccessor(indices, 'SCALAR', { target: BufferTarget.ELEMENT_ARRAY_BUFFER }),
    material,
    mode: PrimitiveMode.TRIANGLES,
  };
}

export function writeMeshGlb(mesh: ColoredMesh, name = 'mesh'): Uint8Array {
  const builder = new GltfBuilder();
  const meshIndex = builder.addMesh({ name, primitives: [addMeshPrimitive(builder, mesh)] });
  builder.addScene([builder.addNode({ name, mesh: meshIndex })]);
  return builder.toGlb();
}
