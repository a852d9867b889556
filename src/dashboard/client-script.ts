/**
 * The page's script, inlined by render-page.ts. It keeps the page live and
 * true, and light on the wire:
 *
 * - on every (re)connection the server says `hello` and the page refetches
 *   its whole state (it may have missed changes while the server restarted or
 *   the phone slept), also when the page becomes visible again; without a
 *   sign of life for 40 s it reconnects; the indicator says "reconnecting…"
 *   while it is not live;
 * - between those, the server sends only what changed (`delta`): whole task
 *   rows, applied in place to the row that is there (the same element: a
 *   button under the pointer is never replaced by a copy, rows never move),
 *   and whole parts (header and counts, trend, workers, locks, failures),
 *   merged node by node (`patch`); `sidebar` and `machine` likewise (a machine
 *   sample is one point appended to each chart);
 * - running clocks (`data-since`) advance here, every second, so a running
 *   task costs nothing on the wire until it prints progress;
 * - the task list is filtered (text, collapse DONE) and paged on the server:
 *   the filter fetches the list again, "show more" fetches the next rows;
 * - no rendering, hence no escaping, here: HTML comes from the server, which
 *   escaped it; log text goes in as textContent;
 * - the log panel follows the end of the log only while it is scrolled to
 *   the bottom;
 * - controls POST with the page's CSRF token (the current server's, from
 *   `hello`), and the destructive ones ask first (`data-confirm`).
 */
