/**
 * The frame of every trace-view page: title, styles, the header naming the trace source. `refreshSeconds`
 * reloads the page while spans of what it shows may still be arriving (browsers send theirs seconds late).
 *
 *     renderLayout({ title: 'Traces', source, body: html`…` });
 */
import { type Html, html } from './html.ts';

export type LayoutOptions = { title: string; sourceDescription: string; body: Html; refreshSeconds?: number };

export function renderLayout({ title, sourceDescription, body, refreshSeconds }: LayoutOptions): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}" />` : ''}
<title>${title} · rumkit traces</title>
<style>${STYLES}</style>
</head>
<body>
<header><a href="/" class="brand">rumkit traces</a><span class="source">reading from ${sourceDescription}</span></header>
<main>${body}</main>
</body>
</html>`}`;
}

/** One hue per service, the same on every page. */
export function serviceHue(service: string | undefined): number {
  let hash = 0;
  for (const char of service ?? '') hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % 360;
}

const STYLES = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .6rem 1.2rem; background: #1d2330; color: #e8ebf0; }
header a.brand { color: #fff; font-weight: 600; text-decoration: none; }
header .source { color: #aab2c0; font-size: .9em; }
main { padding: 1rem 1.2rem 3rem; max-width: 1200px; }
h1 { font-size: 1.3rem; margin: .2rem 0 .4rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
code, .mono { font-family: ui-monospace, monospace; font-size: .92em; }
.muted { color: #667085; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e4e7ec; vertical-align: middle; }
th { font-weight: 600; color: #475467; background: #f0f2f5; }
.edges { display: flex; flex-wrap: wrap; gap: .6rem; list-style: none; padding: 0; }
.edge { background: #fff; border: 1px solid #d0d5dd; border-radius: 6px; padding: .4rem .7rem; }
.service { display: inline-block; border-radius: 4px; padding: 0 .35rem; color: #fff; font-size: .85em; white-space: nowrap; }
.waterfall td.name { white-space: nowrap; max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
.waterfall td.timeline { width: 45%; }
.waterfall tr.group th { background: #e9edf5; }
.waterfall tr.group.selected th { background: #dbe6ff; }
.waterfall tr.error td.name { color: #b42318; }
.bar { position: relative; height: 12px; background: #f0f2f5; border-radius: 2px; }
.bar span { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 2px; }
.duration { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.rating-good { color: #067647; } .rating-needs-improvement { color: #b54708; } .rating-poor { color: #b42318; }
`;
