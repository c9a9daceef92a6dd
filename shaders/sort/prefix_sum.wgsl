// Exclusive prefix sum of u32, one level: each workgroup scans a block of 1024 values
// (256 invocations x 4 consecutive values), writes the block-local exclusive scan and the
// block's total. The host scans the totals recursively and adds them back with
// `add_block_offsets`. Values at index >= n_input read as zero, so scanning n_input + 1
// values puts the grand total in the last slot.
#if SUBGROUPS
enable subgroups;
#endif
#include "lib/dispatch.wgsl"

const WG: u32 = 256u;
const PER_THREAD: u32 = 4u;
const BLOCK: u32 = 1024u;

struct Params {
  n: u32,        // values to write
  n_input: u32,  // values to read (the rest are zero)
  num_blocks: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
@group(0) @binding(3) var<storage, read_write> block_sums: array<u32>;

var<workgroup> partials: array<u32, WG>;

#if SUBGROUPS
// Subgroups are consecutive runs of local indices (checked by the host with
// subgroup_layout.wgsl); scan inside each, then over the subgroup totals.
fn workgroup_scan(lid: u32, v: u32, lane: u32, size: u32) -> vec2<u32> {
  let inner = subgroupExclusiveAdd(v);
  let sg = lid / size;
  if (lane == size - 1u) { partials[sg] = inner + v; }
  workgroupBarrier();
  var before = 0u;
  var total = 0u;
  for (var s = 0u; s < WG / size; s++) {
    let t = partials[s];
    if (s < sg) { before += t; }
    total += t;
  }
  workgroupBarrier();
  return vec2<u32>(before + inner, total);
}
#else
// Hillis-Steele scan in workgroup memory.
fn workgroup_scan(lid: u32, v: u32) -> vec2<u32> {
  partials[lid] = v;
  for (var off = 1u; off < WG; off <<= 1u) {
    workgroupBarrier();
    var t = partials[lid];
    if (lid >= off) { t += partials[lid - off]; }
    workgroupBarrier();
    partials[lid] = t;
  }
  workgroupBarrier();
  let r = vec2<u32>(partials[lid] - v, partials[WG - 1u]);
  workgroupBarrier();
  return r;
}
#endif

@compute @workgroup_size(256)
fn scan_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SUBGROUPS
               @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32,
#endif
               @builtin(local_invocation_index) lid: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= params.num_blocks) { return; }
  let base = block * BLOCK + lid * PER_THREAD;
  var vals: array<u32, PER_THREAD>;
  var sum = 0u;
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = base + j;
    var x = 0u;
    if (i < params.n_input) { x = input[i]; }
    vals[j] = x;
    sum += x;
  }
#if SUBGROUPS
  let scan = workgroup_scan(lid, sum, lane, size);
#else
  let scan = workgroup_scan(lid, sum);
#endif
  var run = scan.x;
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = base + j;
    if (i < params.n) { output[i] = run; }
    run += vals[j];
  }
  if (lid == 0u) { block_sums[block] = scan.y; }
}

#if SUBGROUPS
// scan_blocks for SIMD-on-CPU adapters (lavapipe): the same block of 1024 values, scanned
// by one workgroup of 8 invocations that is one subgroup, 128 consecutive values per lane,
// with no barrier (a barrier makes the kernel a coroutine of 32 fibres there; see
// radix_sort_lanes.wgsl). The host checks that subgroups are at least 8 wide.
const LANE_RUN: u32 = 128u; // BLOCK / 8

@compute @workgroup_size(8)
fn scan_blocks_lanes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(subgroup_invocation_id) lane: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= params.num_blocks) { return; }
  let base = block * BLOCK + lane * LANE_RUN;
  var sum = 0u;
  for (var j = 0u; j < LANE_RUN; j++) {
    let i = base + j;
    if (i < params.n_input) { sum += input[i]; }
  }
  var run = subgroupExclusiveAdd(sum);
  let total = subgroupAdd(sum);
  for (var j = 0u; j < LANE_RUN; j++) {
    let i = base + j;
    if (i >= params.n) { break; }
    var x = 0u;
    if (i < params.n_input) { x = input[i]; }
    output[i] = run;
    run += x;
  }
  if (lane == 0u) { block_sums[block] = total; }
}
#endif

// output[i] += scanned_sums[block of i], for i < n.
@group(0) @binding(0) var<uniform> add_params: Params;
@group(0) @binding(1) var<storage, read_write> scanned: array<u32>;
@group(0) @binding(2) var<storage, read> scanned_sums: array<u32>;

@compute @workgroup_size(256)
fn add_block_offsets(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let block = linear_workgroup(wid, nwg);
  if (block >= add_params.num_blocks) { return; }
  let offset = scanned_sums[block];
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = block * BLOCK + j * WG + lid;
    if (i < add_params.n) { scanned[i] += offset; }
  }
}
