// Probe for the subgroup scans in this folder: they assume that a 256-invocation workgroup
// is cut into equal subgroups of consecutive local indices (subgroup = lid / size, lane =
// lid % size). WGSL does not promise that, so the host runs this once and uses the
// subgroup variants only where it holds.
enable subgroups;

@group(0) @binding(0) var<storage, read_write> layout_out: array<u32>;

@compute @workgroup_size(256)
fn subgroup_layout(@builtin(local_invocation_index) lid: u32,
                   @builtin(subgroup_invocation_id) lane: u32,
                   @builtin(subgroup_size) size: u32) {
  layout_out[lid] = lane | (size << 16u);
}
