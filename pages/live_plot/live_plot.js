// The Compare page's live plot (pages/_live_plot.py): model, scale/background fit, R_w and plot, in the browser.
//
// Python sends, once per (cluster, data, fit range), the pieces of swaxs_lib/live.py and the data with their fit
// weights.  For I(Q), S(Q), F(Q) (offset A(Q), pair coefficients C_p(Q), pair sinc sums S_p on a uniform grid)
//   model(Q) = A(Q) + sum_p C_p(Q) exp(-(B_a + B_c) Q^2 / (16 pi^2)) S_p(zoom Q)   (6-point Lagrange in S_p);
// for G(r) the refinement's real-space algorithm (swaxs_lib/refine/realspace.py: Gaussians per histogram node,
// sine transform, Q window and small-angle taper, transform back, Q damping) with power-of-two FFTs.  Then scale
// (and background) are fitted by weighted least squares and R_w computed (swaxs_lib/fit/linear.py), and the figure
// redrawn -- as soon as one of the page's own model sliders moves: the iframe watches those sliders in the parent
// document (same origin), so the curve follows a drag or a key press in the same frame, while Streamlit's rerun
// (metrics, table, URL) follows on its own.  While a slider moves only the model and residual lines and the
// legend are redrawn (SVG paths); plotly redraws the whole figure once the slider rests.
"use strict";

const STENCIL = [-2, -1, 0, 1, 2, 3];
// ms a slider must rest before the full plotly redraw (hover values, autorange) follows the fast one
const SETTLE_MS = 300;
const state = { key: null, spec: null, arrays: {}, cands: [], drawn: null, watched: [], observer: null, busy: false };
const plotDiv = document.getElementById("plot");
const statusDiv = document.getElementById("status");

function post(type, extra) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra || {}), "*");
}

// ---------------------------------------------------------------- data from Python

function decode(spec, bytes) {
  // one float64 buffer, laid out as spec.layout = {name: [offset, length]} (in doubles)
  const raw = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const all = new Float64Array(raw.slice().buffer);  // a copy: the protobuf view need not be 8-byte aligned
  const out = {};
  for (const [name, [offset, length]] of Object.entries(spec.layout)) out[name] = all.subarray(offset, offset + length);
  return out;
}

function candidates(spec, arrays) {
  const nq = spec.n_points;
  return spec.candidates.map((c, i) => {
    const nu = c.n_grid;
    return {
      index: c.index, color: c.color, label: c.label, pairs: c.pairs, n_elements: c.n_elements,
      offset: arrays[`c${i}_offset`],
      coefficients: c.n_grid ? c.pairs.map((_, p) => arrays[`c${i}_coefficients`].subarray(p * nq, (p + 1) * nq)) : null,
      grid: c.n_grid ? c.pairs.map((_, p) => arrays[`c${i}_grid`].subarray(p * nu, (p + 1) * nu)) : null,
      start: c.grid_start, step: c.grid_step,
      // G(r)
      nodes: c.n_nodes ? c.pairs.map((_, p) => arrays[`c${i}_nodes`].subarray(p * c.n_nodes, (p + 1) * c.n_nodes)) : null,
      pair_weights: arrays[`c${i}_pair_weights`], dr: c.dr, n_grid: c.n_grid_pdf, q_min: c.q_min, q_max: c.q_max,
      self_weight: c.self_weight, volume: c.volume,
    };
  });
}

// ---------------------------------------------------------------- the model and the fit (swaxs_lib/live.py, fit/linear.py)

function evaluate(cand, q, zoom, b) {
  const n = q.length, out = new Float64Array(n);
  out.set(cand.offset);
  const lag = new Float64Array(6);
  for (let p = 0; p < cand.pairs.length; p++) {
    const [a, c] = cand.pairs[p];
    const beta = (b[a] + b[c]) / (16 * Math.PI * Math.PI);
    const coef = cand.coefficients[p], grid = cand.grid[p];
    for (let k = 0; k < n; k++) {
      const t = (q[k] * zoom - cand.start) / cand.step;
      const i = Math.floor(t), f = t - i;
      // Lagrange basis on nodes -2..3 at f
      for (let m = 0; m < 6; m++) {
        let l = 1;
        for (let j = 0; j < 6; j++) if (j !== m) l *= (f - STENCIL[j]) / (STENCIL[m] - STENCIL[j]);
        lag[m] = l;
      }
      let s = 0;
      for (let m = 0; m < 6; m++) s += lag[m] * grid[i + STENCIL[m]];
      out[k] += coef[k] * Math.exp(-beta * q[k] * q[k]) * s;
    }
  }
  return out;
}

