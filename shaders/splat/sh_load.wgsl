// Reading a splat's SH coefficients ([splat][coefficient][rgb] f32). Include after the
// bindings it reads: `frame`, `sh` and, with SH_SPLIT, `sh_hi` (the second range of an SH
// buffer bound in two).

// Coefficient k (rgb) of splat i.
fn sh_coeff(i: u32, k: u32) -> vec3<f32> {
#if SH_SPLIT
  if (i >= frame.sh_split) {
    let o = (i - frame.sh_split) * frame.sh_coeffs * 3u + k * 3u;
    return vec3<f32>(sh_hi[o], sh_hi[o + 1u], sh_hi[o + 2u]);
  }
#endif
  let o = i * frame.sh_coeffs * 3u + k * 3u;
  return vec3<f32>(sh[o], sh[o + 1u], sh[o + 2u]);
}

// The coefficients of splat i that its degree uses, loaded once for all views; constant
// indices only, so that they stay in registers on lavapipe.
fn load_sh(i: u32, degree: u32) -> array<vec3<f32>, 16> {
  var c: array<vec3<f32>, 16>;
  c[0] = sh_coeff(i, 0u);
  if (degree < 1u) { return c; }
  c[1] = sh_coeff(i, 1u); c[2] = sh_coeff(i, 2u); c[3] = sh_coeff(i, 3u);
  if (degree < 2u) { return c; }
  c[4] = sh_coeff(i, 4u); c[5] = sh_coeff(i, 5u); c[6] = sh_coeff(i, 6u); c[7] = sh_coeff(i, 7u);
  c[8] = sh_coeff(i, 8u);
  if (degree < 3u) { return c; }
  c[9] = sh_coeff(i, 9u); c[10] = sh_coeff(i, 10u); c[11] = sh_coeff(i, 11u); c[12] = sh_coeff(i, 12u);
  c[13] = sh_coeff(i, 13u); c[14] = sh_coeff(i, 14u); c[15] = sh_coeff(i, 15u);
  return c;
}
