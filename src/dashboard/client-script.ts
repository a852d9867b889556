/**
 * The page's script, inlined by render-page.ts. It keeps the page live:
 * server-sent events say when something changed, and the script fetches the
 * server-rendered fragments again (no rendering, hence no escaping, here:
 * text from the server goes in as HTML it escaped, log text as textContent).
 * Controls POST with the page's CSRF token.
 */
export const CLIENT_SCRIPT = String.raw`
(function(){
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var order = document.getElementById('order');
  var logTask = null, logProject = null, pending = null;
  function get(path){ return fetch(path, {credentials:'same-origin'}).then(function(r){ if(!r.ok) throw new Error(r.status); return r.text(); }); }
  function post(path, body){
    return fetch(path, {method:'POST', credentials:'same-origin', headers:{'content-type':'application/json','x-csrf-token':csrf}, body: JSON.stringify(body||{})})
      .then(function(r){ return r.json().then(function(j){ if(!r.ok) throw new Error(j.error || r.status); return j; }); });
  }
  function refresh(){
    if (pending) return; pending = setTimeout(function(){ pending = null;
      var base = location.pathname;
      get(base + '?fragment=sidebar').then(function(h){ document.getElementById('sidebar').innerHTML = h; }).catch(function(){});
      if (order.dataset.order) get(base + '?fragment=order').then(function(h){ order.innerHTML = h; }).catch(function(){});
      if (logTask) showLog(logProject, logTask);
    }, 80);
  }
  function refreshMachine(){ get(location.pathname + '?fragment=machine').then(function(h){ document.getElementById('machine').innerHTML = h; }).catch(function(){}); }
  function showLog(project, task){
    logTask = task; logProject = project;
    get('/api/tasks/' + encodeURIComponent(project) + '/' + encodeURIComponent(task) + '/log').then(function(t){
      var j = JSON.parse(t); var panel = document.getElementById('logpanel');
      document.getElementById('logtitle').textContent = task + (j.log ? ' — ' + j.log : ' — no log yet');
      var pre = document.getElementById('logtext'); pre.textContent = j.text; panel.hidden = false; pre.scrollTop = pre.scrollHeight;
    }).catch(function(){});
  }
  document.addEventListener('click', function(e){
    var b = e.target.closest ? e.target.closest('button[data-action]') : null; if (!b) return;
    var a = b.dataset.action, p = b.dataset.project, t = b.dataset.task;
    if (a === 'log') return showLog(p, t);
    if (a === 'closelog') { logTask = null; document.getElementById('logpanel').hidden = true; return; }
    var path = t ? '/api/tasks/' + encodeURIComponent(p) + '/' + encodeURIComponent(t) + '/' + a
                 : '/api/orders/' + encodeURIComponent(p) + '/' + encodeURIComponent(b.dataset.order) + '/' + a;
    if ((a === 'kill') && !confirm('Kill ' + t + '?')) return;
    b.disabled = true;
    post(path).then(refresh, function(err){ alert(a + ' failed: ' + err.message); b.disabled = false; });
  });
  var live = document.getElementById('live');
  function connect(){
    var es = new EventSource('/api/events');
    es.onopen = function(){ live.textContent = 'live'; live.className = 'on'; };
    es.addEventListener('change', refresh);
    es.addEventListener('machine', refreshMachine);
    es.onerror = function(){ live.textContent = 'reconnecting…'; live.className = ''; };
  }
  connect();
})();
`;
