#if SUBGROUPS
enable subgroups;
// The sums below run only where some lane of the subgroup contributes (subgroupAny), which
// is uniform within the subgroup though the analysis cannot prove it.
diagnostic(off, subgroup_uniformity);
#endif
// rasterize_bwd: one workgroup of 128 invocations per (view, tile), two pixels each (rows y
// and y + 8), so that every reduction round sums half as many entries. Each pixel walks its splats back to
// front from the end index rasterize_fwd kept, recovering T_i = T_{i+1} / (1 - alpha_i) and
// the suffix S of what lies behind (rasterizers.md §1.5), and forms 15 screen-space
// gradients per (pixel, splat). They are summed over the workgroup per splat (subgroupAdd,
// then one compare-and-swap add per subgroup into workgroup memory; without subgroups a
// plain workgroup-memory sum), and each batch is flushed with one CAS float add per
// (splat, component) into the global screen-space gradients.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"
#include "lib/atomic_float.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(3) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> pixel_state: array<vec2<u32>>;
// [rgb P*3][alpha P][depth P][normal P*3], P = views * height * width.
@group(0) @binding(5) var<storage, read> cotangents: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad2d: array<atomic<u32>>;

const BATCH: u32 = 64u;
var<workgroup> s_xy_op_z: array<vec4<f32>, BATCH>;
var<workgroup> s_conic: array<vec4<f32>, BATCH>;
var<workgroup> s_rgb: array<vec4<f32>, BATCH>;
var<workgroup> s_normal: array<vec4<f32>, BATCH>;
var<workgroup> s_ids: array<u32, BATCH>;
var<workgroup> s_acc: array<atomic<u32>, BATCH * GRAD_STRIDE>;
#if !SUBGROUPS
var<workgroup> s_red: array<vec4<f32>, 1024>; // 2 splats x 128 invocations x 4 vec4
#endif
var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_max_end_plain: u32;

