// Camera rays through pixel centres, clipped to the scene box. The including file declares:
//   var<uniform> field: FieldParams; var<uniform> rp: RenderParams; var<storage> cams: array<f32>;
// Cameras are 20 floats each: viewmat (row-major, world-to-camera, OpenCV) then fx, fy, cx, cy.

#include "nerf/field_params.wgsl"

struct RenderParams {
  width: u32, height: u32, views: u32, max_steps: u32,
  step: f32, near: f32, far: f32, use_occ: u32,
  bg: vec3<f32>, occ_res: u32,
  ray_offset: u32, ray_count: u32, capacity: u32, normal_eps: f32,
}

struct Ray { o: vec3<f32>, d: vec3<f32>, z_per_t: f32, t0: f32, t1: f32 }

fn camera_ray(ray_id: u32) -> Ray {
  let pix = rp.width * rp.height;
  let v = ray_id / pix;
  let py = (ray_id % pix) / rp.width;
  let px = ray_id % rp.width;
  let c = v * 20u;
  let dcam = vec3<f32>((f32(px) + 0.5 - cams[c + 18u]) / cams[c + 16u], (f32(py) + 0.5 - cams[c + 19u]) / cams[c + 17u], 1.0);
  let r0 = vec3<f32>(cams[c + 0u], cams[c + 1u], cams[c + 2u]);
  let r1 = vec3<f32>(cams[c + 4u], cams[c + 5u], cams[c + 6u]);
  let r2 = vec3<f32>(cams[c + 8u], cams[c + 9u], cams[c + 10u]);
  let tr = vec3<f32>(cams[c + 3u], cams[c + 7u], cams[c + 11u]);
  let len = length(dcam);
  let d = (r0 * dcam.x + r1 * dcam.y + r2 * dcam.z) / len;
  let o = -(r0 * tr.x + r1 * tr.y + r2 * tr.z);
  // Slab test; a zero direction component is nudged so that the division stays finite.
  let ds = select(d, vec3<f32>(1e-12), abs(d) < vec3<f32>(1e-12));
  let ta = (field.box_min - o) / ds;
  let tb = (field.box_max - o) / ds;
  let lo = min(ta, tb);
  let hi = max(ta, tb);
  let t0 = max(max(max(lo.x, lo.y), lo.z), rp.near);
  let t1 = min(min(min(hi.x, hi.y), hi.z), rp.far);
  return Ray(o, d, 1.0 / len, t0, t1);
}

fn sample_t(ray: Ray, i: u32) -> f32 { return ray.t0 + (f32(i) + 0.5) * rp.step; }

fn unit_normal(g: vec3<f32>) -> vec3<f32> {
  let n = length(g);
  if (n < 1e-20) { return vec3<f32>(0.0); }
  return -g / n;
}
