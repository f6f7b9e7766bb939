import type { Rehearsal } from "compute-region-policies/model";
import { formatDuration } from "./summary";

/**
 * The rehearsal drawn as a timeline (SVG): one bar per resource that waits for something (an AWS
 * create, a Helm wait, a Kubernetes await), from its expected start to its expected end, the
 * critical path in its own colour; the resources that are one API call each are counted, not drawn.
 * Hand-written: a few rectangles and labels need no charting library.
 */
export function timelineSvg(rehearsal: Rehearsal, title: string): string {
    const critical = new Set(rehearsal.criticalPath.map((s) => `${s.type}::${s.name}`));
    const bars = rehearsal.schedule.filter((s) => s.seconds > 10 || critical.has(`${s.type}::${s.name}`)).sort((a, b) => a.startSeconds - b.startSeconds || b.seconds - a.seconds);
    const end = Math.max(rehearsal.expectedSeconds, 1);
    const label = 340;
    const width = 1100;
    const plot = width - label - 20;
    const row = 18;
    const top = 56;
    const height = top + bars.length * row + 40;
    const x = (seconds: number) => label + (seconds / end) * plot;
    const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
    const ticks: string[] = [];
    const step = [60, 300, 600, 900, 1800, 3600].find((s) => end / s <= 12) ?? 7200;
    for (let t = 0; t <= end; t += step) {
        ticks.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${height - 34}" stroke="#ddd"/><text x="${x(t)}" y="${height - 20}" font-size="11" text-anchor="middle">${formatDuration(t)}</text>`);
    }
    const rows = bars.map((s, i) => {
        const y = top + i * row;
        const on = critical.has(`${s.type}::${s.name}`);
        const w = Math.max(2, x(s.startSeconds + s.seconds) - x(s.startSeconds));
        return (
            `<text x="${label - 6}" y="${y + 12}" font-size="11" text-anchor="end">${esc(`${s.name} (${s.type.split(":").pop()})`)}</text>` +
            `<rect x="${x(s.startSeconds)}" y="${y + 2}" width="${w}" height="${row - 5}" fill="${on ? "#c0392b" : "#5d8aa8"}"><title>${esc(`${s.name}: starts ${formatDuration(s.startSeconds)}, takes ${formatDuration(s.seconds)} (${s.basis}); at most ${formatDuration(s.boundSeconds)} (${s.boundBasis})`)}</title></rect>`
        );
    });
    const calls = rehearsal.schedule.length - bars.length;
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
        `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
        `<text x="10" y="38" font-size="11">${rehearsal.resources} resources in ${rehearsal.waves} waves; expected ${formatDuration(rehearsal.expectedSeconds)}, at most ${formatDuration(rehearsal.boundSeconds)}; red: the critical path; ${calls} resources that are a single API call are not drawn</text>`,
        ...ticks,
        ...rows,
        `</svg>`,
    ].join("\n");
}
