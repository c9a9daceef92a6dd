// The radiance field's uniform block (src/scene/nerf/layout.ts writes it) and the box
// normalisation, shared by the field evaluation and the ray setup. The including file
// declares var<uniform> field: FieldParams.

struct FieldParams {
  box_min: vec3<f32>, levels: u32,
  box_max: vec3<f32>, features: u32,
  table_size: u32, hidden: u32, sh_count: u32, enc_dim: u32,
  off_b1: u32, off_ws: u32, off_bs: u32, off_wc: u32,
  off_bc: u32, dense_mask: u32, colour_in: u32, mlp_count: u32,
  res: array<vec4<u32>, 4>,
}

// Position in the box as [0, 1]^3, clamped: outside its box the field takes the value at the
// nearest box point.
fn to_unit(p: vec3<f32>) -> vec3<f32> {
  return clamp((p - field.box_min) / (field.box_max - field.box_min), vec3<f32>(0.0), vec3<f32>(1.0));
}

// 1 along the axes where p lies inside the box (where the encoding is not clamped), else 0.
fn inside_box(p: vec3<f32>) -> vec3<f32> {
  return select(vec3<f32>(0.0), vec3<f32>(1.0), (p >= field.box_min) & (p <= field.box_max));
}
