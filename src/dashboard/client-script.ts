/**
 * The page's script, inlined by render-page.ts. It keeps the page live and
 * true:
 *
 * - server-sent events say when something changed, and the script fetches
 *   the server-rendered fragments again (no rendering, hence no escaping,
 *   here: text from the server goes in as HTML it escaped, log text as
 *   textContent);
 * - a fetched fragment is merged into the page node by node (`patch`): what
 *   did not change stays the same element, so a button under the pointer is
 *   not replaced by a copy while it is clicked, and rows keep their place;
 * - on every (re)connection the server says `hello` and the page refetches
 *   everything (it may have missed changes while the server restarted or the
 *   phone slept), also when the page becomes visible again; without a sign of
 *   life for 40 s it reconnects; the indicator says "reconnecting…" while
 *   it is not live;
 * - the log panel follows the end of the log only while it is scrolled to
 *   the bottom;
 * - controls POST with the page's CSRF token (the current server's, from
 *   `hello`), and the destructive ones ask first (`data-confirm`).
 */
export const CLIENT_SCRIPT = String.raw`
(function(){
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var order = document.getElementById('order');
  var logTask = null, logProject = null, pending = null;
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
  function patch(el, html){ var t = document.createElement('template'); t.innerHTML = html; patchChildren(el, t.content); }
  function view(){ return order.dataset.view && order.dataset.view !== 'tasks' ? '&view=' + order.dataset.view : ''; }
  function refresh(){
    if (pending) return; pending = setTimeout(function(){ pending = null;
      var base = location.pathname;
      get(base + '?fragment=sidebar').then(function(h){ patch(document.getElementById('sidebar'), h); }).catch(function(){});
      if (order.dataset.order) get(base + '?fragment=order' + view()).then(function(h){ patch(order, h); }).catch(function(){});
      if (logTask) showLog(logProject, logTask, false);
    }, 80);
  }
  function refreshMachine(){ get(location.pathname + '?fragment=machine').then(function(h){ patch(document.getElementById('machine'), h); }).catch(function(){}); }
  function refreshAll(){ refresh(); refreshMachine(); }
  function showLog(project, task, opening){
    logTask = task; logProject = project;
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
  document.addEventListener('click', function(e){
    var b = e.target.closest ? e.target.closest('[data-action]') : null; if (!b) return;
    var a = b.dataset.action, p = b.dataset.project, t = b.dataset.task;
    if (a === 'log' || a === 'task') { e.preventDefault(); return showLog(p, t, true); }
    if (a === 'closelog') { logTask = null; document.getElementById('logpanel').hidden = true; return; }
    var path = t ? '/api/tasks/' + encodeURIComponent(p) + '/' + encodeURIComponent(t) + '/' + a
                 : '/api/orders/' + encodeURIComponent(p) + '/' + encodeURIComponent(b.dataset.order) + '/' + a;
    if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
    b.disabled = true;
    post(path, a === 'scale' ? {workers: Number(b.dataset.workers)} : {}).then(refresh, function(err){ alert(a + ' failed: ' + err.message); b.disabled = false; });
  });
  var live = document.getElementById('live'), es = null, lastSign = Date.now();
  function offline(){ live.textContent = 'reconnecting…'; live.className = 'off'; }
  function connect(){
    if (es) es.close();
    es = new EventSource('/api/events');
    lastSign = Date.now();
    es.addEventListener('hello', function(ev){
      try { csrf = JSON.parse(ev.data).csrf || csrf; } catch (_) {}
      lastSign = Date.now(); live.textContent = 'live'; live.className = 'on';
      refreshAll();
    });
    es.addEventListener('change', function(){ lastSign = Date.now(); refresh(); });
    es.addEventListener('machine', function(){ lastSign = Date.now(); refreshMachine(); });
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
