// probe-heap report: draws the data inlined in #report-data.  d3 (inlined
// above) lays out the icicle; the tables and lists are plain DOM.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const num = (n) => n === null || n === undefined ? "" : n.toLocaleString("en-US");
  const signed = (n) => (n > 0 ? "+" : "") + num(n);
  const bytes = (n) => {
    const a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(2) + " GB";
    if (a >= 1e6) return (n / 1e6).toFixed(1) + " MB";
    if (a >= 1e3) return (n / 1e3).toFixed(1) + " kB";
    return n + " B";
  };
  const pct = (n, total) => total ? (100 * n / total).toFixed(n * 1000 < total ? 2 : 1) + "%" : "-";

  // ---- colours: one per kind, stable across reports -------------------------
  function hash(s) {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }
  function kindColour(k) {
    if (k === "(smaller)") return "#cfd8dc";
    if (k === "(roots)") return "#90a4ae";
    const h = hash(k);
    return `hsl(${h % 360}, ${45 + (h >> 9) % 25}%, ${62 + (h >> 17) % 14}%)`;
  }
  // With --against: the growth of each kind (diff's rows), and of each
  // retainer path whose node is a box (diff --by owner's): a box takes the
  // growth of the nearest such box at or above it, its owner.
  const growthOf = new Map();
  let maxGrowth = 0;
  const ownerOf = new Map();     // address -> [retainer path, its size change]
  let maxOwner = 0;
  const against = data.against, owners = against && against.owners;
  if (against) {
    for (const r of against.rows) {
      growthOf.set(r[0], r[4]);
      maxGrowth = Math.max(maxGrowth, Math.abs(r[4]));
    }
  }
  if (owners) {
    for (const a in owners.boxes) {
      ownerOf.set(a, owners.boxes[a]);
      maxOwner = Math.max(maxOwner, Math.abs(owners.boxes[a][1]));
    }
  }
  function growthColour(g, max) {
    if (!g || !max) return "#e0e0e0";
    return g > 0 ? d3.interpolateReds(0.15 + 0.55 * Math.sqrt(g / max))
      : d3.interpolateGreens(0.2 + 0.5 * Math.sqrt(-g / max));
  }
  let colourBy = owners ? "owner" : against ? "growth" : "kind";
  function colour(d) {
    const k = d.data.k;
    if (colourBy === "kind" || k === "(roots)") return kindColour(k);
    if (colourBy === "growth") return growthColour(growthOf.get(k) || 0, maxGrowth);
    return growthColour(d.owner ? d.owner[1] : 0, maxOwner);
  }

  // ---- summary ----------------------------------------------------------------
  const src = data.source || {};
  const what = src.core ? "core " + src.core : "process " + src.pid;
  $("subtitle").textContent = `${what}${src.taken ? ", " + src.taken : ""}: CPython ${data.python.version}, ` +
    `${num(data.objects)} objects, ${bytes(data.bytes)}`;
  const toc = $("toc");
  const facts = [
    ["Source", what + (src.taken ? " (taken " + src.taken + ")" : "")],
    ["Executable", data.executable || "?"],
    ["Python", `CPython ${data.python.version}, ${data.python.build} build (layout from ${data.python.layout})`],
    ["Objects", `${num(data.objects)} objects, ${num(data.bytes)} bytes (${bytes(data.bytes)})`],
    ["Reachable", `${num(data.tree.n)} objects, ${num(data.tree.r)} bytes kept alive by the roots`],
    ["Cyclic garbage", `${num(data.garbage[0])} objects, ${num(data.garbage[1])} bytes awaiting collection`],
    ["Threads", num(data.threads_count)],
    ["Made in", `${data.seconds} s`],
  ];
  if (data.partial) facts.push(["Partial", `${num(data.skipped)} objects skipped as corrupt: see probe-heap info`]);
  for (const [k, v] of facts) { $("facts").append(el("dt", {}, k), el("dd", {}, v)); }

  const memColours = { objects: "#1e88e5", buffers: "#43a047", allocator: "#fb8c00", other: "#8e24aa" };
  if (data.memory) {
    const m = data.memory, box = $("memory");
    box.append(el("h3", {}, m.source ? `Where the writable memory of the ${m.source === "core" ? "core" : "process"} goes (${bytes(m.total)})`
      : `What the Python heap holds (${bytes(m.total)}; the target's mappings could not be read)`));
    const bar = el("div", { class: "bar", id: "memory-bar" });
    const legend = el("div", { class: "legend" });
    for (const [key, n, text] of m.segments) {
      if (n <= 0) continue;
      const seg = el("div", { "data-key": key, title: `${text}: ${num(n)} bytes, ${pct(n, m.total)}` }, pct(n, m.total));
      seg.style.width = (100 * n / m.total) + "%";
      seg.style.background = memColours[key] || "#999";
      bar.append(seg);
      const item = el("span");
      const sw = el("i"); sw.style.background = memColours[key] || "#999";
      item.append(sw, `${text}: ${bytes(n)} (${pct(n, m.total)})`);
      legend.append(item);
    }
    box.append(bar, legend);
  }

  // ---- suspects (when this probe-heap finds them: Heap.suspects) --------------
  // Drawn after the icicle, which they link to.
  function drawSuspects() {
    const d = data.suspects;
    if (d === null || d === undefined) return;
    $("suspects").hidden = false;
    const list = $("suspect-list");
    const hex = (a) => typeof a === "number" ? "0x" + a.toString(16) : String(a);
    const held = (h) => (h || []).slice(0, 5).map((x) => `${x.kind} (${bytes(x.size)}, ${num(x.count)})`).join(", ");
    const link = (addr, text) => {
      const a = el("a", { href: "#icicle-section", "data-address": hex(addr) }, text);
      a.onclick = () => zoom(byAddress.get(hex(addr)) || root);
      return a;
    };
    if (d.error) list.append(el("p", {}, d.error));
    else if (!d.suspects.length) {
      list.append(el("p", {}, `No leak suspect: no object retains ${d.min}% of the heap ` +
        `(${bytes(d.threshold)}), and no kind of small objects held by a few owners does.`));
    } else if (d.min !== undefined) {
      list.append(el("p", {}, `${d.suspects.length} suspect${d.suspects.length > 1 ? "s" : ""}; each retains ` +
        `at least ${d.min}% of the heap (${num(d.threshold)} of ${num(d.total)} bytes).`));
    }
    d.suspects.forEach((s, i) => {
      const box = el("div", { class: "suspect", "data-index": i, "data-retained": s.retained });
      const pctOf = s.percent !== undefined ? s.percent.toFixed(0) + "%" : pct(s.retained, d.total);
      if (s.what === "object") {
        box.setAttribute("data-address", hex(s.address));
        box.append(el("h3", {}, `Suspect ${i + 1}: ${bytes(s.retained)} (${pctOf} of the heap) retained by one object`));
        const head = el("p");
        head.append(link(s.address, `${s.kind} at ${hex(s.address)}`), s.preview ? "  " + s.preview : "");
        const path = el("p", { class: "path" }, "path: ");
        path.append(el("code", {}, s.path || ""));
        box.append(head, path, el("p", {}, `holding ${num(s.retained_count)} objects, mostly: ${held(s.held)}`));
        const p = s.point;
        if (p) {
          const acc = el("p", {}, "accumulation point: ");
          if (p.address === s.address) acc.append(`the ${s.kind} itself`);
          else { acc.append(link(p.address, `${p.kind} at ${hex(p.address)}`), " at "); acc.append(el("code", {}, p.path || "")); }
          acc.append(`: ${num(p.children)} children in the dominator tree retaining ${bytes(p.retained - (p.flat || 0))}` +
            (p.average !== undefined ? `, ${bytes(p.average)} each on average` : ""));
          box.append(acc);
        }
      } else if (s.what === "kind") {
        box.append(el("h3", {}, `Suspect ${i + 1}: ${bytes(s.retained)} (${pctOf} of the heap) in ` +
          `${num(s.objects)} objects of ${s.kind}, held by ${num(s.all_owners)} owners`));
        box.append(el("p", {}, `holding ${num(s.retained_count)} objects, mostly: ${held(s.held)}`));
        const ul = el("ul");
        for (const o of s.owners || []) {
          const li = el("li", {}, `${bytes(o.size)} in ${num(o.count)} objects under `);
          li.append(el("code", {}, o.path || ""));
          if (o.owners > 1) li.append(` (${num(o.owners)} owners)`);
          else if (o.address) { li.append(" ("); li.append(link(o.address, `${o.kind} at ${hex(o.address)}`)); li.append(")"); }
          ul.append(li);
        }
        box.append(ul);
      } else {
        box.append(el("pre", {}, JSON.stringify(s, null, 1)));
      }
      list.append(box);
    });
  }

  // ---- the icicle ----------------------------------------------------------------
  const ROW = 20, MAXROWS = 40, LABELLED = 25;   // px: a box this wide gets its own label
  $("threshold").textContent = bytes(data.threshold);
  const root = d3.hierarchy(data.tree, (d) => d.c).sum((d) => d.s);
  d3.partition().size([1, 1])(root);   // x0, x1 in [0, 1] by value; depth from the hierarchy
  let id = 0;
  root.each((d) => { d.id = id++; });
  const total = root.value;
  const byAddress = new Map();
  root.each((d) => { if (d.data.a) byAddress.set(d.data.a, d); });
  // breadth first: a parent's owner is known before its children's
  root.each((d) => { d.owner = ownerOf.get(d.data.a) || (d.parent && d.parent.owner) || null; });
  const host = $("icicle");
  const svg = d3.select(host).append("svg").attr("id", "icicle-svg");
  const tip = $("tooltip");
  let focus = root, term = "";

  function label(d) {
    if (d.data.fold) return d.data.e;
    const e = d.data.e ? d.data.e + "  " : "";
    return e + d.data.k;
  }
  function showTip(ev, d) {
    const x = d.data;
    tip.innerHTML = "";
    tip.append(el("b", {}, label(d)));
    const lines = x.fold
      ? [x.why === "more" ? `${num(x.n)} objects left out: the report shows at most ${num(data.max_boxes)} boxes`
          : x.why === "deeper" ? `${num(x.n)} objects further down: the report shows ${data.max_depth} levels ` +
            `('probe-heap dominators ${d.parent.data.a}' goes on)`
          : `${num(x.n)} objects in subtrees each under ${bytes(data.threshold)}`,
         `retained ${num(x.r)} bytes (${pct(x.r, total)})`]
      : [`${x.k}${x.t && x.t !== x.k ? " (type " + x.t + ")" : ""}${x.a ? " at " + x.a : ""}`,
        x.p ? "preview: " + x.p : "",
        `retained ${num(x.r)} bytes (${bytes(x.r)}, ${pct(x.r, total)}) in ${num(x.n)} objects`,
        x.a ? `flat ${num(x.f)} bytes` : "",
        d.owner ? `its owner ${d.owner[0]} changed by ${signed(d.owner[1])} bytes since the snapshot` : "",
        growthOf.has(x.k) ? `its kind changed by ${signed(growthOf.get(x.k))} bytes since the snapshot` : ""];
    for (const l of lines) if (l) tip.append(el("div", {}, l));
    tip.hidden = false;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.min(ev.clientX + 12, window.innerWidth - w - 8) + "px";
    tip.style.top = (ev.clientY + 16 + h > window.innerHeight ? ev.clientY - h - 8 : ev.clientY + 16) + "px";
  }
  function matches(d) {
    if (!term) return false;
    const x = d.data;
    return [x.k, x.t, x.e, x.p, x.a].some((s) => s && s.toLowerCase().includes(term));
  }

  function draw() {
    const W = host.clientWidth || 1000;
    const x0 = focus.x0, span = focus.x1 - focus.x0 || 1;
    const visible = focus.descendants().filter((d) =>
      d.depth - focus.depth < MAXROWS && (d.x1 - d.x0) / span * W >= 0.05);
    const depth = d3.max(visible, (d) => d.depth - focus.depth) + 1;
    svg.attr("width", W).attr("height", depth * ROW).attr("data-focus", focus.data.a || "")
      .attr("data-focus-id", focus.id);
    const g = svg.selectAll("g.node").data(visible, (d) => d.id);
    g.exit().remove();
    const enter = g.enter().append("g").attr("class", "node")
      .attr("data-address", (d) => d.data.a || null)
      .attr("data-retained", (d) => d.data.r)
      .attr("data-kind", (d) => d.data.k)
      .attr("data-id", (d) => d.id)
      .on("click", (ev, d) => { zoom(d === focus && d.parent ? d.parent : d); })
      .on("mousemove", showTip)
      .on("mouseleave", () => { tip.hidden = true; });
    enter.append("rect");
    enter.append("text").attr("dy", "0.32em");
    const all = enter.merge(g);
    all.attr("transform", (d) => `translate(${(d.x0 - x0) / span * W},${(d.depth - focus.depth) * ROW})`)
      .classed("hit", (d) => term && matches(d))
      .classed("dim", (d) => term && !matches(d));
    all.select("rect")
      .attr("width", (d) => { const w = (d.x1 - d.x0) / span * W; return w > 2 ? w - 0.5 : Math.max(w, 1); })
      .classed("thin", (d) => (d.x1 - d.x0) / span * W <= 2)
      .attr("height", ROW - 1)
      .attr("fill", colour);
    all.select("text")
      .attr("x", 3).attr("y", ROW / 2)
      .text((d) => {
        const w = (d.x1 - d.x0) / span * W, n = Math.floor((w - 6) / 6.2);
        if (w < LABELLED) return "";
        const s = label(d) + "  " + bytes(d.data.r);
        return s.length <= n ? s : s.slice(0, n - 1) + "\u2026";
      });
    drawRuns(visible, x0, span, W);
    const crumbs = $("crumbs");
    crumbs.innerHTML = "";
    focus.ancestors().reverse().forEach((d, i, a) => {
      if (i) crumbs.append(" \u203a ");
      const t = d === root ? "all" : label(d);
      if (i === a.length - 1) crumbs.append(el("span", {}, t + " (" + bytes(d.value) + ")"));
      else { const link = el("a", {}, t); link.onclick = () => zoom(d); crumbs.append(link); }
    });
  }
  // Boxes too thin to carry a label, side by side and of one kind (folded
  // boxes between them aside), get one label over them all:
  // "2,000 × __main__.Session  14.9 MB".
  function drawRuns(visible, x0, span, W) {
    const runs = [];
    const wide = (d) => (d.x1 - d.x0) / span * W;
    let run = null;
    for (const d of visible) {
      const next = run && run.depth === d.depth && (d.x0 - run.x1) / span * W < 1;   // gaps under a pixel: the parents' own size
      const bare = wide(d) < LABELLED;      // a box too thin for its own label
      if (d.data.fold && bare && next) { run.x1 = d.x1; continue; }   // a run goes on over "(N smaller)"
      if (!d.parent || d.data.fold || !bare) { run = null; continue; }
      if (next && run.kind === d.data.k) {
        run.n++; run.x1 = d.x1; run.size += d.value;
      } else {
        run = { kind: d.data.k, depth: d.depth, x0: d.x0, x1: d.x1, n: 1, size: d.value };
        runs.push(run);
      }
    }
    const shown = runs.filter((r) => r.n > 1 && (r.x1 - r.x0) / span * W >= 60);
    const t = svg.selectAll("text.run").data(shown);
    t.exit().remove();
    t.enter().append("text").attr("class", "run").attr("dy", "0.32em").merge(t)
      .attr("x", (r) => (r.x0 - x0) / span * W + 3)
      .attr("y", (r) => (r.depth - focus.depth) * ROW + ROW / 2)
      .text((r) => {
        const n = Math.floor(((r.x1 - r.x0) / span * W - 6) / 7.2);   // bold: wider letters
        const s = `${num(r.n)} \u00d7 ${r.kind}  ${bytes(r.size)}`;
        return s.length <= n ? s : s.slice(0, n - 1) + "\u2026";
      });
    svg.selectAll("text.run").raise();
  }
  function zoom(d) { focus = d; tip.hidden = true; draw(); }
  $("reset").onclick = () => zoom(root);
  $("search").addEventListener("input", (ev) => {
    term = ev.target.value.trim().toLowerCase();
    let n = 0, size = 0;
    if (term) root.each((d) => {
      if (matches(d)) { n++; if (!d.ancestors().slice(1).some(matches)) size += d.value; }
    });
    $("search-result").textContent = term ? `${n} boxes match, ${bytes(size)} retained` : "";
    draw();
  });
  if (against) {
    const box = $("colour-by");
    box.append("colour by: ");
    const names = { owner: "growth of its owner", growth: "growth of its kind", kind: "kind" };
    for (const v of owners ? ["owner", "growth", "kind"] : ["growth", "kind"]) {
      const r = el("input", { type: "radio", name: "colour-by", value: v, id: "colour-" + v });
      r.checked = v === colourBy;
      r.onchange = () => { colourBy = v; draw(); };
      box.append(r, el("label", { for: "colour-" + v }, names[v]), " ");
    }
  }
  window.addEventListener("resize", draw);
  draw();
  drawSuspects();
  window.probeReport = { data, root, zoom: (a) => zoom(byAddress.get(a) || root), focus: () => focus.data.a || "" };

  // ---- sortable tables (the first SHOWN rows, then a button for the rest) ----------
  const SHOWN = 30;
  function table(t, cols, rows) {
    const head = el("tr");
    const body = el("tbody");
    cols.forEach((c, i) => {
      const th = el("th", { "data-col": i, class: c.cls === "name" ? "left" : "" }, c.name);
      if (c.title) th.title = c.title;
      th.onclick = () => sortBy(i);
      head.append(th);
    });
    let sorted = -1, desc = true, folded = rows.length > SHOWN + 5;
    const more = el("button", { type: "button", class: "more" });
    more.onclick = () => {
      folded = !folded;
      body.querySelectorAll("tr").forEach((tr, i) => { tr.hidden = folded && i >= SHOWN; });
      label();
    };
    function label() {
      more.textContent = folded ? `show all ${num(rows.length)} rows` : `show the first ${SHOWN} rows`;
      more.hidden = rows.length <= SHOWN + 5;
    }
    function fill(list) {
      body.innerHTML = "";
      for (const r of list) {
        const tr = el("tr", r.attrs || {});
        tr.hidden = folded && body.childElementCount >= SHOWN;
        cols.forEach((c) => {
          const v = c.value(r.row);
          const td = el("td", { class: c.cls || "" });
          if (c.bar) {
            const b = el("div", { class: c.bar(r.row) < 0 ? "neg" : c.signed ? "pos" : "" });
            b.style.width = (100 * Math.abs(c.bar(r.row)) / (c.max || 1)) + "%";
            td.append(b);
          } else {
            td.textContent = c.text ? c.text(r.row) : typeof v === "number" ? num(v) : v;
            if (typeof v === "number") td.setAttribute("data-value", v);
          }
          tr.append(td);
        });
        body.append(tr);
      }
    }
    function sortBy(i) {
      const c = cols[i];
      desc = sorted === i ? !desc : c.numeric !== false;
      sorted = i;
      const key = c.sortValue || c.value;
      const list = rows.slice().sort((a, b) => {
        const x = key(a.row), y = key(b.row);
        const o = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
        return desc ? -o : o;
      });
      head.querySelectorAll("th").forEach((th, j) => {
        th.classList.remove("sorted-desc", "sorted-asc");
        if (j === i) th.classList.add(desc ? "sorted-desc" : "sorted-asc");
      });
      fill(list);
    }
    t.append(el("thead"), body);
    t.tHead.append(head);
    fill(rows);
    label();
    t.after(more);
  }

  function partition(id, rows, byType) {
    const count = data.count, size = data.size;
    let cum = 0;
    const list = rows.map((r, i) => { cum += r[3]; return { row: r.concat([i, cum]), attrs: { "data-kind": r[0] } }; });
    const max = rows.length ? Math.max(...rows.map((r) => r[3])) : 1;
    table($(id), [
      { name: "Index", value: (r) => r[5] },
      { name: "Count", value: (r) => r[2] },
      { name: "%", value: (r) => r[2], text: (r) => pct(r[2], count) },
      { name: "Size", value: (r) => r[3], text: (r) => num(r[3]) + (r[4] ? " (est.)" : "") },
      { name: "%", value: (r) => r[3], text: (r) => pct(r[3], size) },
      { name: "Cumulative %", value: (r) => r[6], text: (r) => pct(r[6], size), title: "in the table's first order" },
      { name: "", value: (r) => r[3], bar: (r) => r[3], max, cls: "barcell" },
      { name: byType ? "Type" : "Kind (class / dict of class)", value: (r) => r[0], cls: "name", numeric: false },
    ], list);
  }
  partition("by-kind", data.by_kind, false);
  partition("by-type", data.by_type, true);

  // ---- growth -------------------------------------------------------------------------
  if (against) {
    const a = against;
    $("growth").hidden = false;
    $("growth-what").textContent = `Against the snapshot ${a.file} (CPython ${a.python}, ${a.source}, ${a.taken || "?"}): ` +
      `objects ${num(a.count)} \u2192 ${num(data.count)} (${signed(data.count - a.count)}), ` +
      `bytes ${num(a.size)} \u2192 ${num(data.size)} (${signed(data.size - a.size)}). ` +
      (owners ? "The icicle is coloured by the growth of each box's owner (red: grew, green: shrank, grey: no change or no owner)."
        : "The icicle is coloured by the growth of each box's kind.");
    if (!owners) {
      $("growth-owner-what").textContent = "The snapshot has no retainer paths (it was written before they " +
        "were kept): no growth by owner. Take a new snapshot for it.";
    } else {
      const o = owners;
      $("growth-owner-what").textContent = `Retainer paths of the dominator tree's nodes retaining ` +
        `${num(o.min_retained)} bytes or more (the snapshot's threshold), largest growth first, paths that shrank last ` +
        `(diff --by owner). "passes on to" marks a path whose change is nearly all under a deeper one. ` +
        `Click a row to zoom the icicle on its object.` + (o.more ? ` ${num(o.more)} more paths changed (not shown).` : "");
      const omax = o.rows.length ? Math.max(...o.rows.map((r) => Math.abs(r[3]))) : 1;
      const tag = { new: " (new)", gone: " (gone)" };
      const pathText = (r) => r[0] + (tag[r[1]] || "") + (r[6] ? `  [passes on to ${r[6]}]` : "") +
        (r[7].length && r[3] > 0 ? "  grew: " + r[7].map(([k, s, c]) => `${k} ${signed(s)} (${signed(c)})`).join(", ") : "");
      table($("growth-owner-table"), [
        { name: "Retained", value: (r) => r[2] },
        { name: "Change", value: (r) => r[3], text: (r) => signed(r[3]) },
        { name: "Objects", value: (r) => r[4] },
        { name: "Change", value: (r) => r[5], text: (r) => signed(r[5]) },
        { name: "", value: (r) => r[3], bar: (r) => r[3], max: omax, cls: "barcell", signed: true },
        { name: "Retainer path", value: (r) => r[0], text: pathText, cls: "name", numeric: false },
      ], o.rows.map((r) => {
        const attrs = { "data-path": r[0], "data-status": r[1] };
        if (r[8] && byAddress.has(r[8])) { attrs["data-address"] = r[8]; attrs.class = "zooms"; }
        if (r[6]) attrs["data-same-as"] = r[6];
        return { row: r, attrs };
      }));
      $("growth-owner-table").addEventListener("click", (ev) => {
        const tr = ev.target.closest("tr[data-address]");
        if (!tr) return;
        zoom(byAddress.get(tr.dataset.address));
        $("icicle-section").scrollIntoView();
      });
    }
    const max = a.rows.length ? Math.max(...a.rows.map((r) => Math.abs(r[4]))) : 1;
    table($("growth-table"), [
      { name: "Count", value: (r) => r[1] },
      { name: "Count change", value: (r) => r[3], text: (r) => signed(r[3]) },
      { name: "Size", value: (r) => r[2] },
      { name: "Size change", value: (r) => r[4], text: (r) => signed(r[4]) },
      { name: "", value: (r) => r[4], bar: (r) => r[4], max, cls: "barcell", signed: true },
      { name: "Kind", value: (r) => r[0], cls: "name", numeric: false },
    ], a.rows.map((r) => ({ row: r, attrs: { "data-kind": r[0] } })));
  }

  // ---- threads ------------------------------------------------------------------------
  const tl = $("thread-list");
  if (!data.threads.length) tl.append(el("p", {}, "No Python thread."));
  for (const t of data.threads) {
    const d = el("div", { class: "thread", "data-thread": t.id });
    d.append(el("h3", {}, `Thread ${t.id}${t.native ? " (native " + t.native + ")" : ""}` +
      (t.frames.length ? ", most recent call first" : "")));
    const ol = el("ol");
    for (const [fn, file, line, holds] of t.frames) {
      const li = el("li", {}, `${fn}  ${file}:${line === null ? "?" : line}`);
      if (holds) {
        const ul = el("ul", { class: "holds" });
        for (const [what, addr, r, n, kind] of holds) {
          const item = el("li", { "data-retained": r, "data-address": addr }, `${what} keeps ${bytes(r)} alive (${num(n)} objects): `);
          const link = el("a", { href: "#icicle-section", "data-address": addr }, `${kind} at ${addr}`);
          link.onclick = () => { zoom(byAddress.get(addr) || root); };
          item.append(link);
          ul.append(item);
        }
        li.append(ul);
      }
      ol.append(li);
    }
    if (!t.frames.length) ol.append(el("li", {}, "no Python frame"));
    if (t.truncated) ol.append(el("li", {}, "<stack cut short: a frame link is unreadable or loops>"));
    d.append(ol);
    tl.append(d);
  }

  for (const s of document.querySelectorAll("main > section")) {
    if (s.hidden) continue;
    const a = el("a", { href: "#" + s.id }, s.querySelector("h2").textContent.split(":")[0]);
    toc.append(a);
  }
})();