// ---------------------------------------------------------------- G(r): swaxs_lib/refine/realspace.py's realspace_pdf

const fftTables = new Map();

function fft(re, im) {
  // in-place radix-2 complex FFT (exp(-2 pi i k m / n)), n a power of two; twiddles tabulated once per length
  const n = re.length;
  let table = fftTables.get(n);
  if (!table) {
    table = { cos: new Float64Array(n / 2), sin: new Float64Array(n / 2) };
    for (let k = 0; k < n / 2; k++) { table.cos[k] = Math.cos(2 * Math.PI * k / n); table.sin[k] = -Math.sin(2 * Math.PI * k / n); }
    fftTables.set(n, table);
  }
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { let t = re[i]; re[i] = re[j]; re[j] = t; t = im[i]; im[i] = im[j]; im[j] = t; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1, stride = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < half; k++) {
        const wr = table.cos[k * stride], wi = table.sin[k * stride];
        const a = i + k, b = a + half;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

function dst1(x, n, scale, work) {
  // scipy.fft.dst(x[0:n], type=1) * scale: y_k = 2 sum_j x_j sin(pi (k+1)(j+1)/(n+1)), via an FFT of length 2(n+1)
  const m = 2 * (n + 1), re = work.re, im = work.im;
  re.fill(0); im.fill(0);
  for (let j = 0; j < n; j++) { re[j + 1] = x[j]; re[m - j - 1] = -x[j]; }
  fft(re, im);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) y[k] = -im[k + 1] * scale;
  return y;
}

function addGaussians(grid, weights, dr, scale, sigma2, delta2, floor, h, c) {
  // realspace.py's _add_gaussians, term for term
  const nGrid = grid.length, norm = 1 / Math.sqrt(2 * Math.PI);
  for (let m = 1; m < weights.length; m++) {
    const w = weights[m];
    if (w === 0) continue;
    const rm = m * dr;
    let factor = 1 - delta2 / (rm * rm);
    if (factor < c.min_width_factor) factor = c.min_width_factor;
    const s = Math.sqrt(sigma2 * factor + floor * floor);
    const amp = scale * w * norm / (s * rm);
    let j0 = Math.trunc((rm - c.gauss_cut * s) / h);
    if (j0 < 0) j0 = 0;
    let j1 = Math.trunc((rm + c.gauss_cut * s) / h) + 1;
    if (j1 > nGrid - 1) j1 = nGrid - 1;
    const t = h / s, x = (j0 * h - rm) / s;
    let e = amp * Math.exp(-0.5 * x * x), a = Math.exp(-x * t - 0.5 * t * t);
    const cc = Math.exp(-t * t);
    for (let j = j0; j <= j1; j++) { grid[j] += e; e *= a; a *= cc; }
    if (rm < c.gauss_cut * s) {
      const jm = Math.trunc((c.gauss_cut * s - rm) / h);
      for (let j = 0; j <= jm; j++) { const y = (j * h + rm) / s; grid[j] -= amp * Math.exp(-0.5 * y * y); }
    }
  }
}

const pdfWork = new Map();

function evaluatePdf(cand, r, values, c) {
  // G(r) with scale 1 (cluster_gr.model_curve): Gaussians on a grid, DST to F(Q), window and taper, DST back
  const zoom = Math.min(Math.max(values.zoom ?? 1, 0.9), 1.1);
  const u = Math.max(values.u ?? 0, 0), delta2 = Math.max(values.delta2 ?? 0, 0), qdamp = Math.max(values.qdamp ?? 0, 0);
  const h = c.grid_step, nGrid = cand.n_grid, n = nGrid - 1, floor = c.floor_steps * h;
  let work = pdfWork.get(nGrid);
  if (!work) { work = { re: new Float64Array(2 * nGrid), im: new Float64Array(2 * nGrid), g: new Float64Array(nGrid + 1) }; pdfWork.set(nGrid, work); }
  const g = work.g;
  g.fill(0);
  for (let p = 0; p < cand.pairs.length; p++) {
    addGaussians(g, cand.nodes[p], cand.dr * zoom, cand.pair_weights[p], 2 * u, delta2, floor, h, c);  // U_a + U_b
  }
  const f = dst1(g.subarray(1, nGrid), n, h / 2, work);
  const dq = Math.PI / (nGrid * h);
  const volume = cand.volume === null ? NaN : cand.volume * zoom * zoom * zoom;
  const qb = c.sas_cutoff / Math.cbrt(volume), qa = c.sas_taper_start * qb;
  for (let k = 0; k < n; k++) {
    const q = dq * (k + 1);
    const lo = Math.min(Math.max((q + dq / 2 - cand.q_min) / dq, 0), 1), hi = Math.min(Math.max((cand.q_max - (q - dq / 2)) / dq, 0), 1);
    const window = Math.min(lo, hi);
    if (window <= 0) { f[k] = 0; continue; }
    f[k] *= Math.exp(0.5 * (floor * q) ** 2);
    if (Number.isFinite(volume)) {
      const x = Math.min(Math.max((q - qa) / (qb - qa), 0), 1), taper = 0.5 * (1 + Math.cos(Math.PI * x));
      f[k] -= taper * (f[k] + cand.self_weight * q);
    }
    f[k] *= window;
  }
  const back = dst1(f, n, dq / Math.PI, work);
  const out = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) {
    // np.interp on [0, h, 2h, ...] with G(0) = 0
    const t = r[i] / h, j = Math.floor(t), frac = t - j;
    const left = j <= 0 ? 0 : back[Math.min(j, n) - 1], right = j + 1 > n ? back[n - 1] : back[j];
    out[i] = j >= n ? back[n - 1] : left + frac * (right - left);
    if (qdamp > 0) out[i] *= Math.exp(-0.5 * (r[i] * qdamp) ** 2);
  }
  return out;
}

