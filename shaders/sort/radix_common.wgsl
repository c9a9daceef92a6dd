// What the radix sort kernels (radix_sort.wgsl, radix_sort_lanes.wgsl) share: a pass's
// parameters and input keys, and 16 digit counters of 16 bits packed in two vec4 (blocks
// hold at most 1024 pairs).

struct Params {
  count: u32,
  num_blocks: u32,
  shift: u32,
  mask: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> keys_in: array<u32>;

// Digit d lives in word d / 2, half d % 2; words 0-3 in lo, 4-7 in hi.
struct Packed {
  lo: vec4<u32>,
  hi: vec4<u32>,
}

fn packed_one(digit: u32) -> Packed {
  // Compare-and-select rather than a dynamic component index, which compilers for
  // SIMD-style targets (lavapipe among them) turn into slow per-lane code.
  let bit = vec4<u32>(1u << ((digit & 1u) * 16u));
  let word = vec4<u32>(digit >> 1u);
  let zero = vec4<u32>(0u);
  return Packed(select(zero, bit, word == vec4<u32>(0u, 1u, 2u, 3u)),
                select(zero, bit, word == vec4<u32>(4u, 5u, 6u, 7u)));
}

fn packed_add(a: Packed, b: Packed) -> Packed {
  return Packed(a.lo + b.lo, a.hi + b.hi);
}

fn packed_get(p: Packed, digit: u32) -> u32 {
  let word = vec4<u32>(digit >> 1u);
  let zero = vec4<u32>(0u);
  let picked = select(zero, p.lo, word == vec4<u32>(0u, 1u, 2u, 3u)) + select(zero, p.hi, word == vec4<u32>(4u, 5u, 6u, 7u));
  let w = picked.x + picked.y + picked.z + picked.w;
  return (w >> ((digit & 1u) * 16u)) & 0xffffu;
}
