// Projection geometry of one splat in one view (EWA with the frustum clamp, eps2d blur,
// antialias compensation, opacity, shortest-axis normal), shared by project_fwd and
// project_bwd so that the backward sees exactly the forward's values.
#include "splat/common.wgsl"

struct Geometry {
  culled: bool,
  qn: vec4<f32>,
  qlen: f32,
  rq: mat3x3<f32>,
  s: vec3<f32>,
  m: mat3x3<f32>,
  pc: vec3<f32>,
  sc: mat3x3<f32>,
  clamp_x: bool,
  clamp_y: bool,
  tx: f32,
  ty: f32,
  j: mat3x2<f32>,
  covb: vec3<f32>, // xx, xy, yy after the blur
  comp: f32,
  conic: vec3<f32>,
  mean2d: vec2<f32>,
  sig: f32,
  opacity: f32,
  axis: u32,
  normal_sign: f32,
}

// The view-independent part (rotation, scales, 3D covariance, sigmoid), so that a kernel
// looping over views computes it once per splat; splat_geometry_in does the same arithmetic
// as splat_geometry, so the values are identical either way.
struct SplatLocal {
  qn: vec4<f32>,
  qlen: f32,
  rq: mat3x3<f32>,
  s: vec3<f32>,
  m: mat3x3<f32>,
  sigma: mat3x3<f32>,
  sig: f32,
}

fn splat_local(log_scale: vec3<f32>, quat: vec4<f32>, logit: f32) -> SplatLocal {
  var l: SplatLocal;
  l.qlen = length(quat);
  l.qn = quat / l.qlen;
  l.rq = quat_to_rotmat(l.qn);
  l.s = exp(log_scale);
  l.m = mat3x3<f32>(l.rq[0] * l.s.x, l.rq[1] * l.s.y, l.rq[2] * l.s.z);
  l.sigma = l.m * transpose(l.m);
  l.sig = sigmoid(logit);
  return l;
}

// Reads the batch uniform `frame`, which every including kernel binds at group 0, binding 0.
fn splat_geometry(view: View, mean: vec3<f32>, log_scale: vec3<f32>, quat: vec4<f32>, logit: f32) -> Geometry {
  return splat_geometry_in(view, mean, splat_local(log_scale, quat, logit));
}

fn splat_geometry_in(view: View, mean: vec3<f32>, l: SplatLocal) -> Geometry {
  let eps2d = frame.eps2d;
  let antialiased = frame.antialiased != 0u;
  var g: Geometry;
  g.qlen = l.qlen;
  g.qn = l.qn;
  g.rq = l.rq;
  g.s = l.s;
  g.m = l.m;
  let sigma = l.sigma;
  let w = view_rotation(view);
  g.pc = w * mean + view_translation(view);
  g.sc = w * sigma * transpose(w);
  let z = g.pc.z;
  let fx = view.intr.x; let fy = view.intr.y; let cx = view.intr.z; let cy = view.intr.w;
  let width = f32(frame.width); let height = f32(frame.height);
  let lim_x_pos = (width * (1.0 + FRUSTUM_MARGIN) - cx) / fx;
  let lim_x_neg = (cx + width * FRUSTUM_MARGIN) / fx;
  let lim_y_pos = (height * (1.0 + FRUSTUM_MARGIN) - cy) / fy;
  let lim_y_neg = (cy + height * FRUSTUM_MARGIN) / fy;
  let u = g.pc.x / z; let v = g.pc.y / z;
  g.clamp_x = u > lim_x_pos || u < -lim_x_neg;
  g.clamp_y = v > lim_y_pos || v < -lim_y_neg;
  g.tx = z * min(lim_x_pos, max(-lim_x_neg, u));
  g.ty = z * min(lim_y_pos, max(-lim_y_neg, v));
  g.j = mat3x2<f32>(vec2<f32>(fx / z, 0.0), vec2<f32>(0.0, fy / z), vec2<f32>(-fx * g.tx / (z * z), -fy * g.ty / (z * z)));
  let cov = g.j * g.sc * transpose(g.j);
  let det0 = cov[0][0] * cov[1][1] - cov[1][0] * cov[0][1];
  g.covb = vec3<f32>(cov[0][0] + eps2d, cov[1][0], cov[1][1] + eps2d);
  let det = g.covb.x * g.covb.z - g.covb.y * g.covb.y;
  g.comp = sqrt(max(0.0, det0 / det));
  g.conic = vec3<f32>(g.covb.z / det, -g.covb.y / det, g.covb.x / det);
  g.mean2d = vec2<f32>(fx * g.pc.x / z + cx, fy * g.pc.y / z + cy);
  g.sig = l.sig;
  g.opacity = select(g.sig, g.sig * g.comp, antialiased);
  g.axis = select(select(2u, 1u, g.s.y <= g.s.z), 0u, g.s.x <= g.s.y && g.s.x <= g.s.z);
  // select, not rq[axis]: a variable index into a private matrix becomes a slow gather on lavapipe.
  let n = select(select(g.rq[2], g.rq[1], g.axis == 1u), g.rq[0], g.axis == 0u);
  g.normal_sign = select(1.0, -1.0, dot(n, view.campos.xyz - mean) < 0.0);
  g.culled = !(z >= frame.near && z <= frame.far) || !(det > 0.0) || !(g.opacity >= ALPHA_MIN)
    || !is_finite_f32(g.mean2d.x) || !is_finite_f32(g.mean2d.y);
  return g;
}
