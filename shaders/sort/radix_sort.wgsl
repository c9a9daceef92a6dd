// One pass of a stable LSD radix sort of (key, value) u32 pairs on a 4-bit digit
// ((key >> shift) & mask). Blocks of 1024 pairs (256 invocations x 4 consecutive pairs):
//   sort_count:   per-block digit histogram, written digit-major: counts[digit * num_blocks + block]
//   (host):       exclusive prefix sum of counts -> offsets, so every (digit, block) run has
//                 its place after all smaller digits and, within the digit, after earlier blocks
//   sort_scatter: each pair goes to offsets[digit * num_blocks + block] + (pairs of the same
//                 digit before it in the block), which keeps equal keys in input order.
// The in-block rank comes from one workgroup scan of 16 packed 16-bit counters per invocation.
#if SUBGROUPS
enable subgroups;
#endif
#include "lib/dispatch.wgsl"
#include "sort/radix_common.wgsl"

const WG: u32 = 256u;
const PER_THREAD: u32 = 4u;
const BLOCK: u32 = 1024u;
const BINS: u32 = 16u;

// ------------------------------------------------------------------ count

@group(0) @binding(2) var<storage, read_write> counts: array<u32>;

var<workgroup> histogram: array<atomic<u32>, BINS>;

@compute @workgroup_size(256)
fn sort_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= params.num_blocks) { return; }
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = block * BLOCK + j * WG + lid;
    if (i < params.count) {
      atomicAdd(&histogram[(keys_in[i] >> params.shift) & params.mask], 1u);
    }
  }
  workgroupBarrier();
  if (lid < BINS) {
    counts[lid * params.num_blocks + block] = atomicLoad(&histogram[lid]);
  }
}

// ------------------------------------------------------------------ scatter

@group(0) @binding(2) var<storage, read> values_in: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> keys_out: array<u32>;
@group(0) @binding(5) var<storage, read_write> values_out: array<u32>;

// Scans the first `count` entries of `totals` in place (exclusive), by one invocation: a
// loop per invocation over the totals before its own costs O(WG^2) on SIMD-on-CPU adapters
// (lavapipe), where this pass is most of the sort's time.
fn scan_totals_serial(lid: u32, count: u32) {
  if (lid == 0u) {
    var acc = Packed(vec4<u32>(0u), vec4<u32>(0u));
    for (var k = 0u; k < count; k++) {
      let x = totals[k];
      totals[k] = acc;
      acc = packed_add(acc, x);
    }
  }
}

#if SUBGROUPS
// Subgroups are consecutive runs of local indices (checked by the host with
// subgroup_layout.wgsl): scan inside each, then add the scanned totals of the subgroups.
var<workgroup> totals: array<Packed, WG>;

fn workgroup_exclusive(lid: u32, v: Packed, lane: u32, size: u32) -> Packed {
  let inner = Packed(subgroupExclusiveAdd(v.lo), subgroupExclusiveAdd(v.hi));
  let sg = lid / size;
  if (lane == size - 1u) { totals[sg] = packed_add(inner, v); }
  workgroupBarrier();
  scan_totals_serial(lid, WG / size);
  workgroupBarrier();
  return packed_add(inner, totals[sg]);
}
#else
// Raking scan in workgroup memory: 16 invocations each scan a run of 16 partials serially,
// one scans the 16 run totals, then every invocation adds its run's.
const RUN: u32 = 16u;
var<workgroup> partials: array<Packed, WG>;
var<workgroup> totals: array<Packed, RUN>;

fn workgroup_exclusive(lid: u32, v: Packed) -> Packed {
  partials[lid] = v;
  workgroupBarrier();
  if (lid < WG / RUN) {
    var acc = Packed(vec4<u32>(0u), vec4<u32>(0u));
    for (var k = 0u; k < RUN; k++) {
      let x = partials[lid * RUN + k];
      partials[lid * RUN + k] = acc;
      acc = packed_add(acc, x);
    }
    totals[lid] = acc;
  }
  workgroupBarrier();
  scan_totals_serial(lid, RUN);
  workgroupBarrier();
  return packed_add(partials[lid], totals[lid / RUN]);
}
#endif

@compute @workgroup_size(256)
fn sort_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SUBGROUPS
                @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32,
#endif
                @builtin(local_invocation_index) lid: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= params.num_blocks) { return; }
  let base = block * BLOCK + lid * PER_THREAD;
  var keys: array<u32, PER_THREAD>;
  var digits: array<u32, PER_THREAD>;
  var mine = Packed(vec4<u32>(0u), vec4<u32>(0u));
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = base + j;
    digits[j] = BINS;  // out of range: counted nowhere, written nowhere
    if (i < params.count) {
      keys[j] = keys_in[i];
      digits[j] = (keys[j] >> params.shift) & params.mask;
      mine = packed_add(mine, packed_one(digits[j]));
    }
  }
#if SUBGROUPS
  var rank = workgroup_exclusive(lid, mine, lane, size);
#else
  var rank = workgroup_exclusive(lid, mine);
#endif
  for (var j = 0u; j < PER_THREAD; j++) {
    let d = digits[j];
    if (d < BINS) {
      let dst = offsets[d * params.num_blocks + block] + packed_get(rank, d);
      keys_out[dst] = keys[j];
      values_out[dst] = values_in[base + j];
      rank = packed_add(rank, packed_one(d));
    }
  }
}
