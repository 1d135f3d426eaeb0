// The pages' one stylesheet, served as /ui/ui.css. A TypeScript string rather than a .css file
// so that it travels into dist/ with the compiled JavaScript and needs no copy step.
// Readable at phone width (the storefront and the kiosk) and at desk width; focus always visible.

export const PAGE_CSS = `
:root { --fg: #1b1f24; --muted: #59636e; --bg: #f6f7f9; --card: #fff; --line: #d5d9de;
  --accent: #0a58ca; --ok: #146c2e; --low: #8a5300; --out: #b42318; --flash: #fff3bf;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.4; }
header { display: flex; align-items: center; justify-content: space-between; gap: 1rem;
  padding: .6rem 1rem; background: #14213d; color: #fff; }
header h1 { font-size: 1.15rem; margin: 0; }
.connection { font-size: .85rem; padding: .15rem .6rem; border-radius: 1rem; background: #4b5563; }
.connection[data-state="live"] { background: var(--ok); }
.connection[data-state="reconnecting"] { background: var(--out); }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
section, .card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .8rem; margin-bottom: 1rem; }
button, select, input, textarea { font: inherit; }
button { padding: .45rem .9rem; border-radius: .35rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; min-height: 2.5rem; }
button.secondary { background: #fff; color: var(--accent); }
button:disabled { opacity: .55; cursor: default; }
input, select { padding: .4rem .5rem; border: 1px solid #8a939d; border-radius: .35rem; min-height: 2.5rem; }
:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
label { display: inline-flex; flex-direction: column; gap: .2rem; font-size: .9rem; margin-right: .6rem; }
.muted { color: var(--muted); font-size: .9rem; }
.notice { border-color: var(--out); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .4rem; border-bottom: 1px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.available { font-weight: 700; font-size: 1.1rem; padding: .05rem .35rem; border-radius: .25rem; }
.changed { animation: flash 1.2s ease-out; }
@keyframes flash { from { background: var(--flash); } to { background: transparent; } }
.state { font-size: .8rem; padding: .05rem .45rem; border-radius: 1rem; margin-left: .4rem; white-space: nowrap; }
.distance { display: block; font-weight: 400; font-size: .8rem; color: var(--muted); }
.state.ok { color: var(--ok); border: 1px solid var(--ok); }
.state.low { color: var(--low); border: 1px solid var(--low); }
.state.out { color: #fff; background: var(--out); }
.chat-log { list-style: none; margin: 0 0 .5rem; padding: .5rem; min-height: 6rem; max-height: 18rem; overflow-y: auto;
  background: var(--bg); border-radius: .35rem; }
.chat-log li { margin: .25rem 0; padding: .35rem .6rem; border-radius: .6rem; max-width: 85%; background: #fff; border: 1px solid var(--line); }
.chat-log li.mine { margin-left: auto; background: #e7f0ff; border-color: #b6cff5; }
.chat-log li.system { max-width: none; background: none; border: none; color: var(--muted); font-size: .85rem; text-align: center; }
.chat-form { display: flex; gap: .5rem; }
.chat-form input { flex: 1; }
.chat-start { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; margin-bottom: .5rem; }
.chat-start label { flex: 1 1 12rem; margin: 0; }
.chat-log li.bot { background: #f3f0ff; border-color: #cfc4f5; }
.bot-source { display: block; color: var(--muted); font-size: .8rem; margin-top: .2rem; }
.bot-actions:not([hidden]) { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
.rating { border: 1px solid var(--line); border-radius: .4rem; margin: .5rem 0 0; display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.rating button { min-width: 2.75rem; }
.rating p { flex-basis: 100%; margin: .2rem 0 0; }
.bot-exchange ol { list-style: none; padding: 0; margin: .3rem 0 .6rem; max-height: 12rem; overflow-y: auto; }
.bot-exchange li { padding: .3rem .5rem; border-left: 3px solid var(--line); margin-bottom: .25rem; }
.bot-exchange li.bot { border-left-color: #7c5ce0; background: #f7f5ff; }
.scroll { overflow-x: auto; }
.grid > section, .grid > figure { margin: 0; }
.grid { display: grid; margin-bottom: 1rem; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); }
.offer { border: 2px solid var(--accent); }
.countdown { font-weight: 700; color: var(--out); }
.queues { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; list-style: none; margin: 0; }
.queues li { border: 1px solid var(--line); border-radius: .4rem; padding: .4rem .7rem; background: var(--card); }
.alerts { list-style: none; padding: 0; margin: 0; max-height: 20rem; overflow-y: auto; }
.alerts li { padding: .35rem .5rem; border-left: 4px solid var(--low); margin-bottom: .3rem; background: #fffaf0; }
.alerts li.service { border-left-color: var(--out); background: #fff5f5; }
.orders { list-style: none; padding: 0; margin: 0; }
.orders > li { border-left: 4px solid var(--line); padding: .4rem .6rem; margin-bottom: .5rem; background: var(--card); }
.orders > li[data-status="ready"] { border-left-color: var(--accent); }
.orders > li[data-status="cancelled"], .orders > li[data-status="expired"] { border-left-color: var(--out); }
.order-lines { margin: .25rem 0; padding-left: 1.2rem; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid var(--line); }
.chart svg { width: 100%; height: 7rem; background: var(--bg); border-radius: .35rem; }
.chart polyline { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
.page-kiosk main { max-width: none; }
.page-kiosk .recs { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); padding: 0; list-style: none; }
.page-kiosk .recs li { font-size: 1.6rem; font-weight: 600; min-height: 7rem; display: flex; align-items: center; justify-content: center;
  text-align: center; border-radius: 1rem; background: var(--card); border: 2px solid var(--line); padding: 1rem; }
.page-kiosk .greeting { font-size: 1.8rem; margin: .5rem 0 1rem; }
@media (max-width: 40rem) { main { padding: .5rem; } header h1 { font-size: 1rem; } .grid { grid-template-columns: 1fr; } }
`;
