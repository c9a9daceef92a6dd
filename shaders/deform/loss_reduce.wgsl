// Sums one loss term per invocation over the workgroup (64) in workgroup memory, then adds
// the sum to a single float with one CAS add. Call from uniform control flow.
#include "lib/atomic_float.wgsl"

var<workgroup> loss_partial: array<f32, 64>;

fn reduce_loss(lid: u32, value: f32, dst: ptr<storage, atomic<u32>, read_write>) {
  loss_partial[lid] = value;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) { loss_partial[lid] += loss_partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { atomic_add_f32(dst, loss_partial[0]); }
}
