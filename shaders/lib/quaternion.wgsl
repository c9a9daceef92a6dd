// Rotation matrix of a unit quaternion (w, x, y, z); WGSL matrices are column-major.
fn quat_to_rotmat(q: vec4<f32>) -> mat3x3<f32> {
  let w = q.x; let x = q.y; let y = q.z; let z = q.w;
  return mat3x3<f32>(
    vec3<f32>(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y)),
    vec3<f32>(2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x)),
    vec3<f32>(2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)),
  );
}

// The same for a raw, unnormalised quaternion as the parameters store it.
fn raw_quat_to_rotmat(q: vec4<f32>) -> mat3x3<f32> {
  return quat_to_rotmat(q / max(length(q), 1e-12));
}