function solve(a, rhs) {
  // Gaussian elimination with partial pivoting on a small dense system
  const n = rhs.length, m = a.map((row, i) => row.concat([rhs[i]]));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    if (m[c][c] === 0) return null;
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

function fit(model, x, y, w, nBackground) {
  // y ~ scale * model + c0 + c1 x, weights w (0 outside the fit range): columns scaled to unit norm, normal equations
  const n = x.length, cols = [model];
  if (nBackground >= 1) cols.push(new Float64Array(n).fill(1));
  if (nBackground >= 2) cols.push(x);
  const k = cols.length, norm = cols.map((col) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[i] * col[i] * col[i];
    return Math.sqrt(s) || 1;
  });
  const a = [], rhs = [];
  for (let r = 0; r < k; r++) {
    a.push([]);
    let s = 0;
    for (let i = 0; i < n; i++) s += w[i] * cols[r][i] * y[i];
    rhs.push(s / norm[r]);
    for (let c = 0; c < k; c++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += w[i] * cols[r][i] * cols[c][i];
      a[r].push(t / (norm[r] * norm[c]));
    }
  }
  const z = solve(a, rhs);
  if (z === null) return null;
  const coef = z.map((v, r) => v / norm[r]);
  const fitted = new Float64Array(n);
  let misfit = 0, total = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let r = 0; r < k; r++) v += coef[r] * cols[r][i];
    fitted[i] = v;
    if (w[i] > 0) { misfit += w[i] * (y[i] - v) ** 2; total += w[i] * y[i] * y[i]; }
  }
  return { coef: coef, fitted: fitted, rw: total > 0 ? Math.sqrt(misfit / total) : Infinity };
}

// ---------------------------------------------------------------- the figure (pages/compare.py's _figure)

function residualOf(spec, arrays, fitted) {
  const y = arrays.y, w = arrays.w, out = new Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const d = y[i] - fitted[i];
    out[i] = w[i] > 0 ? (spec.relative_residual ? d / y[i] * 100 : d) : null;
  }
  return out;
}

function legendName(r) { return `${r.cand.label} (R_w ${r.fit.rw.toFixed(4)})`; }

