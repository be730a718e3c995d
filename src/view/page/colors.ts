/**
 * One colour per container, the same in every view: the host is grey, containers take the
 * palette in the order the summary lists them (the order of discovery in the trace).
 */
import type { ContainerSummary } from '../types.js';

/** Distinct on the page's dark background, in an order where neighbours differ. */
const PALETTE = [
  '#4f9cf9', // blue
  '#f5a524', // orange
  '#3dd68c', // green
  '#e5484d', // red
  '#b48cf2', // violet
  '#2ec5ce', // teal
  '#f76ac4', // pink
  '#e9d048', // yellow
  '#8fc93a', // lime
  '#ff8a5b', // coral
  '#7c8cf8', // indigo
  '#c69060', // brown
];
export const HOST_COLOR = '#8a94a6';

export class Colors {
  private readonly byKey = new Map<number, string>();
  private readonly rgbByKey = new Map<number, [number, number, number]>();

  constructor(containers: readonly ContainerSummary[]) {
    let i = 0;
    for (const c of containers) {
      let col: string;
      if (c.isHost) col = HOST_COLOR;
      else {
        const base = PALETTE[i % PALETTE.length]!;
        const round = Math.floor(i / PALETTE.length);
        col = round === 0 ? base : shade(base, round % 2 === 1 ? 0.35 : -0.3);
        i++;
      }
      this.byKey.set(c.key, col);
      this.rgbByKey.set(c.key, rgb(col));
    }
  }

  of(key: number): string {
    return this.byKey.get(key) ?? HOST_COLOR;
  }

  private readonly alphaCache = new Map<number, string>();

  /** `rgba(...)` of a container's colour (alpha in steps of 1/100, cached). */
  alpha(key: number, a: number): string {
    const q = Math.max(0, Math.min(100, Math.round(a * 100)));
    const ck = key * 101 + q;
    let v = this.alphaCache.get(ck);
    if (v === undefined) {
      const [r, g, b] = this.rgbByKey.get(key) ?? rgb(HOST_COLOR);
      v = `rgba(${r},${g},${b},${(q / 100).toFixed(2)})`;
      this.alphaCache.set(ck, v);
    }
    return v;
  }
}

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Lighter (f > 0) or darker (f < 0). */
function shade(hex: string, f: number): string {
  const c = rgb(hex).map((v) => Math.round(f > 0 ? v + (255 - v) * f : v * (1 + f)));
  return '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
}
