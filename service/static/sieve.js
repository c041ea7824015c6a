/*
 * headline-sieve portal script: hides (or marks) bait links in a page's link
 * blocks. Include it once, at the end of <body> or with `defer`:
 *
 *   <script src="https://SIEVE-HOST/static/sieve.js"
 *           data-endpoint="https://SIEVE-HOST/v1/score" defer></script>
 *
 * Attributes of the <script> tag (all optional):
 *   data-endpoint   URL of /v1/score (default: /v1/score on the script's host)
 *   data-mode       "hide" (default) or "mark": add data-sieve="clickbait" and
 *                   the class "sieve-clickbait" to each bait item, hide nothing
 *   data-timeout    milliseconds to wait for the service (default 1500)
 *   data-threshold  p_clickbait cut, 0..1 (default: the model's)
 *
 * Blocks: the elements marked data-sieve-block; on a page with none, lists
 * (ul/ol) of at least two headline links outside nav, header, footer and
 * article, found the way the server's filter does it, simplified.
 *
 * Fails open: if the service is unreachable, slow, or answers anything but a
 * well-formed result, the page is left exactly as it was. When done, the
 * script dispatches a "sieve:done" event on document with detail
 * {state: "applied" | "failed" | "skipped", bait: n}.
 *
 * No dependencies, no globals, nothing sent but the link texts.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch || !window.AbortController) {
    return;
  }
  var MAX_BATCH = 1000;
  var MIN_HEADLINE_CHARS = 8;
  var MARK_CLASS = "sieve-clickbait";
  var ITEM_SELECTOR = "li, dt, dd, tr";
  var EXCLUDED = "nav, header, footer, article, [role=navigation], [role=contentinfo]";
  var NAV_WORDS = /(^|[^a-z])(nav|menu|crumbs?|breadcrumbs?|footer|foot|copyright|pager|pagination)([^a-z]|$)/i;

  var endpoint = script.getAttribute("data-endpoint") || new URL("/v1/score", script.src).href;
  var mode = script.getAttribute("data-mode") === "mark" ? "mark" : "hide";
  var timeout = parseInt(script.getAttribute("data-timeout"), 10) || 1500;
  var threshold = parseFloat(script.getAttribute("data-threshold"));

  function done(state, bait) {
    try {
      document.dispatchEvent(new CustomEvent("sieve:done", {detail: {state: state, bait: bait}}));
    } catch (ignored) { /* an old browser without CustomEvent: nothing to tell */ }
  }

  function visibleText(element) {
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    var parts = [];
    while (walker.nextNode()) {
      if (!walker.currentNode.parentNode.closest("script, style, template, noscript")) {
        parts.push(walker.currentNode.nodeValue);
      }
    }
    return parts.join("").replace(/\s+/g, " ").trim();
  }

  function headlineLink(item) {
    var best = null;
    var links = item.matches("a[href]") ? [item] : item.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].closest("h1, h2, h3, h4, h5, h6") && !item.closest("h1, h2, h3, h4, h5, h6")) {
        continue;  // a block heading that is a link
      }
      var text = visibleText(links[i]);
      if (text && (!best || text.length > best.text.length)) {
        best = {text: text};
      }
    }
    return best;
  }

  function itemsOf(block) {
    var items = [];
    var seen = [];
    var links = block.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      var item = links[i].closest(ITEM_SELECTOR);
      if (!item || !block.contains(item) || item === block) {
        item = links[i];
      }
      if (seen.indexOf(item) >= 0) {
        continue;
      }
      seen.push(item);
      var link = headlineLink(item);
      if (link) {
        items.push({element: item, text: link.text});
      }
    }
    return items;
  }

  function excluded(element) {
    for (var node = element; node && node !== document.body; node = node.parentElement) {
      if (node.matches("aside")) {
        return false;
      }
      if (node.matches(EXCLUDED) || NAV_WORDS.test((node.id || "") + " " + (node.getAttribute("class") || ""))) {
        return true;
      }
    }
    return false;
  }

  function median(numbers) {
    var sorted = numbers.slice().sort(function (a, b) { return a - b; });
    var middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  function findBlocks() {
    var marked = document.querySelectorAll("[data-sieve-block]");
    var blocks = [];
    var i;
    if (marked.length) {
      for (i = 0; i < marked.length; i++) {
        if (!marked[i].parentElement.closest("[data-sieve-block]")) {
          blocks.push({element: marked[i], items: itemsOf(marked[i])});
        }
      }
      return blocks;
    }
    var lists = document.querySelectorAll("ul, ol");
    for (i = 0; i < lists.length; i++) {
      var items = itemsOf(lists[i]).filter(function (item) {
        return item.element.parentElement === lists[i];
      });
      if (items.length >= 2 && !excluded(lists[i]) &&
          median(items.map(function (item) { return item.text.length; })) >= MIN_HEADLINE_CHARS) {
        blocks.push({element: lists[i], items: items});
      }
    }
    return blocks;
  }

  function baitTexts(results, texts) {
    var bait = {};
    if (!results || !Array.isArray(results.results) || results.results.length !== texts.length) {
      throw new Error("unexpected answer");
    }
    for (var i = 0; i < texts.length; i++) {
      if (results.results[i].label === "clickbait") {
        bait[texts[i]] = true;
      }
    }
    return bait;
  }

  function act(element) {
    if (mode === "mark") {
      element.setAttribute("data-sieve", "clickbait");
      element.classList.add(MARK_CLASS);
    } else {
      element.setAttribute("data-sieve", "clickbait");
      element.style.setProperty("display", "none", "important");
    }
  }

  function apply(blocks, bait) {
    var count = 0;
    blocks.forEach(function (block) {
      var hits = block.items.filter(function (item) { return bait[item.text]; });
      hits.forEach(function (item) { act(item.element); });
      count += hits.length;
      if (mode === "hide" && hits.length && hits.length === block.items.length &&
          block.element.hasAttribute("data-sieve-block")) {
        act(block.element);  // an emptied marked block goes with its heading
      }
    });
    return count;
  }

  function run() {
    var blocks = findBlocks();
    var texts = [];
    blocks.forEach(function (block) {
      block.items.forEach(function (item) {
        if (texts.indexOf(item.text) < 0 && texts.length < MAX_BATCH) {
          texts.push(item.text);
        }
      });
    });
    if (!texts.length) {
      done("skipped", 0);
      return;
    }
    var body = {headlines: texts};
    if (threshold >= 0 && threshold <= 1) {
      body.threshold = threshold;
    }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeout);
    fetch(endpoint, {
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
    }).then(function (results) {
      clearTimeout(timer);
      if (controller.signal.aborted) {
        throw new Error("too late");
      }
      done("applied", apply(blocks, baitTexts(results, texts)));
    }).catch(function () {
      clearTimeout(timer);
      done("failed", 0);  // fail open: the page stays as it is
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
}());
