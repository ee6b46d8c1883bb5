//! The page's only style sheet, inlined: system fonts, cards that stack on
//! a phone, colour-coded tiers, chart colours, and a print layout.

/// The CSS of every page.
pub const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--bg:#f5f6f8;--card:#fff;--line:#e2e5ea;
--a:#1a7f37;--a-bg:#e6f4ea;--b:#9a6700;--b-bg:#fff4d6;--c:#c62828;--c-bg:#fde8e8;
--s0:#2563eb;--s1:#d9480f;--s2:#0f9d58;--s3:#8e44ad;--s4:#0891b2;--s5:#b7791f;--s6:#db2777;--s7:#475569}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
main{max-width:980px;margin:0 auto;padding:16px}
header h1{font-size:1.5rem;margin:.2rem 0}
header p{margin:.1rem 0;color:var(--muted);overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:0 0 .6rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:14px 0;break-inside:avoid}
.note,.caption{color:var(--muted);font-size:.88rem;margin:.3rem 0}
.overall{display:flex;align-items:center;gap:14px;flex-wrap:wrap;margin-bottom:10px}
.overall .tier{font-size:2.2rem;width:3.4rem;height:3.4rem;line-height:3.4rem;border-radius:12px;text-align:center;font-weight:700}
.tier{display:inline-block;min-width:1.8rem;padding:0 .4rem;border-radius:6px;font-weight:700;text-align:center}
.tier-A{background:var(--a-bg);color:var(--a);border:1px solid var(--a)}
.tier-B{background:var(--b-bg);color:var(--b);border:1px solid var(--b)}
.tier-C{background:var(--c-bg);color:var(--c);border:1px solid var(--c)}
.badges{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:10px}
.badge{border-radius:10px;padding:10px 12px;border:1px solid var(--line);border-left-width:6px}
.badge.tier-A{border-color:var(--a);background:var(--a-bg);color:var(--fg)}
.badge.tier-B{border-color:var(--b);background:var(--b-bg);color:var(--fg)}
.badge.tier-C{border-color:var(--c);background:var(--c-bg);color:var(--fg)}
.badge .name{font-size:.85rem;color:var(--muted)}
.badge .value{font-size:1.35rem;font-weight:650;font-variant-numeric:tabular-nums}
.badge .value small{font-size:.75rem;font-weight:400;color:var(--muted);margin-left:.3rem}
.badge .detail{font-size:.85rem}
.level{border-top:1px solid var(--line);padding-top:10px;margin-top:10px}
.level:first-of-type{border-top:0;margin-top:0;padding-top:0}
.figures{display:flex;gap:18px;flex-wrap:wrap;margin:.4rem 0}
.figure b{display:block;font-size:1.3rem;font-variant-numeric:tabular-nums}
.figure span{color:var(--muted);font-size:.85rem}
svg.chart{width:100%;height:auto;display:block;margin:.4rem 0}
svg.chart text{font:11px system-ui,sans-serif;fill:var(--fg)}
svg.chart .tick{fill:var(--muted)}
svg.chart .label{font-size:12px;font-weight:600}
svg.chart .ref{font-size:10.5px;fill:var(--fg);font-weight:600}
svg.chart .legend{font-size:11.5px}
svg.chart .grid{stroke:var(--line);stroke-width:1}
svg.chart .axis{stroke:var(--muted);stroke-width:1}
svg.chart .boundary{stroke:var(--fg);stroke-width:1.2;stroke-dasharray:5 3}
svg.chart .median{stroke:var(--muted);stroke-width:.8;stroke-dasharray:2 3}
svg.chart .tier-a{fill:var(--a);opacity:.09}
svg.chart .tier-b{fill:var(--b);opacity:.11}
svg.chart .tier-c{fill:var(--c);opacity:.09}
svg.chart polyline{fill:none;stroke-width:2;stroke-linejoin:round}
svg.chart polyline.thin{stroke-width:1.4}
svg.chart .fit,svg.chart .reading{fill:none;stroke-width:2;stroke-dasharray:7 4}
svg.chart .fit{stroke:var(--c)}
svg.chart .reading{stroke:var(--a)}
svg.chart rect.swatch.fit{fill:var(--c)}
svg.chart rect.swatch.reading{fill:var(--a)}
svg.chart .dot{stroke:none;opacity:.75}
.s0{stroke:var(--s0);fill:var(--s0)}.s1{stroke:var(--s1);fill:var(--s1)}.s2{stroke:var(--s2);fill:var(--s2)}.s3{stroke:var(--s3);fill:var(--s3)}
.s4{stroke:var(--s4);fill:var(--s4)}.s5{stroke:var(--s5);fill:var(--s5)}.s6{stroke:var(--s6);fill:var(--s6)}.s7{stroke:var(--s7);fill:var(--s7)}
polyline.s0,polyline.s1,polyline.s2,polyline.s3,polyline.s4,polyline.s5,polyline.s6,polyline.s7{fill:none}
.replay{font-size:15px;line-height:1.35;letter-spacing:1px;color:var(--s0);background:#f0f4ff;border-radius:8px;padding:10px;min-height:3.2em;word-break:break-all;overflow-wrap:anywhere}
.replay span{opacity:.18;animation:show .06s linear forwards}
@keyframes show{to{opacity:1}}
button{font:inherit;font-size:.85rem;padding:3px 10px;border-radius:6px;border:1px solid var(--line);background:var(--card);cursor:pointer}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child,td.text,th.text{text-align:left}
td.text{white-space:normal;overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600}
tr.worse td{background:var(--c-bg)}
tr.better td{background:var(--a-bg)}
.worse-text{color:var(--c);font-weight:600}.better-text{color:var(--a);font-weight:600}
dl{margin:0}dt{font-weight:600;margin-top:.5rem}dd{margin:0 0 0 1rem;color:var(--fg)}
code{font-size:.88em;background:var(--bg);padding:0 3px;border-radius:4px}
footer{color:var(--muted);font-size:.8rem;text-align:center;margin:18px 0}
@media (max-width:560px){main{padding:8px}svg.chart text{font-size:18px}svg.chart .label{font-size:19px}svg.chart .ref{font-size:17px}svg.chart .legend{font-size:18px}section{padding:10px;border-radius:8px}.overall .tier{font-size:1.8rem;width:2.8rem;height:2.8rem;line-height:2.8rem}header h1{font-size:1.25rem}}
@media (prefers-reduced-motion:reduce){.replay span{animation:none;opacity:1}}
@media print{body{background:#fff;font-size:12px}section{border:1px solid #ccc;box-shadow:none}.replay span{animation:none;opacity:1}button{display:none}main{max-width:none}}
"#;
