#if SUBGROUPS
enable subgroups;
// The sums below run only where some lane of the subgroup contributes (subgroupAny), which
// is uniform within the subgroup though the analysis cannot prove it.
diagnostic(off, subgroup_uniformity);
#endif
// rasterize_bwd: one 16x16 workgroup per (view, tile). Each pixel walks its splats back to
// front from the end index rasterize_fwd kept, recovering T_i = T_{i+1} / (1 - alpha_i) and
// the suffix S of what lies behind (rasterizers.md §1.5), and forms 15 screen-space
// gradients per (pixel, splat). They are summed over the workgroup per splat (subgroupAdd,
// then one compare-and-swap add per subgroup into workgroup memory; without subgroups a
// plain workgroup-memory sum), and each batch is flushed with one CAS float add per
// (splat, component) into the global screen-space gradients.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

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
var<workgroup> s_red: array<vec4<f32>, 1024>; // 256 pixels x 4 vec4
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

// CAS float add into the global gradients (lib/atomic_float.wgsl does not compile: its
// parameter is named with the reserved word `target`).
fn add_global(slot: u32, value: f32) {
  var old = atomicLoad(&grad2d[slot]);
  loop {
    let r = atomicCompareExchangeWeak(&grad2d[slot], old, bitcast<u32>(bitcast<f32>(old) + value));
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

@compute @workgroup_size(16, 16)
fn rasterize_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32
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
  let px = tx * TILE + lid3.x;
  let py = ty * TILE + lid3.y;
  let inside = px < frame.width && py < frame.height;
  let pixel = vec2<f32>(f32(px) + 0.5, f32(py) + 0.5);
  let npix = frame.num_views * frame.width * frame.height;
  let pix = (view * frame.height + min(py, frame.height - 1u)) * frame.width + min(px, frame.width - 1u);

  if (lid == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);

  var T_final = 0.0;
  var end_index = range.x;
  var g_feat = array<f32, 7>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0); // rgb, depth, normal
  var g_alpha_bg = 0.0;
  if (inside) {
    let st = pixel_state[pix];
    T_final = bitcast<f32>(st.x);
    end_index = st.y;
    for (var c = 0u; c < 3u; c++) {
      g_feat[c] = cotangents[pix * 3u + c];
      g_feat[4u + c] = cotangents[npix * 5u + pix * 3u + c];
    }
    g_feat[3] = cotangents[npix * 4u + pix];
    let bg = frame.background.xyz;
    g_alpha_bg = cotangents[npix * 3u + pix] - (bg.x * g_feat[0] + bg.y * g_feat[1] + bg.z * g_feat[2]);
    atomicMax(&s_max_end, end_index);
  }
  workgroupBarrier();
  if (lid == 0u) { s_max_end_plain = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_max_end_plain), range.x);

  var T = T_final;
  var suffix = array<f32, 7>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
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
    for (var jj = count; jj > 0u; jj--) {
      let j = jj - 1u;
      let k = batch_start + j;
      var g0 = vec4<f32>(0.0); // d mean2d.xy, d opacity, d z
      var g1 = vec4<f32>(0.0); // d conic
      var g2 = vec4<f32>(0.0); // d rgb, |d mean2d.x|
      var g3 = vec4<f32>(0.0); // d normal, |d mean2d.y|
      if (inside && k < end_index) {
        let xy_op_z = s_xy_op_z[j];
        let conic4 = s_conic[j];
        let conic = conic4.xyz;
        let d = xy_op_z.xy - pixel;
        let sigma = 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
        // Far pixels (alpha surely below 1/255) skip the exp; the exact test follows.
        let G = select(0.0, exp(-sigma), sigma <= conic4.w);
        let raw_alpha = xy_op_z.z * G;
        let alpha = min(ALPHA_MAX, raw_alpha);
        if (!(sigma < 0.0 || alpha < ALPHA_MIN)) {
          let one_minus = 1.0 - alpha;
          let T_i = T / one_minus;
          let w = alpha * T_i;
          let rgb = s_rgb[j].xyz;
          let nrm = s_normal[j].xyz;
          let feat = array<f32, 7>(rgb.x, rgb.y, rgb.z, xy_op_z.w, nrm.x, nrm.y, nrm.z);
          var v_alpha = T_final / one_minus * g_alpha_bg;
          for (var c = 0u; c < 7u; c++) {
            v_alpha += g_feat[c] * (T_i * feat[c] - suffix[c] / one_minus);
            suffix[c] += feat[c] * w;
          }
          g2 = vec4<f32>(g_feat[0] * w, g_feat[1] * w, g_feat[2] * w, 0.0);
          g3 = vec4<f32>(g_feat[4] * w, g_feat[5] * w, g_feat[6] * w, 0.0);
          g0.w = g_feat[3] * w;
          if (raw_alpha <= ALPHA_MAX) {
            let v_sigma = -xy_op_z.z * G * v_alpha;
            let v_mean = v_sigma * vec2<f32>(conic.x * d.x + conic.y * d.y, conic.y * d.x + conic.z * d.y);
            g0 = vec4<f32>(v_mean, G * v_alpha, g0.w);
            g1 = vec4<f32>(0.5 * v_sigma * d.x * d.x, v_sigma * d.x * d.y, 0.5 * v_sigma * d.y * d.y, 0.0);
            g2.w = abs(v_mean.x);
            g3.w = abs(v_mean.y);
          }
          T = T_i;
        }
      }
      let slot = j * GRAD_STRIDE;
#if SUBGROUPS
      if (subgroupAny(any(g0 != vec4<f32>(0.0)) || any(g1 != vec4<f32>(0.0)) || any(g2 != vec4<f32>(0.0)) || any(g3 != vec4<f32>(0.0)))) {
        let r0 = subgroupAdd(g0);
        let r1 = subgroupAdd(g1);
        let r2 = subgroupAdd(g2);
        let r3 = subgroupAdd(g3);
        if (sg_lane == 0u) {
          add_local4(slot, r0);
          add_local4(slot + 4u, r1);
          add_local4(slot + 8u, r2);
          add_local4(slot + 12u, r3);
        }
      }
#else
      // Without subgroups: every pixel stores its gradients, then four invocations (one
      // per vec4) sum the 256 entries. Plain stores and two barriers cost far less than
      // 256 contended compare-and-swap loops (measured 10x on lavapipe).
      s_red[lid * 4u] = g0;
      s_red[lid * 4u + 1u] = g1;
      s_red[lid * 4u + 2u] = g2;
      s_red[lid * 4u + 3u] = g3;
      workgroupBarrier();
      if (lid < 4u) {
        var sum = vec4<f32>(0.0);
        for (var p = 0u; p < 256u; p++) { sum += s_red[p * 4u + lid]; }
        add_local4(slot + lid * 4u, sum);
      }
      workgroupBarrier();
#endif
    }
    workgroupBarrier();
    for (var e = lid; e < count * GRAD_STRIDE; e += 256u) {
      let value = bitcast<f32>(atomicLoad(&s_acc[e]));
      if (value != 0.0) {
        add_global(s_ids[e / GRAD_STRIDE] * GRAD_STRIDE + e % GRAD_STRIDE, value);
        atomicStore(&s_acc[e], 0u);
      }
    }
    batch_end = batch_start;
  }
}
