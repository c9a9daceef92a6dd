/** Which views of a batch are neighbours or opposites, from the cameras' viewing directions. */
import type { Camera } from '../math/camera.ts';

/** Unit vector from the scene towards the camera (minus the camera's forward axis). */
export function towardsCamera(cam: Camera): [number, number, number] {
  const m = cam.viewmat;
  const l = Math.hypot(m[8], m[9], m[10]) || 1;
  return [-m[8] / l, -m[9] / l, -m[10] / l];
}

function angleDegrees(a: Camera, b: Camera): number {
  const p = towardsCamera(a);
  const q = towardsCamera(b);
  const c = Math.max(-1, Math.min(1, p[0] * q[0] + p[1] * q[1] + p[2] * q[2]));
  return (Math.acos(c) * 180) / Math.PI;
}

/** (i, j) for each view i and its `k` nearest other views by angle (ties by index). */
export function neighbourPairs(cameras: Camera[], k: number): [number, number][] {
  const pairs: [number, number][] = [];
  cameras.forEach((ci, i) => {
    const others = cameras.map((cj, j) => ({ j, a: angleDegrees(ci, cj) })).filter((o) => o.j !== i);
    others.sort((p, q) => p.a - q.a || p.j - q.j);
    for (const o of others.slice(0, k)) pairs.push([i, o.j]);
  });
  return pairs;
}

/** (i, j), i < j, for views at least `minAngle` degrees apart (each unordered pair once). */
export function oppositePairs(cameras: Camera[], minAngle: number): [number, number][] {
  const pairs: [number, number][] = [];
  cameras.forEach((ci, i) => cameras.forEach((cj, j) => {
    if (i < j && angleDegrees(ci, cj) >= minAngle) pairs.push([i, j]);
  }));
  return pairs;
}
