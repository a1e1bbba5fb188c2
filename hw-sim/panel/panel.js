// The simulated unit's front panel: draws snapshots pushed over server-sent events and sends key,
// hook, audio and server actions back as JSON.  No framework, no build step.
"use strict";

const DOT = 3;          // a pixel of the glass, in CSS px
const PITCH = 4;        // dot + gap
const CELL_GAP = 3;     // between character cells
const ROW_GAP = 5;      // between text rows
const MARGIN = 10;
const GLASS = {
  lit: { bg: "#a5c83c", on: "#1c2a0a", off: "rgba(20, 40, 0, 0.10)" },   // yellow-green backlight
  dark: { bg: "#3a4422", on: "#141b08", off: "rgba(0, 0, 0, 0.14)" },     // backlight off
};
const KEYBOARD = {
  Enter: "OK", NumpadEnter: "OK", Escape: "BACK", Backspace: "BACK",
  ArrowUp: "UP", ArrowDown: "DOWN", h: "HOLD", H: "HOLD", a: "APPEAL", A: "APPEAL",
};
for (const k of "0123456789*#") KEYBOARD[k] = k;

let font = {};
let state = null;
let blinkPhase = true;

function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => {
    const reply = await r.json().catch(() => ({ ok: false, error: r.statusText }));
    if (!r.ok) throw new Error(reply.error || r.statusText);
    return reply;
  });
}

// ------------------------------------------------------------------ the LCD
function glyphFor(lcd, code) {
  if (code < 16) return lcd.cgram[code & 7];
  return font[code.toString(16).padStart(2, "0")];  // undefined/null: the font has no drawing
}

function drawLcd(lcd) {
  const canvas = document.getElementById("lcd");
  const cellW = 5 * PITCH + CELL_GAP;
  const cellH = 8 * PITCH + ROW_GAP;
  const w = MARGIN * 2 + lcd.cols * cellW - CELL_GAP;
  const h = MARGIN * 2 + lcd.rows * cellH - ROW_GAP;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    canvas.style.width = w + "px";  // the height follows the bitmap's ratio (CSS), so narrow screens scale it
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const look = lcd.backlight ? GLASS.lit : GLASS.dark;
  ctx.fillStyle = look.bg;
  ctx.fillRect(0, 0, w, h);
  for (let r = 0; r < lcd.rows; r++) {
    for (let c = 0; c < lcd.cols; c++) {
      const bits = lcd.display_on ? glyphFor(lcd, lcd.codes[r][c]) : null;
      const missing = lcd.display_on && !bits;
      const cursorHere = lcd.display_on && lcd.cursor && lcd.cursor[0] === r && lcd.cursor[1] === c;
      const x0 = MARGIN + c * cellW;
      const y0 = MARGIN + r * cellH;
      for (let y = 0; y < 8; y++) {
        const row = bits ? bits[y] : 0;
        for (let x = 0; x < 5; x++) {
          let on = (row >> (4 - x)) & 1;
          if (missing) on = (x + y) % 2;  // a ROM code our font cannot draw: a checkerboard
          if (cursorHere && lcd.cursor_on && y === 7) on = 1;
          if (cursorHere && lcd.blink_on && blinkPhase) on = 1;
          ctx.fillStyle = on ? (missing ? look.off.replace(/[\d.]+\)$/, "0.45)") : look.on) : look.off;
          ctx.fillRect(x0 + x * PITCH, y0 + y * PITCH, DOT, DOT);
        }
      }
    }
  }
  const text = lcd.text.join("\n");
  document.getElementById("lcd-text").textContent = text;
  canvas.setAttribute("aria-label", "LCD: " + lcd.text.map((t) => t.trimEnd()).join(" / "));
  canvas.dataset.version = String(state ? state.version : 0);
  // where the dots are, for anyone reading the pixels back (the browser test does)
  Object.assign(canvas.dataset, { margin: MARGIN, pitch: PITCH, dot: DOT, cellW, cellH });
}

