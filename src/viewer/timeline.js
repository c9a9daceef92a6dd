/**
 * The time slider, play/pause button and mode switch of 4D results. It knows nothing of
 * splats: it shows a result's `timeRange` and `timeModes`, and asks the page to show a time
 * through `onTime(time, mode)` (which may be slow: exact field times come from the server).
 * Playback follows the wall clock, one pass over the range per `duration` seconds, and asks
 * for the next time only once the previous one is shown, so a slow mode skips, never queues.
 */

/**
 * @typedef {object} TimelineElements
 * @property {HTMLElement} container hidden unless a 4D result is shown
 * @property {HTMLInputElement} slider an <input type="range">
 * @property {HTMLButtonElement} play
 * @property {HTMLElement} label
 * @property {HTMLSelectElement} mode
 */

const MODE_NAMES = /** @type {Record<string, string>} */ ({ frames: 'baked frames', field: 'exact field' });

/**
 * @param {TimelineElements} el
 * @param {(time: number, mode: string) => Promise<void> | void} onTime
 */
export function createTimeline(el, onTime) {
  let range = /** @type {[number, number]} */ ([0, 1]);
  let duration = 1;
  let playing = false;
  let busy = false;
  let startedAt = 0;
  let startTime = 0;
  let raf = 0;

  /** @param {number} time */
  const show = (time) => {
    busy = true;
    return Promise.resolve(onTime(time, el.mode.value))
      .catch((e) => console.error(e))
      .finally(() => (busy = false));
  };

  function tick() {
    if (!playing) return;
    if (!busy) {
      const span = range[1] - range[0];
      const elapsed = (performance.now() - startedAt) / 1000;
      const fraction = ((elapsed / duration + (startTime - range[0]) / (span || 1)) % 1 + 1) % 1;
      show(range[0] + fraction * span);
    }
    raf = requestAnimationFrame(tick);
  }

  function play() {
    if (playing) return;
    playing = true;
    startedAt = performance.now();
    startTime = Number(el.slider.value);
    el.play.textContent = '❚❚';
    el.play.title = 'pause';
    raf = requestAnimationFrame(tick);
  }

  function pause() {
    playing = false;
    cancelAnimationFrame(raf);
    el.play.textContent = '▶';
    el.play.title = 'play';
  }

  el.slider.addEventListener('input', () => {
    pause();
    show(Number(el.slider.value));
  });
  el.mode.addEventListener('change', () => show(Number(el.slider.value)));
  el.play.addEventListener('click', () => (playing ? pause() : play()));

  return {
    play,
    pause,
    get playing() {
      return playing;
    },
    /**
     * Shows the controls for a 4D result.
     * @param {{ timeRange: [number, number], timeModes?: string[], duration?: number }} result
     */
    attach(result) {
      pause();
      range = result.timeRange;
      duration = result.duration && result.duration > 0 ? result.duration : 1;
      el.slider.min = String(range[0]);
      el.slider.max = String(range[1]);
      el.slider.step = String((range[1] - range[0]) / 1000 || 1);
      const modes = result.timeModes ?? ['frames'];
      el.mode.replaceChildren(...modes.map((m) => new Option(MODE_NAMES[m] ?? m, m)));
      el.mode.disabled = modes.length < 2;
      el.container.hidden = false;
    },
    /** Hides the controls (static results). */
    detach() {
      pause();
      el.container.hidden = true;
    },
    /**
     * Reflects a time shown by other means (the page's API) without asking for it again.
     * @param {number} time
     * @param {string} mode
     */
    sync(time, mode) {
      el.slider.value = String(time);
      if ([...el.mode.options].some((o) => o.value === mode)) el.mode.value = mode;
      el.label.textContent = `t = ${time.toFixed(3)}`;
    },
    get mode() {
      return el.mode.value;
    },
  };
}
