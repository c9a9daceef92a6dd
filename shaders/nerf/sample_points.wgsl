// 4D: the world position of every sample slot of a chunk of rays, [ray][max_steps][3], for
// the deformation field to evaluate before the march (slot i of a ray is its i-th step, at the
// same position march_fwd/march_bwd compute). Slots past the ray's exit from the box are never
// marched; they hold the box centre so that the field sees finite points.
#include "lib/dispatch.wgsl"
#include "nerf/ray.wgsl"

@group(0) @binding(0) var<uniform> field: FieldParams;
@group(0) @binding(1) var<uniform> rp: RenderParams;
@group(0) @binding(2) var<storage, read> cams: array<f32>;
@group(0) @binding(3) var<storage, read_write> points: array<f32>;

@compute @workgroup_size(64)
fn sample_points(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let local = linear_invocation(wid, nwg, lid, 64u);
  if (local >= rp.ray_count) { return; }
  let ray = camera_ray(rp.ray_offset + local);
  for (var i = 0u; i < rp.max_steps; i++) {
    let t = sample_t(ray, i);
    var p = 0.5 * (field.box_min + field.box_max);
    if (t < ray.t1) { p = ray.o + t * ray.d; }
    let o = (local * rp.max_steps + i) * 3u;
    points[o] = p.x;
    points[o + 1u] = p.y;
    points[o + 2u] = p.z;
  }
}