export const CLIENT_SCRIPT = String.raw`
(function(){
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var order = document.getElementById('order');
  var logTask = null, logProject = null, pending = null, skew = 0, lastLog = 0, logTimer = null, bodyTimer = null, filterTimer = null;
  var PAGE = 200;
  // Deltas that arrive while a fragment of the order is being fetched: the fragment may have been
  // rendered before them, so they are applied again, in order, once it is in place.
  var fetching = 0, during = [];
  function fetchPart(url, put){
    fetching++;
    return get(url).then(function(h){ put(h); for (var i = 0; i < during.length; i++) applyDelta(during[i], true); tick(); })
      .catch(function(){}).then(function(){ if (--fetching === 0) during = []; });
  }
  function get(path){ return fetch(path, {credentials:'same-origin', cache:'no-store'}).then(function(r){ if(!r.ok) throw new Error(r.status); return r.text(); }); }
  function post(path, body){
    return fetch(path, {method:'POST', credentials:'same-origin', headers:{'content-type':'application/json','x-csrf-token':csrf}, body: JSON.stringify(body||{})})
      .then(function(r){ return r.json().then(function(j){ if(!r.ok) throw new Error(j.error || r.status); return j; }); });
  }
  function sameNode(a, b){ return a.nodeType === b.nodeType && a.nodeName === b.nodeName && (a.nodeType !== 1 || a.getAttribute('data-task') === b.getAttribute('data-task')); }
  function morph(a, b){
    if (a.nodeType === 3 || a.nodeType === 8) { if (a.nodeValue !== b.nodeValue) a.nodeValue = b.nodeValue; return; }
    var i, at;
    for (i = a.attributes.length - 1; i >= 0; i--) { at = a.attributes[i].name; if (!b.hasAttribute(at)) a.removeAttribute(at); }
    for (i = 0; i < b.attributes.length; i++) { at = b.attributes[i]; if (a.getAttribute(at.name) !== at.value) a.setAttribute(at.name, at.value); }
    if (a.tagName === 'BUTTON' && !b.hasAttribute('disabled')) a.disabled = false;
    patchChildren(a, b);
  }
  function patchChildren(a, b){
    var ac = a.childNodes, bc = Array.prototype.slice.call(b.childNodes), i;
    for (i = 0; i < bc.length; i++) {
      var x = ac[i], y = bc[i];
      if (!x) a.appendChild(y);
      else if (sameNode(x, y)) morph(x, y);
      else a.replaceChild(y, x);
    }
    while (a.childNodes.length > bc.length) a.removeChild(a.lastChild);
  }
  function parse(html){ var t = document.createElement('template'); t.innerHTML = html; return t.content; }
  function patch(el, html){ patchChildren(el, parse(html)); }
  function dur(s){
    if (s < 60) return s.toFixed(1) + 's';
    var m = Math.floor(s / 60);
    return m < 60 ? m + 'm' + String(Math.round(s % 60)).padStart(2, '0') + 's' : Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
  }
  function tick(){
    var now = Date.now() + skew, els = document.querySelectorAll('.el[data-since]'), i;
    for (i = 0; i < els.length; i++) { var t = dur(Math.max(0, now - Number(els[i].dataset.since)) / 1000); if (els[i].textContent !== t) els[i].textContent = t; }
  }
  setInterval(tick, 1000);
  function view(){ return order.dataset.view && order.dataset.view !== 'tasks' ? '&view=' + order.dataset.view : ''; }
  function isTasks(){ return !order.dataset.view || order.dataset.view === 'tasks'; }
  function filterQuery(){
    var q = document.getElementById('q'), h = document.getElementById('hidedone'), s = '';
    if (q && q.value.trim()) s += '&q=' + encodeURIComponent(q.value.trim());
    if (h && h.checked) s += '&done=hide';
    return s;
  }
  function loaded(){ return order.querySelectorAll('#rows tr[data-task]').length; }
  function part(name){ return order.querySelector('[data-part="' + name + '"]'); }
  function rowOf(id){ var rows = document.getElementById('rows'); return rows ? rows.querySelector('tr[data-task="' + CSS.escape(id) + '"]') : null; }
  /** The whole state: on (re)connection and when the page is shown again. */
  function refresh(){
    if (pending) return; pending = setTimeout(function(){ pending = null;
      var base = location.pathname;
      get(base + '?fragment=sidebar').then(function(h){ patch(document.getElementById('sidebar'), h); }).catch(function(){});
      // Rows that 'show more' appended while this was on its way would be dropped by it: ask again for as many.
      var limit = Math.max(PAGE, loaded());
      if (order.dataset.order) fetchPart(base + '?fragment=order' + view() + filterQuery() + '&limit=' + limit, function(h){ if (loaded() > limit) refresh(); else patch(order, h); });
      if (logTask) showLog(logProject, logTask, false);
    }, 80);
  }
  /** The task list again (the filter changed, or tasks were added). */
  function refreshTasks(limit, keep){
    if (!order.dataset.order || !isTasks()) return;
    var n = limit || PAGE;
    fetchPart(location.pathname + '?fragment=tasks' + filterQuery() + '&limit=' + n, function(h){
      // keep: as many rows as are shown (tasks were added); 'show more' may have appended some meanwhile.
      if (keep && loaded() > n) return refreshTasks(Math.max(PAGE, loaded()), true);
      var b = part('body'); if (b) patch(b, h);
    });
  }
  function refreshMachine(){ get(location.pathname + '?fragment=machine').then(function(h){ patch(document.getElementById('machine'), h); }).catch(function(){}); }
  function refreshAll(){ refresh(); refreshMachine(); }
  function applyDelta(d, again){
    if (d.project !== order.dataset.project || d.order !== order.dataset.order) return;
    if (!again && fetching) during.push(d);
    var i;
    for (i = 0; i < d.rows.length; i++) {
      var el = rowOf(d.rows[i][0]);
      if (el) { var nr = parse(d.rows[i][1]).querySelector('tr'); if (nr) morph(el, nr); }
    }
    for (i = 0; i < d.removed.length; i++) { var gone = rowOf(d.removed[i]); if (gone) gone.remove(); }
    for (var name in d.parts) { var p = part(name); if (p) patch(p, d.parts[name]); }
    if (again) return;
    if (d.added.length && isTasks()) refreshTasks(Math.max(PAGE, loaded()), true);
    if (!isTasks() && (d.rows.length || d.added.length || d.removed.length) && !bodyTimer) {
      bodyTimer = setTimeout(function(){ bodyTimer = null;
        get(location.pathname + '?fragment=order' + view()).then(function(h){ patch(order, h); }).catch(function(){});
      }, 1000);
    }
    tick();
    if (logTask && !logTimer) logTimer = setTimeout(function(){ logTimer = null; if (logTask) showLog(logProject, logTask, false); }, Math.max(0, 1000 - (Date.now() - lastLog)));
  }
  function addSample(p){
    var figs = document.querySelectorAll('#machine figure.chart'), i;
    for (i = 0; i < figs.length; i++) {
      var f = figs[i], v = p[f.dataset.key];
      if (v === null || v === undefined) continue;
      var base = Number(f.dataset.base), max = Number(f.dataset.max), poly = f.querySelector('polyline'), svg = f.querySelector('svg');
      var pts = (poly.getAttribute('points') || '').split(' ').filter(Boolean);
      pts.push(((p.t - base) / 1000).toFixed(1) + ',' + (120 - Math.min(v, max) / max * 120).toFixed(1));
      if (pts.length > 800) pts = pts.slice(-800);
      poly.setAttribute('points', pts.join(' '));
      var span = Math.min(3600000, Math.max(60000, p.t - base));
      svg.setAttribute('viewBox', ((p.t - span - base) / 1000).toFixed(1) + ' 0 ' + (span / 1000).toFixed(1) + ' 120');
      f.querySelector('figcaption b').textContent = v + (f.dataset.unit || '');
      f.querySelector('.axis span').textContent = '-' + (span >= 3600000 ? '60 min' : Math.round(span / 60000) + ' min');
    }
  }
  function showLog(project, task, opening){
    logTask = task; logProject = project; lastLog = Date.now();
    var panel = document.getElementById('logpanel'), pre = document.getElementById('logtext');
    if (opening) { pre.textContent = ''; document.getElementById('taskdetail').textContent = ''; }
    if (order.dataset.order) get(location.pathname + '?fragment=task&task=' + encodeURIComponent(task)).then(function(h){
      if (logTask === task) patch(document.getElementById('taskdetail'), h);
    }).catch(function(){});
    get('/api/tasks/' + encodeURIComponent(project) + '/' + encodeURIComponent(task) + '/log').then(function(t){
      if (logTask !== task) return;
      var j = JSON.parse(t);
      document.getElementById('logtitle').textContent = task + (j.log ? ' — ' + j.log : ' — no log yet');
      // Follow the end only when the reader is there already (or just opened it).
      var atEnd = opening || pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
      var keep = pre.scrollTop;
      if (pre.textContent !== j.text) pre.textContent = j.text;
      panel.hidden = false;
      pre.scrollTop = atEnd ? pre.scrollHeight : keep;
    }).catch(function(){});
  }
  function filterChanged(){
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function(){
      refreshTasks(PAGE);
      var u = new URL(location.href), q = document.getElementById('q'), h = document.getElementById('hidedone');
      if (q && q.value.trim()) u.searchParams.set('q', q.value.trim()); else u.searchParams.delete('q');
      if (h && h.checked) u.searchParams.set('done', 'hide'); else u.searchParams.delete('done');
      history.replaceState(null, '', u.pathname + u.search);
    }, 200);
  }
  document.addEventListener('input', function(e){ if (e.target.id === 'q') filterChanged(); });
  document.addEventListener('change', function(e){ if (e.target.id === 'hidedone') filterChanged(); });
  document.addEventListener('click', function(e){
    var b = e.target.closest ? e.target.closest('[data-action]') : null; if (!b) return;
    var a = b.dataset.action, p = b.dataset.project, t = b.dataset.task;
    if (a === 'log' || a === 'task') { e.preventDefault(); return showLog(p, t, true); }
    if (a === 'closelog') { logTask = null; document.getElementById('logpanel').hidden = true; return; }
    if (a === 'more') {
      b.disabled = true;
      return get(location.pathname + '?fragment=rows' + filterQuery() + '&offset=' + b.dataset.offset).then(function(h){
        var row = b.closest('tr'), rows = document.getElementById('rows');
        if (row) row.remove();
        rows.appendChild(parse(h)); tick();
      }, function(){ b.disabled = false; });
    }
    var path = t ? '/api/tasks/' + encodeURIComponent(p) + '/' + encodeURIComponent(t) + '/' + a
                 : '/api/orders/' + encodeURIComponent(p) + '/' + encodeURIComponent(b.dataset.order) + '/' + a;
    var ask = b.dataset.confirm;
    if (ask) {
      // The time lost as it is now, not as it was when the row was last sent.
      var clock = b.closest('tr') && b.closest('tr').querySelector('.el[data-since]');
      if (clock) ask = ask.replace(/\(([^()]*?) of work/, '(' + clock.textContent + ' of work');
      if (!confirm(ask)) return;
    }
    b.disabled = true;
    post(path, a === 'scale' ? {workers: Number(b.dataset.workers)} : {}).then(function(){ b.disabled = false; }, function(err){ alert(a + ' failed: ' + err.message); b.disabled = false; });
  });
  var live = document.getElementById('live'), es = null, lastSign = Date.now();
  function offline(){ live.textContent = 'reconnecting…'; live.className = 'off'; }
  function connect(){
    if (es) es.close();
    es = new EventSource('/api/events' + (order.dataset.order ? '?project=' + encodeURIComponent(order.dataset.project) + '&order=' + encodeURIComponent(order.dataset.order) : ''));
    lastSign = Date.now();
    es.addEventListener('hello', function(ev){
      try { var h = JSON.parse(ev.data); csrf = h.csrf || csrf; if (h.now) skew = h.now - Date.now(); } catch (_) {}
      lastSign = Date.now(); live.textContent = 'live'; live.className = 'on';
      refreshAll();
    });
    es.addEventListener('delta', function(ev){ lastSign = Date.now(); try { applyDelta(JSON.parse(ev.data)); } catch (_) { refresh(); } });
    es.addEventListener('sidebar', function(ev){ lastSign = Date.now(); try { patch(document.getElementById('sidebar'), JSON.parse(ev.data).html); } catch (_) {} });
    es.addEventListener('machine', function(ev){ lastSign = Date.now(); try { addSample(JSON.parse(ev.data)); } catch (_) {} });
    es.addEventListener('ping', function(){ lastSign = Date.now(); });
    es.onerror = function(){ offline(); if (es.readyState === 2) setTimeout(connect, 2000); };
  }
  // A stream that went quiet (a phone that slept, a dropped network) is not trusted: start again.
  setInterval(function(){ if (Date.now() - lastSign > 40000) { offline(); connect(); } }, 5000);
  document.addEventListener('visibilitychange', function(){
    if (document.visibilityState !== 'visible') return;
    if (!es || es.readyState === 2 || Date.now() - lastSign > 20000) connect(); else refreshAll();
  });
  connect();
})();
`;
