/// The console's one stylesheet, served at `/console.css` (the Content-Security-Policy allows no
/// inline style). The print rules make the receipt fit an 80 mm roll, or A4 with `paper=a4`.
public enum ConsoleStyle {
    /// The stylesheet text.
    public static let css = """
    :root { --ink: #1d2733; --muted: #5b6675; --line: #d5dbe3; --accent: #2f6db5; --bad: #a3261b; --good: #1f7a3f; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.45 system-ui, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif; color: var(--ink); background: #f6f8fa; }
    header.bar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
    .brand { font-weight: 700; }
    nav { display: flex; flex-wrap: wrap; gap: .25rem .8rem; }
    nav a, .lang a { color: var(--accent); text-decoration: none; }
    .lang { margin-left: auto; display: flex; gap: .6rem; }
    .lang a.current { font-weight: 700; color: var(--ink); }
    .who { color: var(--muted); }
    main { max-width: 1040px; margin: 0 auto; padding: 1rem; }
    h1 { font-size: 1.5rem; margin: .4rem 0 1rem; }
    h2 { font-size: 1.15rem; margin: 1.4rem 0 .6rem; }
    form.stack { display: grid; gap: .6rem; max-width: 28rem; }
    form.inline { display: inline-flex; flex-wrap: wrap; gap: .4rem; align-items: end; margin: .2rem 0; }
    label { display: grid; gap: .2rem; font-size: .9rem; color: var(--muted); }
    form.inline label { display: inline-grid; }
    input, select, button { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
    button, a.button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; text-decoration: none; padding: .45rem .8rem; border-radius: 6px; display: inline-block; }
    .notice { padding: .6rem .8rem; border-radius: 6px; }
    .notice.error { background: #fbeaea; color: var(--bad); border: 1px solid #efc4c0; }
    .notice.ok { background: #e8f5ec; color: var(--good); border: 1px solid #bfe3cb; }
    .hint { color: var(--muted); font-size: .9rem; margin: 0; }
    table { border-collapse: collapse; width: 100%; background: #fff; }
    th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.reversed td { color: var(--muted); text-decoration: line-through; }
    tr.warn td { background: #fff6e5; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .6rem 0; }
    dt { color: var(--muted); } dd { margin: 0; }
    dl.account { background: #fff; padding: .6rem .8rem; border: 1px solid var(--line); border-radius: 6px; max-width: 28rem; }
    .slip { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; max-width: 26rem; }
    .slip h2 { margin-top: 0; }
    .token strong { font: 700 1.3rem/1.3 ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing: .03em; }
    .tid { color: var(--muted); }
    .warning { color: var(--bad); }
    code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
    figure.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .6rem; }
    figcaption { font-weight: 600; }
    progress { width: 16rem; height: 1rem; }
    .statement-line { margin: 1rem 0; }
    @media (max-width: 600px) { .lang { margin-left: 0; } dl { grid-template-columns: 1fr; } th:nth-child(n+5), td:nth-child(n+5) { display: none; } }
    @media print {
      header.bar, .noprint, form, nav { display: none !important; }
      body { background: #fff; font-size: 11pt; }
      main { padding: 0; max-width: none; }
      body.receipt-page h1 { display: none; }
      body.receipt-page .slip { width: 72mm; max-width: 72mm; border: 0; padding: 0; font-size: 9pt; }
      body.receipt-page.a4 .slip { width: auto; max-width: 120mm; font-size: 11pt; }
      @page { margin: 4mm; }
      body.a4 { } body.statement .slip { max-width: none; border: 0; }
    }
    """
}
