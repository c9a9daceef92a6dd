// project_bwd: one invocation per splat, summing over the batch's views. Takes the
// screen-space gradients (mean2d, conic, opacity, depth, normal) back through the EWA
// projection (rasterizers.md §1.6, with the exact derivative of the frustum clamp) to the
// means, log-scales and quaternions, and adds them into the gradient buffers. Colour and
// opacity-logit gradients are color_bwd's.
#include "lib/dispatch.wgsl"
#include "splat/geometry.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> log_scales: array<f32>;
@group(0) @binding(3) var<storage, read> quats: array<f32>;
@group(0) @binding(4) var<storage, read> opacity_logits: array<f32>;
@group(0) @binding(5) var<storage, read> grad2d: array<f32>;
@group(0) @binding(6) var<storage, read_write> v_means: array<f32>;
@group(0) @binding(7) var<storage, read_write> v_log_scales: array<f32>;
@group(0) @binding(8) var<storage, read_write> v_quats: array<f32>;

// VJP of quat_to_rotmat at a unit quaternion; vr is the gradient of the matrix.
fn rotmat_vjp(q: vec4<f32>, vr: mat3x3<f32>) -> vec4<f32> {
  let w = q.x; let x = q.y; let y = q.z; let z = q.w;
  // g(r, c) = vr[c][r]
  let g00 = vr[0][0]; let g01 = vr[1][0]; let g02 = vr[2][0];
  let g10 = vr[0][1]; let g11 = vr[1][1]; let g12 = vr[2][1];
  let g20 = vr[0][2]; let g21 = vr[1][2]; let g22 = vr[2][2];
  return 2.0 * vec4<f32>(
    -z * g01 + y * g02 + z * g10 - x * g12 - y * g20 + x * g21,
    y * g01 + z * g02 + y * g10 - 2.0 * x * g11 - w * g12 + z * g20 + w * g21 - 2.0 * x * g22,
    -2.0 * y * g00 + x * g01 + w * g02 + x * g10 + z * g12 - w * g20 + z * g21 - 2.0 * y * g22,
    -2.0 * z * g00 - w * g01 + x * g02 + w * g10 - 2.0 * z * g11 + y * g12 + x * g20 + y * g21,
  );
}

@compute @workgroup_size(64)
fn project_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  let n = frame.num_splats;
  if (i >= n) { return; }
  let mean = vec3<f32>(means[i * 3u], means[i * 3u + 1u], means[i * 3u + 2u]);
  let log_scale = vec3<f32>(log_scales[i * 3u], log_scales[i * 3u + 1u], log_scales[i * 3u + 2u]);
  let quat = vec4<f32>(quats[i * 4u], quats[i * 4u + 1u], quats[i * 4u + 2u], quats[i * 4u + 3u]);
  let logit = opacity_logits[i];
  var acc_mean = vec3<f32>(0.0);
  var acc_scale = vec3<f32>(0.0);
  var acc_quat = vec4<f32>(0.0);
  for (var v = 0u; v < frame.num_views; v++) {
    let gb = (v * n + i) * GRAD_STRIDE;
    let v_xy_op_z = vec4<f32>(grad2d[gb], grad2d[gb + 1u], grad2d[gb + 2u], grad2d[gb + 3u]);
    let v_conic = vec3<f32>(grad2d[gb + 4u], grad2d[gb + 5u], grad2d[gb + 6u]);
    let v_normal = vec3<f32>(grad2d[gb + 12u], grad2d[gb + 13u], grad2d[gb + 14u]);
    // Splats that no pixel used have all-zero gradients (culled ones included).
    if (all(v_xy_op_z == vec4<f32>(0.0)) && all(v_conic == vec3<f32>(0.0)) && all(v_normal == vec3<f32>(0.0))) { continue; }
    let view = frame.views[v];
    let g = splat_geometry(view, mean, log_scale, quat, logit);
    let fx = view.intr.x; let fy = view.intr.y;
    let z = g.pc.z;
    // Opacity through the antialias compensation.
    let v_comp = select(0.0, v_xy_op_z.z * g.sig, frame.antialiased != 0u);
    // conic = inverse(covb): v_cov = -P vP P.
    let P = mat2x2<f32>(g.conic.x, g.conic.y, g.conic.y, g.conic.z);
    let vP = mat2x2<f32>(v_conic.x, 0.5 * v_conic.y, 0.5 * v_conic.y, v_conic.z);
    var v_cov = -1.0 * (P * vP * P);
    if (v_comp != 0.0 && g.comp > 0.0) {
      let f = 0.5 * v_comp / g.comp;
      let det_p = determinant(P);
      let c2 = g.comp * g.comp;
      v_cov += f * ((1.0 - c2) * P - mat2x2<f32>(frame.eps2d * det_p, 0.0, 0.0, frame.eps2d * det_p));
    }
    // cov = J Sc J^T.
    let v_sc = transpose(g.j) * v_cov * g.j;
    let v_j = (v_cov + transpose(v_cov)) * g.j * g.sc;
    var v_pc = vec3<f32>(0.0);
    let z2 = z * z;
    let z3 = z2 * z;
    v_pc.z += -fx / z2 * v_j[0][0] - fy / z2 * v_j[1][1];
    if (g.clamp_x) {
      v_pc.z += fx * g.tx / z3 * v_j[2][0];
    } else {
      v_pc.x += -fx / z2 * v_j[2][0];
      v_pc.z += 2.0 * fx * g.pc.x / z3 * v_j[2][0];
    }
    if (g.clamp_y) {
      v_pc.z += fy * g.ty / z3 * v_j[2][1];
    } else {
      v_pc.y += -fy / z2 * v_j[2][1];
      v_pc.z += 2.0 * fy * g.pc.y / z3 * v_j[2][1];
    }
    v_pc.x += fx / z * v_xy_op_z.x;
    v_pc.y += fy / z * v_xy_op_z.y;
    v_pc.z += -fx * g.pc.x / z2 * v_xy_op_z.x - fy * g.pc.y / z2 * v_xy_op_z.y + v_xy_op_z.w;
    let w = view_rotation(view);
    acc_mean += transpose(w) * v_pc;
    // Sc = W Sigma W^T, Sigma = M M^T, M = Rq diag(s).
    let v_sigma = transpose(w) * v_sc * w;
    let v_m = (v_sigma + transpose(v_sigma)) * g.m;
    var v_r = mat3x3<f32>(v_m[0] * g.s.x, v_m[1] * g.s.y, v_m[2] * g.s.z);
    acc_scale += vec3<f32>(dot(g.rq[0], v_m[0]), dot(g.rq[1], v_m[1]), dot(g.rq[2], v_m[2])) * g.s;
    v_r[g.axis] += g.normal_sign * v_normal;
    let v_qn = rotmat_vjp(g.qn, v_r);
    acc_quat += (v_qn - g.qn * dot(v_qn, g.qn)) / g.qlen;
  }
  for (var a = 0u; a < 3u; a++) {
    v_means[i * 3u + a] += acc_mean[a];
    v_log_scales[i * 3u + a] += acc_scale[a];
  }
  for (var a = 0u; a < 4u; a++) { v_quats[i * 4u + a] += acc_quat[a]; }
}