setInterval(() => {
  blinkPhase = !blinkPhase;
  if (state && state.lcd.blink_on) drawLcd(state.lcd);
}, 400);

// ------------------------------------------------------------------ the rest of the snapshot
function fmt(v, unit) {
  return v === null || v === undefined ? "–" : `${v} ${unit}`.trim();
}

function render(s) {
  state = s;
  drawLcd(s.lcd);
  for (const [name, led] of Object.entries(s.leds)) {
    const el = document.getElementById("led-" + name);
    el.dataset.colour = led.colour;
    el.dataset.seen = led.seen;
    el.title = `${name.toUpperCase()}: ${led.seen}`;
  }
  const hook = document.getElementById("hook");
  hook.dataset.off = String(s.hook.off);
  hook.setAttribute("aria-pressed", String(s.hook.off));
  document.getElementById("hook-label").textContent = s.hook.off ? "Handset off hook (call on)" : "Handset on hook";

  const line = s.line;
  document.getElementById("line-mode").textContent = line.mode.replace(/^.*\//, "");
  const set = (id, value, lo) => { document.getElementById(id).value = value === null ? lo : value; };
  set("m-level", line.speech_dbfs, -70);
  set("m-noise", line.noise_dbfs, -90);
  set("m-snr", line.snr_db, -10);
  set("m-score", line.score, 0);
  document.getElementById("m-level-out").textContent = fmt(line.speech_dbfs, "dBFS");
  document.getElementById("m-noise-out").textContent = fmt(line.noise_dbfs, "dBFS");
  document.getElementById("m-snr-out").textContent = fmt(line.snr_db, "dB");
  document.getElementById("m-score-out").textContent = fmt(line.score, "");
  const verdict = document.getElementById("verdict");
  verdict.textContent = line.verdict || "–";
  verdict.dataset.verdict = line.verdict || "";
  document.getElementById("listening").textContent = line.listening ? "(listening)" : "(not listening: no call)";
  document.getElementById("server").checked = s.server.up;
  document.getElementById("central-count").textContent = String(s.server.records);
  renderClock(s.clock);
  // the history and the central server's view are fetched when their counts move
  const counts = `${s.journal.records}/${s.journal.pending}/${s.server.records}/${s.server.up}`;
  if (counts !== lastCounts) {
    lastCounts = counts;
    refreshTables();
  }
}

// ------------------------------------------------------------------ clock control
let lastCounts = "";

function renderClock(clock) {
  document.getElementById("clock-now").textContent = clock.now.replace("T", " ").slice(0, 19);
  document.getElementById("clock-trust").textContent =
    `${clock.trusted ? "trusted" : "not trusted"}, source ${clock.source}, ${clock.rate}x`;
  for (const b of document.querySelectorAll("#clock-rates button")) {
    b.setAttribute("aria-pressed", String(Number(b.dataset.rate) === clock.rate));
    b.disabled = !clock.settable;
  }
  document.getElementById("clock-set").disabled = !clock.settable;
  const input = document.getElementById("clock-time");
  if (!input.value && document.activeElement !== input) input.value = clock.now.slice(0, 16);
}

function setClock(body) {
  const error = document.getElementById("clock-error");
  post("/api/clock", body).then(() => { error.textContent = ""; }).catch((e) => { error.textContent = e.message; });
}

function wireClock(info) {
  const rates = document.getElementById("clock-rates");
  for (const rate of info.clock_rates) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.rate = String(rate);
    b.textContent = `${rate}x`;
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", () => setClock({ rate }));
    rates.appendChild(b);
  }
  document.getElementById("clock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setClock({ time: document.getElementById("clock-time").value });
  });
}

// ------------------------------------------------------------------ history and the central server
function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (cls) td.className = cls;
  return td;
}

function hhmm(iso) {
  return iso ? iso.slice(11, 16) : null;
}

function fillTable(id, rows, fill) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  for (const r of rows) fill(body.insertRow(), r);
}

