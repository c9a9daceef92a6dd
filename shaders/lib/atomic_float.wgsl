// WGSL has no float atomics: add to an f32 stored as bits in an atomic<u32> with a
// compare-and-swap loop. Callers reduce first (subgroup or workgroup) so that few
// invocations contend for one address. Declare the target as array<atomic<u32>>.
fn atomic_add_f32(dst: ptr<storage, atomic<u32>, read_write>, value: f32) {
  if (value == 0.0) { return; }
  var old = atomicLoad(dst);
  loop {
    let next = bitcast<u32>(bitcast<f32>(old) + value);
    let r = atomicCompareExchangeWeak(dst, old, next);
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
