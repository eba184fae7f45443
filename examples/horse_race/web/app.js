// The race page: applies the Server-Sent Events of /events
// (examples/horse_race/src/race_web_state.h) to the DOM.
//   state: {"progress":{...},"races":[...],"running":[ids],"done":bool}
//   chart: the late-surge chart, an SVG document
// <body data-updates> counts state events, data-probability-updates those
// with a running race's probabilities, data-done is 1 once the demo ended.
'use strict';

// The charts' palette (svg::palette_colour(), src/common/svg.cc): Okabe and Ito's colour-blind-safe seven,
// then seven more that stay apart from them. A runner keeps its colour by number.
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#000000',
                 '#8db600', '#c2b280', '#be0032', '#654522', '#f99379', '#7f7f7f', '#9467bd'];
const RESULTS_SHOWN = 12;

const racesBox = document.getElementById('races');
const cards = new Map();  // race id -> card element
let updates = 0;
let probabilityUpdates = 0;
let done = false;

function colour(horse) { return PALETTE[(Math.max(1, horse) - 1) % PALETTE.length]; }
function percent(p) { return (100 * p).toFixed(1) + '%'; }
function ms(us) { return us >= 999950 ? (us / 1e6).toFixed(2) + ' s' : (us / 1000).toFixed(1) + ' ms'; }

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setStatus(text, className) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = 'status ' + className;
}

// The same figures as the terminal's progress line.
function showProgress(p) {
  const races = p.total > 0 ? `races ${p.finished}/${p.total} finished` : `races ${p.finished} finished`;
  document.getElementById('progress-races').textContent = races;
  document.getElementById('progress-rate').textContent = `${Math.round(p.per_s)} rankings/s`;
  document.getElementById('progress-latency').textContent =
      p.p50_us > 0 ? `latency p50 ${ms(p.p50_us)} p99 ${ms(p.p99_us)}` : 'latency p50 - p99 -';
  document.getElementById('progress-fill').style.width = p.total > 0 ? percent(p.finished / p.total) : '0%';
}

// A race's card, created in race order so that no card moves while it runs.
function card(id) {
  let c = cards.get(id);
  if (c) return c;
  c = element('article', 'race');
  c.dataset.race = id;
  const head = element('div', 'race-head');
  head.append(element('h3', '', `Race ${id}`), element('span', 'race-meta'));
  c.append(head, element('div', 'track'), element('div', 'probs'));
  const waiting = document.getElementById('waiting');
  if (waiting) waiting.remove();
  let before = null;
  for (const [other, otherCard] of cards) {
    if (other > id && (!before || other < Number(before.dataset.race))) before = otherCard;
  }
  racesBox.insertBefore(c, before);
  cards.set(id, c);
  return c;
}

function showRace(r) {
  const c = card(r.race);
  c.querySelector('.race-meta').textContent =
      `${Math.round(r.distance)} m · ${r.contestants} runners · t=${r.t.toFixed(1)} s · leader ${percent(r.leader)}`;
  // The track: one lane per runner, in number order; the dot at its share of the distance.
  const track = c.querySelector('.track');
  const byNumber = [...r.runners].sort((a, b) => a.horse - b.horse);
  while (track.children.length < byNumber.length) {
    const lane = element('div', 'lane');
    lane.append(element('div', 'runner'));
    track.append(lane);
  }
  byNumber.forEach((runner, i) => {
    const dot = track.children[i].firstChild;
    dot.dataset.horse = runner.horse;
    dot.textContent = runner.horse;
    dot.style.background = colour(runner.horse);
    dot.style.left = percent(r.distance > 0 ? Math.min(1, runner.d / r.distance) : 0);
    dot.classList.toggle('fin', runner.fin);
    dot.title = `#${runner.horse}: position ${runner.pos}, ${percent(runner.p)}`;
  });
  // The bars, in board order (as sent): the favourite first.
  const probs = c.querySelector('.probs');
  probs.replaceChildren();
  r.runners.forEach((runner, i) => {
    const label = element('span', i === 0 ? 'prob-horse fav' : 'prob-horse', `#${runner.horse}`);
    const bar = element('div', 'prob-bar');
    const fill = element('div', 'prob-fill');
    fill.style.width = percent(runner.p);
    fill.style.background = colour(runner.horse);
    bar.append(fill);
    bar.dataset.horse = runner.horse;
    bar.dataset.p = runner.p;
    probs.append(label, bar, element('span', 'prob-pct', percent(runner.p)));
  });
}

function showResult(r) {
  const c = cards.get(r.race);
  if (c) {
    c.remove();
    cards.delete(r.race);
  }
  const list = document.getElementById('results');
  const item = element('li');
  item.dataset.race = r.race;
  item.append(element('strong', '', `Race ${r.race}`));
  r.runners.forEach((runner, i) => {
    const isWinner = r.winner !== 0 && runner.horse === r.winner;
    if (i >= 3 && !isWinner) return;
    item.append(' ', element('span', isWinner ? 'winner' : '', `${i + 1}. #${runner.horse}${isWinner ? ' ★' : ''}`));
  });
  list.prepend(item);
  while (list.children.length > RESULTS_SHOWN) list.lastChild.remove();
}

function showChart(svg) {
  document.getElementById('chart').innerHTML = svg.replace(/^<\?xml[^>]*>\s*/, '');
  document.getElementById('chart-section').hidden = false;
}

function applyState(state) {
  if (state.progress) showProgress(state.progress);
  let probabilities = false;
  for (const r of state.races) {
    if (r.finished) {
      showResult(r);
    } else {
      showRace(r);
      probabilities = true;
    }
  }
  // Races that ended while this page was away (e.g. reconnecting).
  const running = new Set(state.running);
  for (const [id, c] of cards) {
    if (!running.has(id)) {
      c.remove();
      cards.delete(id);
    }
  }
  document.body.dataset.updates = ++updates;
  if (probabilities) document.body.dataset.probabilityUpdates = ++probabilityUpdates;
  if (state.done) {
    done = true;
    document.body.dataset.done = 1;
    setStatus('demo finished', 'done');
  } else {
    setStatus('live', 'live');
  }
}

const events = new EventSource('/events');
events.addEventListener('state', (e) => applyState(JSON.parse(e.data)));
events.addEventListener('chart', (e) => showChart(e.data));
events.onerror = () => {
  if (done) {
    events.close();  // the stream ends with the demo: do not reconnect
  } else {
    setStatus('connection lost, retrying', 'lost');
  }
};