function refreshTables() {
  fetch("/api/history").then((r) => r.json()).then((h) => {
    fillTable("history", h.records, (row, r) => {
      row.dataset.outcome = r.outcome || "";
      cell(row, hhmm(r.ended_at));
      cell(row, r.operator);
      cell(row, r.outcome);
      cell(row, r.appeal ? `${r.appeal.kind || "?"}: ${r.appeal.full_name || ""} ${r.appeal.phone || ""}`.trim() : null,
           "wrap");
      cell(row, r.synced ? "✓" : "waiting");
    });
    document.getElementById("history-empty").hidden = h.records.length > 0;
  }).catch((e) => console.warn(e));
  fetch("/api/central").then((r) => r.json()).then((c) => {
    fillTable("central-records", c.records, (row, r) => {
      cell(row, r.seq);
      cell(row, hhmm(r.received_at));
      cell(row, r.outcome);
      cell(row, r.appeal_kind);
    });
    fillTable("forwards", c.forwards, (row, f) => {
      cell(row, f.forward_to, "wrap");
      cell(row, (f.due_at || f.due_date || "").replace("T", " ").slice(0, 16));
      cell(row, f.status);
    });
  }).catch((e) => console.warn(e));
}

// ------------------------------------------------------------------ the plot of the last minute
const VERDICT_COLOUR = {
  good: "#37b24d", degraded: "#f59f00", unintelligible: "#e03131", no_signal: "#c92a2a", silent: "#3d8bff",
};
const BAND = 14;

function drawPlot(m) {
  const canvas = document.getElementById("plot");
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
  if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "#f7f8fa";
  ctx.fillRect(0, 0, w, h);
  const top = 4, bottom = h - BAND - 4;
  ctx.strokeStyle = "#e3e6ea";
  ctx.lineWidth = 1;
  for (const f of [0, 0.5, 1]) {
    const y = bottom - f * (bottom - top);
    ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
  }
  const x = (t) => w * (1 - (m.now - t) / m.window_s);
  const samples = m.samples;
  // the verdict band: each sample's colour until the next sample
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const x0 = x(s.t), x1 = i + 1 < samples.length ? x(samples[i + 1].t) : w;
    ctx.fillStyle = s.verdict ? VERDICT_COLOUR[s.verdict] || "#868e96" : "#e9ecef";
    ctx.fillRect(Math.max(0, x0), h - BAND, Math.max(1, x1 - x0), BAND);
  }
  const line = (key, lo, hi, colour) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let pen = false;
    for (const s of samples) {
      const v = s[key];
      if (v === null || v === undefined) { pen = false; continue; }  // no call: a gap, not a stale value
      const y = bottom - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo) * (bottom - top);
      if (pen) ctx.lineTo(x(s.t), y); else ctx.moveTo(x(s.t), y);
      pen = true;
    }
    ctx.stroke();
  };
  line("speech_dbfs", -70, 0, "#8a8f98");
  line("score", 0, 1, "#1f6feb");
  const last = samples.length ? samples[samples.length - 1] : null;
  canvas.dataset.samples = String(samples.length);
  canvas.dataset.verdict = last && last.verdict ? last.verdict : "";
  canvas.dataset.band = String(BAND);
  canvas.setAttribute("aria-label", "Line over the last minute: " +
    (last && last.verdict ? `now ${last.verdict}` : "no call now"));
}

function pollPlot() {
  fetch("/api/meter").then((r) => r.json()).then(drawPlot).catch((e) => console.warn(e))
    .finally(() => setTimeout(pollPlot, 1000));
}

function connect() {
  const conn = document.getElementById("conn");
  const source = new EventSource("/api/events");
  source.addEventListener("state", (e) => {
    conn.dataset.state = "live";
    conn.textContent = "live";
    render(JSON.parse(e.data));
  });
  source.onerror = () => {
    conn.dataset.state = "lost";
    conn.textContent = "reconnecting…";  // EventSource retries by itself
  };
}

// ------------------------------------------------------------------ keys, keyboard, hook
const held = new Set();

function press(key) {
  if (held.has(key)) return;
  held.add(key);
  for (const b of document.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) b.classList.add("down");
  post("/api/key", { key, down: true }).catch((e) => console.warn(e));
}

