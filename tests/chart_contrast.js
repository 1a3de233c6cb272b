/* For tests/test_site_browser.py: every text of every drawn chart whose contrast with what is
 * behind it (the mark under its centre, else the chart or page background) is below WCAG AA
 * (4.5:1; 3:1 for large text). Returns [{chart, text, fill, bg, ratio}]. */
() => {
  const rgb = (c) => { const m = (c || "").match(/[\d.]+/g); return m ? m.map(Number) : null; };
  const opaque = (c) => { const v = rgb(c); return v && (v.length < 4 || v[3] > 0.5) ? v : null; };
  const lum = (c) => c.slice(0, 3).map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  let page = document.body;
  let pageBg = null;
  while (page && !(pageBg = opaque(getComputedStyle(page).backgroundColor))) {
    page = page.parentElement;
  }
  pageBg = pageBg || [255, 255, 255];
  const out = [];
  document.querySelectorAll(".c2c-chart svg").forEach((svg, k) => {
    if (svg.closest("[hidden]")) return;
    const chartBg = opaque(getComputedStyle(svg).backgroundColor) || pageBg;
    const marks = [...svg.querySelectorAll(".role-mark path, .role-mark rect")]
      .filter((e) => opaque(getComputedStyle(e).fill));
    svg.querySelectorAll("text").forEach((t) => {
      if (!t.textContent.trim() || getComputedStyle(t).fillOpacity === "0") return;
      const b = t.getBoundingClientRect();
      if (b.width === 0) return;
      const x = b.x + b.width / 2, y = b.y + b.height / 2;
      const under = marks.filter((e) => { const r = e.getBoundingClientRect();
        return r.width > b.width * 0.5 && r.height > b.height * 0.8 &&
          x >= r.left && x <= r.right && y >= r.top && y <= r.bottom; }).pop();
      const bg = under ? opaque(getComputedStyle(under).fill) : chartBg;
      const fill = opaque(getComputedStyle(t).fill);
      if (!fill) return;
      const r = ratio(fill, bg);
      const large = parseFloat(getComputedStyle(t).fontSize) >= 18.6 ||
        (parseFloat(getComputedStyle(t).fontSize) >= 14 && getComputedStyle(t).fontWeight >= 700);
      if (r < (large ? 3 : 4.5)) out.push({chart: k, text: t.textContent.slice(0, 40),
        fill: fill.join(","), bg: bg.join(","), ratio: Math.round(r * 100) / 100});
    });
  });
  return out;
}
