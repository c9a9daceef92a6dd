// One pass of the stable LSD radix sort (radix_sort.wgsl) laid out for SIMD-on-CPU adapters
// (lavapipe): a block of 256 pairs is one workgroup of 8 invocations that is one subgroup,
// each lane owning 32 consecutive pairs, so neither kernel needs a barrier or a workgroup
// atomic. On lavapipe a barrier makes a kernel a coroutine whose 32 fibres (256 invocations
// over 8-wide SIMD) switch at every barrier, and workgroup atomics run lane by lane; those
// were most of the sort's time. Same histogram layout and offsets as radix_sort.wgsl:
//   sort_count:   per-block digit histogram, counts[digit * num_blocks + block]
//   sort_scatter: each pair goes to offsets[digit * num_blocks + block] + (pairs of the same
//                 digit before it in the block), which keeps equal keys in input order.
// Needs subgroups of at least 8 invocations (the host checks).
enable subgroups;
#include "lib/dispatch.wgsl"
#include "sort/radix_common.wgsl"

const LANES: u32 = 8u;
const PER_LANE: u32 = 32u;
const BLOCK: u32 = 256u;

// The digit counts of this lane's pairs, in 16 packed 16-bit counters.
fn lane_counts(base: u32) -> Packed {
  var c = Packed(vec4<u32>(0u), vec4<u32>(0u));
  for (var j = 0u; j < PER_LANE; j++) {
    let i = base + j;
    if (i < params.count) { c = packed_add(c, packed_one((keys_in[i] >> params.shift) & params.mask)); }
  }
  return c;
}

// ------------------------------------------------------------------ count

@group(0) @binding(2) var<storage, read_write> counts: array<u32>;

@compute @workgroup_size(8)
fn sort_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(subgroup_invocation_id) lane: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= params.num_blocks) { return; }
  let c = lane_counts(block * BLOCK + lane * PER_LANE);
  let total = Packed(subgroupAdd(c.lo), subgroupAdd(c.hi));
  // Lane l writes digits 2l and 2l + 1.
  for (var d = lane * 2u; d < lane * 2u + 2u; d++) {
    counts[d * params.num_blocks + block] = packed_get(total, d);
  }
}

// ------------------------------------------------------------------ scatter

@group(0) @binding(2) var<storage, read> values_in: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> keys_out: array<u32>;
@group(0) @binding(5) var<storage, read_write> values_out: array<u32>;

@compute @workgroup_size(8)
fn sort_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(subgroup_invocation_id) lane: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= params.num_blocks) { return; }
  let base = block * BLOCK + lane * PER_LANE;
  let c = lane_counts(base);
  // Pairs of each digit in the lanes before this one.
  var rank = Packed(subgroupExclusiveAdd(c.lo), subgroupExclusiveAdd(c.hi));
  for (var j = 0u; j < PER_LANE; j++) {
    let i = base + j;
    if (i >= params.count) { break; }
    let key = keys_in[i];
    let d = (key >> params.shift) & params.mask;
    let dst = offsets[d * params.num_blocks + block] + packed_get(rank, d);
    keys_out[dst] = key;
    values_out[dst] = values_in[i];
    rank = packed_add(rank, packed_one(d));
  }
}