function release(key) {
  if (!held.has(key)) return;
  held.delete(key);
  for (const b of document.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) b.classList.remove("down");
  post("/api/key", { key, down: false }).catch((e) => console.warn(e));
}

function wireKey(button) {
  const key = button.dataset.key;
  button.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    button.setPointerCapture(e.pointerId);
    press(key);
  });
  for (const ev of ["pointerup", "pointercancel", "lostpointercapture"]) {
    button.addEventListener(ev, () => release(key));
  }
  // Keyboard users on a focused button: Enter/Space act as a click (press and release).
  button.addEventListener("click", (e) => {
    if (e.detail === 0) { press(key); release(key); }
  });
}

function toggleHook() {
  const off = !(state && state.hook.off);
  post("/api/hook", { off }).catch((e) => console.warn(e));
}

function inFormControl(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLSelectElement
    || target instanceof HTMLTextAreaElement;
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || inFormControl(e.target)) return;
  if (e.target instanceof HTMLButtonElement && (e.key === "Enter" || e.key === " ")) return;
  if (e.key === " ") {
    e.preventDefault();
    if (!e.repeat) toggleHook();
    return;
  }
  const key = KEYBOARD[e.key];
  if (!key) return;
  e.preventDefault();
  if (!e.repeat) press(key);
});

document.addEventListener("keyup", (e) => {
  const key = KEYBOARD[e.key];
  if (key) release(key);
});

window.addEventListener("blur", () => { for (const key of [...held]) release(key); });

// ------------------------------------------------------------------ audio and server
function currentMode() {
  const choice = document.querySelector('input[name="mode"]:checked').value;
  if (choice === "noise") return "noise:" + document.getElementById("snr").value;
  if (choice === "loss") return "loss:" + document.getElementById("loss").value;
  if (choice === "wav") return document.getElementById("wav").value;
  return choice;
}

function sendMode() {
  const error = document.getElementById("audio-error");
  post("/api/audio", { mode: currentMode() })
    .then(() => { error.textContent = ""; })
    .catch((e) => { error.textContent = e.message; });
}

function selectMode(value) {
  document.querySelector(`input[name="mode"][value="${value}"]`).checked = true;
  sendMode();
}

function wireSide(info) {
  const wav = document.getElementById("wav");
  for (const name of info.wavs) wav.add(new Option(name, name));
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener("change", sendMode);
  const snr = document.getElementById("snr");
  const loss = document.getElementById("loss");
  snr.addEventListener("input", () => { document.getElementById("snr-out").textContent = snr.value + " dB"; });
  loss.addEventListener("input", () => {
    document.getElementById("loss-out").textContent = Math.round(loss.value * 100) + " %";
  });
  snr.addEventListener("change", () => selectMode("noise"));
  loss.addEventListener("change", () => selectMode("loss"));
  wav.addEventListener("change", () => selectMode("wav"));
  document.getElementById("server").addEventListener("change", (e) => {
    post("/api/server", { up: e.target.checked }).catch((err) => console.warn(err));
  });
}

async function main() {
  const [info, fontTable] = await Promise.all([
    fetch("/api/info").then((r) => r.json()),
    fetch("/api/font").then((r) => r.json()),
  ]);
  font = fontTable;
  document.getElementById("unit-id").textContent = `${info.unit} · ${info.cols}x${info.rows} · ROM ${info.rom}`;
  const keypad = document.getElementById("keypad");
  for (const row of info.keypad) {
    for (const key of row) {
      const b = document.createElement("button");
      b.className = "key";
      b.dataset.key = key;
      b.textContent = key;
      keypad.appendChild(b);
    }
  }
  for (const b of document.querySelectorAll("button.key")) wireKey(b);
  document.getElementById("hook").addEventListener("click", toggleHook);
  wireSide(info);
  wireClock(info);
  if (info.technician_pin) {
    document.getElementById("tech-pin").textContent = info.technician_pin;
    document.getElementById("tech").hidden = false;
  }
  connect();
  pollPlot();
}

main();