function figure(spec, arrays, results) {
  const x = arrays.x, y = arrays.y;
  const type = spec.webgl ? "scattergl" : "scatter";
  const traces = [{
    type: type, x: x, y: y, mode: "markers", name: "data", marker: { size: x.length > 2000 ? 3 : 4, color: "#444" }, uid: "data",
    error_y: arrays.sigma ? { type: "data", array: arrays.sigma, visible: true, thickness: 0.8, width: 0 } : undefined,
  }];
  for (const r of results) {
    traces.push({ type: type, x: x, y: r.fit.fitted, mode: "lines", name: legendName(r), uid: `model${r.cand.index}`,
                  line: { color: r.cand.color, width: 2 }, xaxis: "x", yaxis: "y" });
    traces.push({ type: type, x: x, y: residualOf(spec, arrays, r.fit.fitted), mode: "lines", showlegend: false,
                  uid: `residual${r.cand.index}`, line: { color: r.cand.color, width: 1 }, xaxis: "x2", yaxis: "y2",
                  hovertemplate: "%{y:.4g}<extra></extra>" });
  }
  const band = (xref, yref) => ({ type: "rect", xref: xref, yref: yref, x0: spec.x_min, x1: spec.x_max, y0: 0, y1: 1,
                                  fillcolor: "#f0f2f6", opacity: 0.5, line: { width: 0 }, layer: "below" });
  const xType = spec.log_x ? "log" : "linear";
  const grid = "#e6e9ef";
  const yaxis = { domain: [0.3088, 1], type: spec.log_y ? "log" : "linear", exponentformat: "power",
                  title: { text: spec.y_label }, gridcolor: grid, zeroline: false };
  if (spec.log_y) {
    // whole decades when the data span several, else 2 and 5 between them (the default labels every digit)
    let lo = Infinity, hi = -Infinity;
    for (const v of y) if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    yaxis.dtick = hi / lo > 100 ? 1 : "D2";
  }
  const layout = {
    height: spec.height, margin: { l: 64, r: 16, t: 24, b: 50 }, uirevision: "keep-zoom",
    font: { family: spec.font || "\"Source Sans Pro\", \"Source Sans 3\", sans-serif", size: 13, color: "#31333f" },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
    legend: { x: 0.99, xanchor: "right", y: 0.99, bgcolor: "rgba(255,255,255,0.85)" },
    xaxis: { anchor: "y", matches: "x2", showticklabels: false, type: xType, gridcolor: grid, zeroline: false },
    yaxis: yaxis,
    xaxis2: { anchor: "y2", type: xType, title: { text: spec.x_label }, gridcolor: grid, zeroline: false,
              dtick: spec.log_x ? "D2" : undefined },
    yaxis2: { domain: [0, 0.2688], title: { text: spec.residual_label }, gridcolor: grid, zerolinecolor: "#c5c8cf" },
    shapes: [band("x", "y domain"), band("x2", "y2 domain")],
    hovermode: "closest",
  };
  return { data: traces, layout: layout };
}

// ---------------------------------------------------------------- the page's sliders

function sliderValue(container) {
  const el = container.querySelector("[role=slider], input[type=range]");
  if (!el) return null;
  for (const text of [el.getAttribute("aria-valuenow"), el.value, el.getAttribute("aria-valuetext")]) {
    const v = text == null || text === "" ? NaN : Number(text);
    if (Number.isFinite(v)) return v;
  }
  return null;
}

function currentValues() {
  // the sliders' values as shown now (ahead of the rerun that brought the args), else the args'
  const values = Object.assign({}, state.spec.values);
  for (const { name, container } of state.watched) {
    if (!container.isConnected) continue;
    const v = sliderValue(container);
    if (v !== null) values[name] = v;
  }
  return values;
}

function watchSliders() {
  let doc;
  try { doc = window.parent.document; } catch (e) { return; }  // another origin: redraw with each rerun only
  const found = Object.entries(state.spec.sliders).map(([name, cls]) => ({ name: name, container: doc.querySelector("." + cls) }))
    .filter((s) => s.container);
  const same = found.length === state.watched.length && found.every((s, i) => s.container === state.watched[i].container);
  if (same && state.observer) return;
  if (state.observer) state.observer.disconnect();
  state.watched = found;
  const Observer = window.parent.MutationObserver || MutationObserver;
  state.observer = new Observer(() => draw(false));
  for (const { container } of found) {
    state.observer.observe(container, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow", "aria-valuetext", "value"] });
  }
}

// ---------------------------------------------------------------- drawing

function compute(values) {
  const spec = state.spec, arrays = state.arrays;
  const zoom = Math.min(Math.max(values.zoom ?? 1, 0.9), 1.1);
  const results = [], problems = [];
  for (const cand of state.cands) {
    const b = new Array(cand.n_elements).fill(Math.max(values.b ?? 0, 0));  // one B for every element
    const model = spec.kind === "gr" ? evaluatePdf(cand, arrays.x, values, spec.pdf) : evaluate(cand, arrays.x, zoom, b);
    const result = fit(model, arrays.x, arrays.y, arrays.w, spec.n_background);
    if (result === null) { problems.push(`${cand.label}: the model is zero over the fit range`); continue; }
    results.push({ cand: cand, model: model, fit: result });
  }
  return { results: results, problems: problems };
}

function svgPath(xs, ys, xa, ya) {
  // the line plotly would draw, in the subplot's pixels; gaps at missing (or, on log axes, non-positive) values
  const logX = xa.type === "log", logY = ya.type === "log";
  const parts = [];
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const xv = xs[i], yv = ys[i];
    if (yv === null || !Number.isFinite(yv) || (logY && yv <= 0) || (logX && xv <= 0)) { pen = false; continue; }
    parts.push((pen ? "L" : "M") + xa.c2p(xv).toFixed(2) + "," + ya.c2p(yv).toFixed(2));
    pen = true;
  }
  return parts.join("");
}

