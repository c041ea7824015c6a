/*
 * The editors' labelling page (GET /label). Talks to the API of the origin
 * that serves it, with the bearer token typed in at sign-in: the token lives
 * in this tab's sessionStorage and travels only in the Authorization header,
 * never in a URL.
 *
 * Labels are kept in localStorage until the service has acknowledged them
 * (sent in batches of BATCH, or FLUSH_MS after the last one), so a reload or
 * a lost connection loses none. Keys: C clickbait, S substantive, X skip,
 * U undo. Every text from the service is written with textContent.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "sieve-token";
  var PENDING_KEY = "sieve-pending-labels";
  var BATCH = 10;
  var FLUSH_MS = 3000;
  var QUEUE_SIZE = 20;
  var SOURCE = "label-page";

  var queue = [];
  var position = 0;
  var history = [];  // {headline, label|null, sent}
  var counts = {labelled: 0, skipped: 0, sent: 0};
  var flushTimer = null;
  var flushing = null;
  var lastJob = null;

  function $(id) { return document.getElementById(id); }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function pending() {
    try {
      return JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
    } catch (ignored) {
      return [];
    }
  }

  function setPending(labels) { localStorage.setItem(PENDING_KEY, JSON.stringify(labels)); }

  function api(method, path, body) {
    var options = {method: method, headers: {"Authorization": "Bearer " + token()}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = data.error && data.error.message ? data.error.message : "HTTP " + response.status;
          var error = new Error(message);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function say(text) { $("status").textContent = text; }

  function showProgress() {
    $("progress").textContent = "labelled " + counts.labelled + " · skipped " + counts.skipped +
      " · sent " + counts.sent + " · waiting to be sent " + pending().length +
      " · left in this batch " + Math.max(queue.length - position, 0);
  }

  function show() {
    var item = queue[position];
    $("ngrams").textContent = "";
    if (!item) {
      $("headline").textContent = "Nothing left in this batch.";
      $("score").textContent = "";
      showProgress();
      return;
    }
    $("headline").textContent = item.headline;
    $("score").textContent = "p_clickbait " + item.p_clickbait.toFixed(3) + " (model says " +
      item.label + ")";
    (item.explanation || []).forEach(function (part) {
      var li = document.createElement("li");
      li.textContent = part.feature + " " + (part.weight > 0 ? "+" : "") + part.weight.toFixed(2);
      $("ngrams").appendChild(li);
    });
    showProgress();
  }

  function loadQueue() {
    var pool = $("pool").value || "unlabeled";
    return api("GET", "/v1/queue?pool=" + encodeURIComponent(pool) + "&n=" + QUEUE_SIZE)
      .then(function (answer) {
        var waiting = {};
        pending().forEach(function (label) { waiting[label.headline] = true; });
        queue = answer.items.filter(function (item) { return !waiting[item.headline]; });
        position = 0;
        say(answer.open + " headlines open in the " + answer.pool + " pool");
        show();
      }).catch(function (error) { say("could not load the queue: " + error.message); });
  }

  function clientId() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() :
      String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function flush() {
    // One request at a time; labels added meanwhile go in the next one. Each
    // label has a client_id, so a batch resent (after a reload, or an answer
    // that never came) is stored once.
    clearTimeout(flushTimer);
    flushTimer = null;
    if (flushing) {
      return flushing.then(flush);
    }
    var batch = pending();
    if (!batch.length) {
      return Promise.resolve();
    }
    flushing = api("POST", "/v1/labels", {labels: batch}).then(function () {
      var sent = {};
      batch.forEach(function (label) { sent[label.client_id] = true; });
      setPending(pending().filter(function (label) { return !sent[label.client_id]; }));
      history.forEach(function (entry) {
        if (entry.label && sent[entry.clientId]) {
          entry.sent = true;
        }
      });
      counts.sent += batch.length;
      showProgress();
    }).catch(function (error) {
      say("labels kept here, not sent yet: " + error.message);
    }).then(function () { flushing = null; });
    return flushing;
  }

  function scheduleFlush() {
    clearTimeout(flushTimer);  // FLUSH_MS after the last label, or at once for a full batch
    flushTimer = pending().length >= BATCH ? null : setTimeout(flush, FLUSH_MS);
    if (!flushTimer) {
      flush();
    }
  }

  function next() {
    position += 1;
    if (position >= queue.length) {
      flush().then(loadQueue);
    } else {
      show();
    }
  }

  function decide(label) {
    var item = queue[position];
    if (!item) {
      return;
    }
    var id = label ? clientId() : null;
    if (label) {
      setPending(pending().concat([{headline: item.headline, label: label, source: SOURCE,
                                    client_id: id}]));
      counts.labelled += 1;
      scheduleFlush();
    } else {
      counts.skipped += 1;
    }
    history.push({item: item, label: label, clientId: id, sent: false});
    next();
  }

  function undo() {
    var last = history.pop();
    if (!last) {
      return;
    }
    if (last.label && !last.sent) {
      setPending(pending().filter(function (label) { return label.client_id !== last.clientId; }));
      counts.labelled -= 1;
    } else if (last.label) {
      say("that label was sent already; label the headline again and the newest label counts");
      counts.labelled -= 1;
    } else {
      counts.skipped -= 1;
    }
    queue.splice(position, 0, last.item);
    show();
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    row.appendChild(td);
  }

  function showJob(job) {
    lastJob = job;
    $("comparison").hidden = false;
    var body = $("metrics");
    body.textContent = "";
    [["candidate " + job.version, job.candidate_metrics], ["active " + job.active_version,
      job.active_metrics]].forEach(function (pair) {
      var row = document.createElement("tr");
      var m = pair[1] || {};
      [pair[0], m.roc_auc, m.average_precision, m.precision, m.recall].forEach(function (v) {
        cell(row, v);
      });
      body.appendChild(row);
    });
    $("decision").textContent = job.decision + ": " + job.reason;
    var table = $("disagreements");
    table.textContent = "";
    (job.disagreements || []).forEach(function (d) {
      var row = document.createElement("tr");
      [d.headline, d.label, d.p_candidate, d.p_active].forEach(function (v) { cell(row, v); });
      table.appendChild(row);
    });
    $("promote").disabled = job.decision === "rejected" || job.decision === "promoted";
  }

  function watch(jobId) {
    api("GET", "/v1/jobs/" + encodeURIComponent(jobId)).then(function (job) {
      if (job.state === "queued" || job.state === "running") {
        $("job").textContent = "job " + jobId + ": " + job.state + ", " + (job.stage || "") +
          " (" + Math.round((job.progress || 0) * 100) + "%)";
        setTimeout(function () { watch(jobId); }, 500);
        return;
      }
      $("job").textContent = "job " + jobId + ": " + job.state +
        (job.error ? " (" + job.error + ")" : "");
      if (job.state === "succeeded") {
        showJob(job);
      }
    }).catch(function (error) { $("job").textContent = "job status unknown: " + error.message; });
  }

  function retrain() {
    flush().then(function () { return api("POST", "/v1/retrain"); }).then(function (answer) {
      $("job").textContent = "job " + answer.job + " queued";
      watch(answer.job);
    }).catch(function (error) { $("job").textContent = "retraining not started: " + error.message; });
  }

  function activate(version, what) {
    api("POST", "/v1/models/" + encodeURIComponent(version) + "/activate").then(function (a) {
      $("decision").textContent = what + ": " + a.active + " is active (was " + a.previous + ")";
      $("promote").disabled = true;
      loadQueue();
    }).catch(function (error) { $("decision").textContent = what + " failed: " + error.message; });
  }

  function loadPools() {
    return api("GET", "/v1/pools").then(function (answer) {
      var select = $("pool");
      select.textContent = "";
      Object.keys(answer.pools).forEach(function (name) {
        var pool = answer.pools[name];
        var option = document.createElement("option");
        option.value = name;
        option.disabled = !pool.available;
        option.textContent = name + (pool.available ? " (" + pool.count + ")" : " (not available)");
        select.appendChild(option);
      });
      var firstAvailable = Object.keys(answer.pools).filter(function (name) {
        return answer.pools[name].available;
      })[0];
      if (firstAvailable) {
        select.value = firstAvailable;
      }
    });
  }

  function enter() {
    return loadPools().then(function () {
      $("signin").hidden = true;
      $("work").hidden = false;
      return flush().then(loadQueue).then(function () { $("current").focus(); });
    });
  }

  function signIn(event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    enter().catch(function (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("signin-error").textContent = error.status === 401 ?
        "that token was not accepted" : "could not sign in: " + error.message;
    });
  }

  function signOut() {
    flush().then(function () {
      sessionStorage.removeItem(TOKEN_KEY);
      $("work").hidden = true;
      $("signin").hidden = false;
      $("token").focus();
    });
  }

  document.addEventListener("keydown", function (event) {
    if ($("work").hidden || event.ctrlKey || event.metaKey || event.altKey ||
        /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) {
      return;
    }
    var actions = {c: function () { decide("clickbait"); }, s: function () { decide("substantive"); },
                   x: function () { decide(null); }, u: undo};
    var action = actions[event.key.toLowerCase()];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("label-clickbait").addEventListener("click", function () { decide("clickbait"); });
  $("label-substantive").addEventListener("click", function () { decide("substantive"); });
  $("skip").addEventListener("click", function () { decide(null); });
  $("undo").addEventListener("click", undo);
  $("reload-queue").addEventListener("click", loadQueue);
  $("pool").addEventListener("change", loadQueue);
  $("retrain").addEventListener("click", retrain);
  $("promote").addEventListener("click", function () {
    if (lastJob) { activate(lastJob.version, "promoted"); }
  });
  $("rollback").addEventListener("click", function () {
    if (lastJob) { activate(lastJob.active_version, "rolled back"); }
  });

  if (token()) {
    enter().catch(function () { sessionStorage.removeItem(TOKEN_KEY); });
  } else {
    $("token").focus();
  }
}());
