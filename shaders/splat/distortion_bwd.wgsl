// distortion_bwd: the exact gradient of sum_pixels g * L (L from distortion_fwd) into the
// screen-space gradients that rasterize_bwd also writes (layout in common.wgsl): mean2d,
// opacity, camera z, conic and the |d mean2d| sums. One workgroup of 128 invocations per
// (view, tile), two pixels each (rows y and y + 8). Each pixel walks its splats back to
// front from the end index, recovering T_i = T_{i+1} / (1 - alpha_i) as rasterize_bwd does,
// with e_k = dL/dw_k = D2 + A m'_k^2 - 2 D1 m'_k from the forward's moments and the suffix
// S = sum_{k>i} e_k w_k:
//   dL/dalpha_i = e_i T_i - S / (1 - alpha_i),   dL/dm_i = 2 w_i (A m'_i - D1).
// Two splats per round are summed over the workgroup in workgroup memory (plain stores,
// then six invocations add 128 entries each) and added to the global gradients with one
// compare-and-swap float add per (splat, component). Runs once per chunk of views, into
// that chunk's grad2d; images are indexed by view_base + view.
#include "lib/dispatch.wgsl"
#include "splat/distortion_common.wgsl"
#include "lib/atomic_float.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<uniform> params: DistortionParams;
@group(0) @binding(2) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(4) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> pixel_state: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read> moments: array<f32>; // [V][H][W] x (D1, D2, m_first)
@group(0) @binding(7) var<storage, read> cotangent: array<f32>; // [V][H][W]
@group(0) @binding(8) var<storage, read_write> grad2d: array<atomic<u32>>;

const BATCH: u32 = 64u;
const THREADS: u32 = 128u;
var<workgroup> s_xy_op_z: array<vec4<f32>, BATCH>;
var<workgroup> s_conic: array<vec4<f32>, BATCH>;
var<workgroup> s_m: array<vec2<f32>, BATCH>; // m, dm/dz
var<workgroup> s_ids: array<u32, BATCH>;
var<workgroup> s_red: array<vec4<f32>, 768>; // 2 splats x 128 invocations x 3 vec4
var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_max_end_plain: u32;

struct Replay {
  pixel: vec2<f32>,
  end_index: u32,
  g: f32,
  T: f32,
  moments: vec4<f32>, // A = 1 - T_final, D1, D2, m_first
  suffix: f32,
}

fn load_replay(view: u32, px: u32, py: u32, start: u32) -> Replay {
  var r: Replay;
  r.pixel = vec2<f32>(f32(px) + 0.5, f32(py) + 0.5);
  r.end_index = start;
  if (px >= frame.width || py >= frame.height) { return r; }
  let pix = ((frame.view_base + view) * frame.height + py) * frame.width + px;
  r.g = cotangent[pix];
  // A pixel without cotangent adds nothing: skip its walk.
  if (r.g == 0.0) { return r; }
  let st = pixel_state[pix];
  r.T = bitcast<f32>(st.x);
  r.end_index = st.y;
  r.moments = vec4<f32>(1.0 - r.T, moments[pix * 3u], moments[pix * 3u + 1u], moments[pix * 3u + 2u]);
  return r;
}

// [d mean2d.xy, d opacity, d z], [d conic, 0], [|d mean2d.x|, |d mean2d.y|, 0, 0] of batch
// splat j at one pixel (zero when it did not contribute); steps T and the suffix back.
fn splat_pixel_grads(r: ptr<function, Replay>, j: u32, k: u32) -> array<vec4<f32>, 3> {
  var g: array<vec4<f32>, 3>;
  if (k >= (*r).end_index) { return g; }
  let xy_op_z = s_xy_op_z[j];
  let conic = s_conic[j];
  let h = splat_hit(xy_op_z, conic, (*r).pixel);
  if (!h.used) { return g; }
  let A = (*r).moments.x;
  let D1 = (*r).moments.y;
  let D2 = (*r).moments.z;
  let m = s_m[j].x - (*r).moments.w;
  let one_minus = 1.0 - h.alpha;
  let T_i = (*r).T / one_minus;
  let w = h.alpha * T_i;
  let e = D2 + A * m * m - 2.0 * D1 * m;
  let gc = (*r).g;
  let v_alpha = gc * (e * T_i - (*r).suffix / one_minus);
  (*r).suffix += e * w;
  (*r).T = T_i;
  g[0].w = gc * 2.0 * w * (A * m - D1) * s_m[j].y;
  // G is 0 where alpha was clamped: no gradient through the Gaussian there.
  let v_sigma = -xy_op_z.z * h.G * v_alpha;
  let d = h.d;
  let v_mean = v_sigma * vec2<f32>(conic.x * d.x + conic.y * d.y, conic.y * d.x + conic.z * d.y);
  g[0] = vec4<f32>(v_mean, h.G * v_alpha, g[0].w);
  g[1] = vec4<f32>(0.5 * v_sigma * d.x * d.x, v_sigma * d.x * d.y, 0.5 * v_sigma * d.y * d.y, 0.0);
  g[2] = vec4<f32>(abs(v_mean), 0.0, 0.0);
  return g;
}

