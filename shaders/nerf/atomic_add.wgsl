// Float add on an atomic<u32> holding the float's bits (compare-and-swap loop). A local copy
// because shaders/lib/atomic_float.wgsl names its parameter `target`, a reserved word that
// Dawn rejects; switch back to lib/atomic_float.wgsl once that is fixed.
fn nerf_atomic_add(dst: ptr<storage, atomic<u32>, read_write>, value: f32) {
  if (value == 0.0) { return; }
  var old = atomicLoad(dst);
  loop {
    let r = atomicCompareExchangeWeak(dst, old, bitcast<u32>(bitcast<f32>(old) + value));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