function setLine(uid, xs, ys, xa, ya) {
  const paths = plotDiv.querySelectorAll(`g.trace${uid} path.js-line`);
  if (!paths.length) return false;
  paths[0].setAttribute("d", svgPath(xs, ys, xa, ya));
  for (let k = 1; k < paths.length; k++) paths[k].setAttribute("d", "");  // segments plotly split at gaps
  return true;
}

function fastUpdate(computed) {
  // only the model and residual lines and the legend's R_w: the data's thousands of markers stay as drawn
  const fl = plotDiv._fullLayout;
  if (!fl || state.spec.webgl) return false;
  for (const r of computed.results) {
    const ok = setLine(`model${r.cand.index}`, state.arrays.x, r.fit.fitted, fl.xaxis, fl.yaxis)
      && setLine(`residual${r.cand.index}`, state.arrays.x, residualOf(state.spec, state.arrays, r.fit.fitted), fl.xaxis2, fl.yaxis2);
    if (!ok) return false;
    for (const item of plotDiv.querySelectorAll(".legend g.traces")) {
      const d = item.__data__;
      if (d && d[0] && d[0].trace && d[0].trace.uid === `model${r.cand.index}`) item.querySelector("text.legendtext").textContent = legendName(r);
    }
  }
  return true;
}

function publish(values, computed, started, drawnAt) {
  // for tests and the benchmark: what is drawn, in numbers
  window.swaxsLive = { values: values, started: started, drawn: drawnAt, results: computed.results.map((r) => ({
    index: r.cand.index, rw: r.fit.rw, coef: r.fit.coef, model: Array.from(r.model), fitted: Array.from(r.fit.fitted) })) };
}

function fullDraw(values, computed) {
  const fig = figure(state.spec, state.arrays, computed.results);
  Plotly.react(plotDiv, fig.data, fig.layout, state.spec.config);
  state.figure = state.key + "|" + state.spec.view;
  state.full = JSON.stringify(values);
}

let settle = null;

function draw(force) {
  if (!state.spec || state.busy) return;
  const values = currentValues();
  const signature = JSON.stringify(values) + "|" + state.key + "|" + state.spec.view;
  if (!force && signature === state.drawn) return;
  state.busy = true;
  const started = performance.now();
  try {
    const computed = compute(values);
    const sameFigure = state.figure === state.key + "|" + state.spec.view;
    if (!force && sameFigure && fastUpdate(computed)) {
      // a full redraw (hover data, axis ranges) once the slider rests
      clearTimeout(settle);
      settle = setTimeout(() => { if (state.full !== JSON.stringify(currentValues())) draw(true); }, SETTLE_MS);
    } else {
      fullDraw(values, computed);
    }
    statusDiv.textContent = computed.problems.join("; ");
    publish(values, computed, started, performance.now());
    state.drawn = signature;
  } catch (e) {
    statusDiv.textContent = "Live plot: " + e;
  } finally {
    state.busy = false;
  }
}

function onRender(args) {
  const spec = typeof args.spec === "string" ? JSON.parse(args.spec) : args.spec;
  if (spec.key !== state.key) {
    state.arrays = decode(spec, args.arrays);
    state.cands = candidates(spec, state.arrays);
    state.key = spec.key;
  }
  const viewChanged = !state.spec || state.spec.view !== spec.view;
  state.spec = spec;
  watchSliders();
  draw(viewChanged);
  post("streamlit:setFrameHeight", { height: spec.height + statusDiv.offsetHeight + 4 });
}

window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") onRender(event.data.args);
});
post("streamlit:componentReady", { apiVersion: 1 });
// a slider element Streamlit replaced (a rerun that rebuilt the column) is found again
setInterval(() => { if (state.spec && state.watched.some((s) => !s.container.isConnected)) { watchSliders(); draw(false); } }, 1000);