@compute @workgroup_size(128)
fn distortion_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let tiles = frame.tiles_x * frame.tiles_y;
  let wg = linear_workgroup(wid, nwg);
  if (wg >= frame.num_views * tiles) { return; }
  let view = wg / tiles;
  let tile = wg - view * tiles;
  let ty = tile / frame.tiles_x;
  let tx = tile - ty * frame.tiles_x;
  let px = tx * TILE + lid % TILE;
  let py = ty * TILE + lid / TILE;

  if (lid == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);

  var rep0 = load_replay(view, px, py, range.x);
  var rep1 = load_replay(view, px, py + 8u, range.x);
  atomicMax(&s_max_end, max(rep0.end_index, rep1.end_index));
  workgroupBarrier();
  if (lid == 0u) { s_max_end_plain = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_max_end_plain), range.x);

  var batch_end = stop;
  while (batch_end > range.x) {
    let batch_start = select(range.x, batch_end - BATCH, batch_end - range.x > BATCH);
    let count = batch_end - batch_start;
    workgroupBarrier();
    if (lid < count) {
      let id = isect_ids[batch_start + lid];
      let base = id * PROJ_STRIDE;
      s_ids[lid] = id;
      let xy_op_z = bitcast<vec4<f32>>(projected[base]);
      s_xy_op_z[lid] = xy_op_z;
      s_conic[lid] = load_conic4(bitcast<vec4<f32>>(projected[base + 1u]), xy_op_z.z);
      s_m[lid] = vec2<f32>(distortion_depth(params, xy_op_z.w), distortion_depth_slope(params, xy_op_z.w));
    }
    workgroupBarrier();
    // Two splats per round, back to front: batch slots jj - 1 and jj - 2.
    for (var jj = count; jj > 0u; jj = select(0u, jj - 2u, jj >= 2u)) {
      for (var s = 0u; s < 2u; s++) {
        var sum: array<vec4<f32>, 3>;
        if (s < jj) {
          let j = jj - 1u - s;
          let k = batch_start + j;
          let a = splat_pixel_grads(&rep0, j, k);
          let b = splat_pixel_grads(&rep1, j, k);
          for (var q = 0u; q < 3u; q++) { sum[q] = a[q] + b[q]; }
        }
        for (var q = 0u; q < 3u; q++) { s_red[(s * THREADS + lid) * 3u + q] = sum[q]; }
      }
      workgroupBarrier();
      if (lid < 6u) {
        let s = lid / 3u;
        let q = lid % 3u;
        var total = vec4<f32>(0.0);
        for (var t = 0u; t < THREADS; t++) { total += s_red[(s * THREADS + t) * 3u + q]; }
        if (s < jj) {
          let base = s_ids[jj - 1u - s] * GRAD_STRIDE;
          if (q == 0u) {
            for (var c = 0u; c < 4u; c++) { atomic_add_f32(&grad2d[base + c], total[c]); }
          } else if (q == 1u) {
            for (var c = 0u; c < 3u; c++) { atomic_add_f32(&grad2d[base + 4u + c], total[c]); }
          } else {
            atomic_add_f32(&grad2d[base + 11u], total.x);
            atomic_add_f32(&grad2d[base + 15u], total.y);
          }
        }
      }
      workgroupBarrier();
    }
    batch_end = batch_start;
  }
}
