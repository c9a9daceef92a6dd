// gsplat's default densification strategy, in four passes over splats (see
// src/train/densify-default.ts for the host side and src/reference/train/densify.ts for the
// plain-TypeScript reference):
//   densify_classify   decide per splat: prune, keep, duplicate (clone) or split, and how many
//                      rows it leaves (0, 1 or 2)
//   (exclusive prefix sum of the row counts, src/gpu/prefix-sum.ts)
//   densify_map        row j of the new cloud <- (source splat, copy number) packed in a u32
//   densify_gather     copies one parameter or Adam-moment buffer into the new layout
//   densify_split_means  moves split samples to means + R (s * randn)
#include "lib/dispatch.wgsl"
#include "lib/quaternion.wgsl"
#include "train/hash_random.wgsl"

const ACTION_PRUNE: u32 = 0u;
const ACTION_KEEP: u32 = 1u;
const ACTION_DUPLICATE: u32 = 2u;
const ACTION_SPLIT: u32 = 3u;
const COPY_BIT: u32 = 0x80000000u;
// log(1.6): split samples get scale / 1.6 as gsplat does.
const LOG_SPLIT_FACTOR: f32 = 0.47000362924573558;

struct ClassifyParams {
  count: u32,
  check_too_big: u32,
  grow_grad2d: f32,
  grow_scale3d: f32,
  prune_opacity: f32,
  prune_scale3d: f32,
}

@group(0) @binding(0) var<uniform> cp: ClassifyParams;
@group(0) @binding(1) var<storage, read> grad_norm: array<f32>;
@group(0) @binding(2) var<storage, read> visible_count: array<f32>;
@group(0) @binding(3) var<storage, read> log_scales: array<f32>;
@group(0) @binding(4) var<storage, read> opacity_logits: array<f32>;
@group(0) @binding(5) var<storage, read_write> rows: array<u32>;
@group(0) @binding(6) var<storage, read_write> actions: array<u32>;

fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

@compute @workgroup_size(64)
fn densify_classify(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= cp.count) { return; }
  let seen = visible_count[i];
  let avg = select(0.0, grad_norm[i] / max(seen, 1.0), seen > 0.0);
  let max_log_scale = max(log_scales[3u * i], max(log_scales[3u * i + 1u], log_scales[3u * i + 2u]));
  let max_scale = exp(max_log_scale);
  let opacity = sigmoid(opacity_logits[i]);
  var action = ACTION_KEEP;
  var result_scale = max_scale;
  if (avg > cp.grow_grad2d) {
    if (max_scale <= cp.grow_scale3d) {
      action = ACTION_DUPLICATE;
    } else {
      action = ACTION_SPLIT;
      result_scale = exp(max_log_scale - LOG_SPLIT_FACTOR);
    }
  }
  // Pruning looks at the grown set: copies share the opacity, split samples have the new scale.
  var pruned = opacity < cp.prune_opacity;
  if (cp.check_too_big != 0u && result_scale > cp.prune_scale3d) { pruned = true; }
  if (pruned) { action = ACTION_PRUNE; }
  actions[i] = action;
  rows[i] = select(select(1u, 2u, action >= ACTION_DUPLICATE), 0u, action == ACTION_PRUNE);
}

struct MapParams { count: u32 }
@group(0) @binding(0) var<uniform> mp: MapParams;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read_write> row_source: array<u32>;

@compute @workgroup_size(64)
fn densify_map(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= mp.count) { return; }
  let start = offsets[i];
  let n = offsets[i + 1u] - start;
  for (var c = 0u; c < n; c++) {
    row_source[start + c] = i | select(0u, COPY_BIT, c == 1u);
  }
}

// mode 0: parameters copied as they are; 1: log-scales (split rows get -log 1.6);
// 2: Adam moments (zero for the new copy of a duplicate and for both split samples, as gsplat).
// Buffers over the binding limit (SH at 1M splats): one dispatch per binding range of dst
// (rows from row_base on), and src bound in two ranges split at element src_split (the same
// range twice when it fits one binding).
struct GatherParams { rows: u32, width: u32, mode: u32, row_base: u32, src_split: u32 }
@group(0) @binding(0) var<uniform> gp: GatherParams;
@group(0) @binding(1) var<storage, read> gather_source: array<u32>;
@group(0) @binding(2) var<storage, read> gather_actions: array<u32>;
@group(0) @binding(3) var<storage, read> src_lo: array<f32>;
@group(0) @binding(4) var<storage, read> src_hi: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

fn read_src(e: u32) -> f32 {
  if (e < gp.src_split) { return src_lo[e]; }
  return src_hi[e - gp.src_split];
}

@compute @workgroup_size(64)
fn densify_gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let e = linear_invocation(wid, nwg, lid, 64u);
  if (e >= gp.rows * gp.width) { return; }
  let j = gp.row_base + e / gp.width;
  let k = e % gp.width;
  let packed = gather_source[j];
  let i = packed & ~COPY_BIT;
  let second = (packed & COPY_BIT) != 0u;
  let action = gather_actions[i];
  var value = read_src(i * gp.width + k);
  if (gp.mode == 1u && action == ACTION_SPLIT) { value = value - LOG_SPLIT_FACTOR; }
  if (gp.mode == 2u && (action == ACTION_SPLIT || (action == ACTION_DUPLICATE && second))) { value = 0.0; }
  dst[e] = value;
}

struct SplitParams { rows: u32, seed: u32 }
@group(0) @binding(0) var<uniform> sp: SplitParams;
@group(0) @binding(1) var<storage, read> split_source: array<u32>;
@group(0) @binding(2) var<storage, read> split_actions: array<u32>;
@group(0) @binding(3) var<storage, read> old_means: array<f32>;
@group(0) @binding(4) var<storage, read> old_log_scales: array<f32>;
@group(0) @binding(5) var<storage, read> old_quats: array<f32>;
@group(0) @binding(6) var<storage, read_write> new_means: array<f32>;

@compute @workgroup_size(64)
fn densify_split_means(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let j = linear_invocation(wid, nwg, lid, 64u);
  if (j >= sp.rows) { return; }
  let packed = split_source[j];
  let i = packed & ~COPY_BIT;
  if (split_actions[i] != ACTION_SPLIT) { return; }
  let c = select(0u, 1u, (packed & COPY_BIT) != 0u);
  let s = exp(vec3<f32>(old_log_scales[3u * i], old_log_scales[3u * i + 1u], old_log_scales[3u * i + 2u]));
  let q = vec4<f32>(old_quats[4u * i], old_quats[4u * i + 1u], old_quats[4u * i + 2u], old_quats[4u * i + 3u]);
  let key = i * 2u + c;
  let r = vec3<f32>(hash_normal(sp.seed, key, 0u), hash_normal(sp.seed, key, 1u), hash_normal(sp.seed, key, 2u));
  let offset = raw_quat_to_rotmat(q) * (s * r);
  new_means[3u * j] = old_means[3u * i] + offset.x;
  new_means[3u * j + 1u] = old_means[3u * i + 1u] + offset.y;
  new_means[3u * j + 2u] = old_means[3u * i + 2u] + offset.z;
}

struct ResetParams { count: u32, ceiling: f32 }
@group(0) @binding(0) var<uniform> rp: ResetParams;
@group(0) @binding(1) var<storage, read_write> reset_logits: array<f32>;

// Opacity reset: sigma(o) <- min(sigma(o), 2 * prune_opacity), in logit space.
@compute @workgroup_size(64)
fn densify_reset_opacity(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= rp.count) { return; }
  reset_logits[i] = min(reset_logits[i], rp.ceiling);
}