fn add_local(slot: u32, value: f32) {
  if (value == 0.0) { return; }
  var old = atomicLoad(&s_acc[slot]);
  loop {
    let r = atomicCompareExchangeWeak(&s_acc[slot], old, bitcast<u32>(bitcast<f32>(old) + value));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

fn add_local4(base: u32, v: vec4<f32>) {
  add_local(base, v.x);
  add_local(base + 1u, v.y);
  add_local(base + 2u, v.z);
  add_local(base + 3u, v.w);
}

const THREADS: u32 = 128u;

// Per-pixel replay state: cotangents, final transmittance, end index, running T and suffix.
struct PixelReplay {
  inside: bool,
  pixel: vec2<f32>,
  T_final: f32,
  end_index: u32,
  g_feat: array<f32, 7>, // rgb, depth, normal
  g_alpha_bg: f32,
  T: f32,
  suffix: array<f32, 7>,
}

fn load_replay(view: u32, px: u32, py: u32, start: u32) -> PixelReplay {
  var r: PixelReplay;
  r.inside = px < frame.width && py < frame.height;
  r.pixel = vec2<f32>(f32(px) + 0.5, f32(py) + 0.5);
  r.end_index = start;
  if (!r.inside) { return r; }
  let npix = frame.num_views * frame.width * frame.height;
  let pix = (view * frame.height + py) * frame.width + px;
  let st = pixel_state[pix];
  r.T_final = bitcast<f32>(st.x);
  r.T = r.T_final;
  r.end_index = st.y;
  for (var c = 0u; c < 3u; c++) {
    r.g_feat[c] = cotangents[pix * 3u + c];
    r.g_feat[4u + c] = cotangents[npix * 5u + pix * 3u + c];
  }
  r.g_feat[3] = cotangents[npix * 4u + pix];
  let bg = frame.background.xyz;
  r.g_alpha_bg = cotangents[npix * 3u + pix] - (bg.x * r.g_feat[0] + bg.y * r.g_feat[1] + bg.z * r.g_feat[2]);
  return r;
}

// Gradients of batch splat j at one pixel (zero when it did not contribute), as
// [d mean2d.xy, d opacity, d z], [d conic, 0], [d rgb, |d mean2d.x|], [d normal, |d mean2d.y|];
// steps the pixel's T and suffix back over the splat.
fn splat_pixel_grads(r: ptr<function, PixelReplay>, j: u32, k: u32) -> array<vec4<f32>, 4> {
  var g: array<vec4<f32>, 4>;
  if (!(*r).inside || k >= (*r).end_index) { return g; }
  let xy_op_z = s_xy_op_z[j];
  let conic4 = s_conic[j];
  let conic = conic4.xyz;
  let d = xy_op_z.xy - (*r).pixel;
  let sigma = 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
  // Far pixels (alpha surely below 1/255) skip the exp; the exact test follows.
  if (sigma > conic4.w) { return g; }
  let G = exp(-sigma);
  let raw_alpha = xy_op_z.z * G;
  let alpha = min(ALPHA_MAX, raw_alpha);
  if (sigma < 0.0 || alpha < ALPHA_MIN) { return g; }
  let one_minus = 1.0 - alpha;
  let T_i = (*r).T / one_minus;
  let w = alpha * T_i;
  let rgb = s_rgb[j].xyz;
  let nrm = s_normal[j].xyz;
  let feat = array<f32, 7>(rgb.x, rgb.y, rgb.z, xy_op_z.w, nrm.x, nrm.y, nrm.z);
  var v_alpha = (*r).T_final / one_minus * (*r).g_alpha_bg;
  for (var c = 0u; c < 7u; c++) {
    v_alpha += (*r).g_feat[c] * (T_i * feat[c] - (*r).suffix[c] / one_minus);
    (*r).suffix[c] += feat[c] * w;
  }
  let gf = (*r).g_feat;
  g[2] = vec4<f32>(gf[0] * w, gf[1] * w, gf[2] * w, 0.0);
  g[3] = vec4<f32>(gf[4] * w, gf[5] * w, gf[6] * w, 0.0);
  g[0].w = gf[3] * w;
  if (raw_alpha <= ALPHA_MAX) {
    let v_sigma = -xy_op_z.z * G * v_alpha;
    let v_mean = v_sigma * vec2<f32>(conic.x * d.x + conic.y * d.y, conic.y * d.x + conic.z * d.y);
    g[0] = vec4<f32>(v_mean, G * v_alpha, g[0].w);
    g[1] = vec4<f32>(0.5 * v_sigma * d.x * d.x, v_sigma * d.x * d.y, 0.5 * v_sigma * d.y * d.y, 0.0);
    g[2].w = abs(v_mean.x);
    g[3].w = abs(v_mean.y);
  }
  (*r).T = T_i;
  return g;
}

@compute @workgroup_size(128)
fn rasterize_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32
#if SUBGROUPS
                 , @builtin(subgroup_invocation_id) sg_lane: u32
#endif
                 ) {
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
      s_xy_op_z[lid] = bitcast<vec4<f32>>(projected[base]);
      // w: the sigma beyond which alpha < 1/255, so most far pixels skip the exp.
      let conic_comp = bitcast<vec4<f32>>(projected[base + 1u]);
      let op = bitcast<f32>(projected[base].z);
      s_conic[lid] = vec4<f32>(conic_comp.xyz, log(255.0 * op) + SKIP_MARGIN);
      s_rgb[lid] = bitcast<vec4<f32>>(projected[base + 2u]);
      s_normal[lid] = bitcast<vec4<f32>>(projected[base + 3u]);
    }
    workgroupBarrier();
    // Two splats per round, back to front: batch slots jj - 1 and jj - 2.
    for (var jj = count; jj > 0u; jj = select(0u, jj - 2u, jj >= 2u)) {
      var sums: array<array<vec4<f32>, 4>, 2>;
      for (var s = 0u; s < 2u; s++) {
        if (s < jj) {
          let j = jj - 1u - s;
          let k = batch_start + j;
          let a = splat_pixel_grads(&rep0, j, k);
          let b = splat_pixel_grads(&rep1, j, k);
          for (var q = 0u; q < 4u; q++) { sums[s][q] = a[q] + b[q]; }
        }
      }
#if SUBGROUPS
      for (var s = 0u; s < 2u; s++) {
        let g = sums[s];
        if (subgroupAny(any(g[0] != vec4<f32>(0.0)) || any(g[1] != vec4<f32>(0.0)) || any(g[2] != vec4<f32>(0.0)) || any(g[3] != vec4<f32>(0.0)))) {
          let r0 = subgroupAdd(g[0]);
          let r1 = subgroupAdd(g[1]);
          let r2 = subgroupAdd(g[2]);
          let r3 = subgroupAdd(g[3]);
          if (sg_lane == 0u && s < jj) {
            let slot = (jj - 1u - s) * GRAD_STRIDE;
            add_local4(slot, r0);
            add_local4(slot + 4u, r1);
            add_local4(slot + 8u, r2);
            add_local4(slot + 12u, r3);
          }
        }
      }
#else
      // Without subgroups: every invocation stores its sums, then eight invocations (two
      // splats x four vec4) add up the 128 entries. Plain stores and two barriers per two
      // splats cost far less than per-pixel compare-and-swap loops (10x on lavapipe).
      for (var s = 0u; s < 2u; s++) {
        for (var q = 0u; q < 4u; q++) { s_red[(s * THREADS + lid) * 4u + q] = sums[s][q]; }
      }
      workgroupBarrier();
      if (lid < 8u) {
        let s = lid / 4u;
        let q = lid % 4u;
        var total = vec4<f32>(0.0);
        for (var t = 0u; t < THREADS; t++) { total += s_red[(s * THREADS + t) * 4u + q]; }
        if (s < jj) { add_local4((jj - 1u - s) * GRAD_STRIDE + q * 4u, total); }
      }
      workgroupBarrier();
#endif
    }
    workgroupBarrier();
    for (var e = lid; e < count * GRAD_STRIDE; e += THREADS) {
      let value = bitcast<f32>(atomicLoad(&s_acc[e]));
      if (value != 0.0) {
        atomic_add_f32(&grad2d[s_ids[e / GRAD_STRIDE] * GRAD_STRIDE + e % GRAD_STRIDE], value);
        atomicStore(&s_acc[e], 0u);
      }
    }
    batch_end = batch_start;
  }
}
