/*
 * headline-sieve portal script: hides (or marks) the bait items of a page's
 * headline blocks, the way a content blocker does it. Include it once, at the
 * end of <body> or with `defer`:
 *
 *   <script src="https://SIEVE-HOST/static/sieve.js"
 *           data-endpoint="https://SIEVE-HOST/v1/filter" defer></script>
 *
 * Attributes of the <script> tag (all optional):
 *   data-endpoint   URL of /v1/filter (default: /v1/filter on the script's host)
 *   data-mode       "hide" (default) or "mark": add data-sieve="clickbait" and
 *                   the class "sieve-clickbait" to each bait item, hide nothing
 *   data-timeout    milliseconds to wait for the service (default 1500)
 *   data-threshold  p_clickbait cut, 0..1 (default: the model's)
 *
 * One source of truth: the script does not look for blocks itself. It sends
 * a copy of the page (script and style contents emptied, every a[href]
 * numbered with data-sieve-link in the copy only) to /v1/filter?mode=report;
 * the server finds the blocks with its rules, scores the links, and answers,
 * for each item, where it sits relative to a numbered link. The script then
 * acts on exactly those elements of the live page.
 *
 * Hiding never removes a node: bait items get the attribute data-sieve-hide,
 * and one injected stylesheet hides [data-sieve-hide]. A MutationObserver
 * notices headline links added later (a feed that appends items); its
 * callback only schedules a rescan for the next animation frame, and a
 * rescan that finds no new links sends nothing.
 *
 * Fails open: if the service is unreachable, slow, or answers anything but a
 * well-formed report, the page is left as it was. After each scan the script
 * dispatches a "sieve:done" event on document with detail
 * {state: "applied" | "failed" | "skipped", bait: n, scan: k}.
 *
 * No dependencies, no globals.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch || !window.AbortController || !window.MutationObserver) {
    return;
  }
  var LINK_NUMBER = "data-sieve-link";
  var HIDE = "data-sieve-hide";
  var MARK_CLASS = "sieve-clickbait";
  var INERT = "script, style, noscript, template";

  var endpoint = script.getAttribute("data-endpoint") || new URL("/v1/filter", script.src).href;
  var mode = script.getAttribute("data-mode") === "mark" ? "mark" : "hide";
  var timeout = parseInt(script.getAttribute("data-timeout"), 10) || 1500;
  var threshold = parseFloat(script.getAttribute("data-threshold"));

  var sent = new WeakSet();   // links already sent to the service
  var scans = 0;
  var running = false;
  var pending = false;        // links were added while a scan ran
  var scheduled = false;
  var styled = false;

  function done(state, bait) {
    try {
      document.dispatchEvent(new CustomEvent("sieve:done",
        {detail: {state: state, bait: bait, scan: scans}}));
    } catch (ignored) { /* an old browser without CustomEvent: nothing to tell */ }
  }

  function copyOfPage(links) {
    var copy = document.documentElement.cloneNode(true);
    var copied = copy.querySelectorAll("a[href]");
    if (copied.length !== links.length) {
      throw new Error("the copy does not match the page");
    }
    for (var i = 0; i < copied.length; i++) {
      copied[i].setAttribute(LINK_NUMBER, String(i));
    }
    var inert = copy.querySelectorAll(INERT);
    for (var j = 0; j < inert.length; j++) {
      inert[j].textContent = "";
    }
    return "<!DOCTYPE html>" + copy.outerHTML;
  }

  function resolve(locator, links) {
    var node = links[Number(locator.link)];
    for (var up = 0; node && up < locator.up; up++) {
      node = node.parentElement;
    }
    for (var before = 0; node && before < locator.before; before++) {
      node = node.previousElementSibling;
    }
    return node && node !== document.body && node !== document.documentElement ? node : null;
  }

  function hideStyle() {
    if (!styled) {
      var style = document.createElement("style");
      style.setAttribute("data-sieve-style", "");
      style.textContent = "[" + HIDE + "]{display:none !important}";
      (document.head || document.documentElement).appendChild(style);
      styled = true;
    }
  }

  function act(element) {
    if (mode === "mark") {
      element.setAttribute("data-sieve", "clickbait");
      element.classList.add(MARK_CLASS);
    } else {
      hideStyle();
      element.setAttribute(HIDE, "");
    }
  }

  function checked(report) {
    if (!report || !Array.isArray(report.blocks)) {
      throw new Error("unexpected answer");
    }
    report.blocks.forEach(function (block) {
      if (!Array.isArray(block.links)) {
        throw new Error("unexpected answer");
      }
    });
    return report;
  }

  function apply(report, links) {
    var count = 0;
    report.blocks.forEach(function (block) {
      var bait = block.links.filter(function (link) {
        return link.label === "clickbait" && link.locator;
      });
      var elements = bait.map(function (link) { return resolve(link.locator, links); })
        .filter(Boolean);
      elements.forEach(act);
      count += elements.length;
      if (mode === "hide" && bait.length && bait.length === block.links.length &&
          Array.isArray(block.removal)) {
        block.removal.map(function (locator) { return resolve(locator, links); })
          .filter(Boolean).forEach(act);  // an emptied block goes with its heading
      }
    });
    return count;
  }

  function request(html) {
    var body = {html: html};
    if (threshold >= 0 && threshold <= 1) {
      body.threshold = threshold;
    }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeout);
    return fetch(new URL("?mode=report", endpoint).href, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
      signal: controller.signal
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }).then(function (report) {
      clearTimeout(timer);
      if (controller.signal.aborted) {
        throw new Error("too late");
      }
      return checked(report);
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  function scan() {
    scheduled = false;
    if (running) {
      pending = true;
      return;
    }
    var links = Array.prototype.slice.call(document.querySelectorAll("a[href]"));
    var fresh = links.filter(function (link) { return !sent.has(link); });
    if (scans && !fresh.length) {
      return;  // nothing changed since the last scan: nothing to send
    }
    scans += 1;
    var html;
    try {
      html = copyOfPage(links);
    } catch (error) {
      done("failed", 0);
      return;
    }
    fresh.forEach(function (link) { sent.add(link); });
    if (!links.length) {
      done("skipped", 0);
      return;
    }
    running = true;
    request(html).then(function (report) {
      done("applied", apply(report, links));
    }).catch(function () {
      done("failed", 0);  // fail open: the page stays as it is
    }).then(function () {
      running = false;
      if (pending) {
        pending = false;
        schedule();
      }
    });
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(scan);
    }
  }

  function addsLinks(node) {
    return node.nodeType === 1 && !node.closest("head, " + INERT) &&
      (node.matches("a[href]") || node.querySelector("a[href]") !== null);
  }

  var observer = new MutationObserver(function (mutations) {
    // Only look at what was added and schedule; the work happens in scan().
    for (var i = 0; i < mutations.length; i++) {
      var added = mutations[i].addedNodes;
      for (var j = 0; j < added.length; j++) {
        if (addsLinks(added[j])) {
          schedule();
          return;
        }
      }
    }
  });

  function start() {
    observer.observe(document.body || document.documentElement, {childList: true, subtree: true});
    scan();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
