// 4D: a sample's canonical position x_c = x + d(x, t), where d is the deformation field's
// position offset (channels 0..2 of the [slot][14] offsets the HexPlane kernel wrote for this
// chunk's sample slots). The including file declares var<storage> offsets: array<f32>.

const OFFSET_STRIDE: u32 = 14u;

fn warp(p: vec3<f32>, slot: u32) -> vec3<f32> {
  let o = slot * OFFSET_STRIDE;
  return p + vec3<f32>(offsets[o], offsets[o + 1u], offsets[o + 2u]);
}
