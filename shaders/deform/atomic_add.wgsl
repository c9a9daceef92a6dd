// Float add on an atomic<u32> holding the float's bits, by compare-and-swap. A local copy
// because shaders/lib/atomic_float.wgsl names its parameter `target`, a reserved word that
// Dawn rejects; switch back to the lib function once that is fixed.
fn deform_atomic_add(dst: ptr<storage, atomic<u32>, read_write>, value: f32) {
  if (value == 0.0) { return; }
  var old = atomicLoad(dst);
  loop {
    let next = bitcast<u32>(bitcast<f32>(old) + value);
    let r = atomicCompareExchangeWeak(dst, old, next);
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
