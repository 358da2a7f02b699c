// "Behind the scenes": a steady trickle of requests to the shop's API, from this browser, through
// the same door as every shopper. Each answer names the gateway pod that served it (x-served-by,
// x-shop-version) and the catalog pod the gateway asked (x-backend-served-by, x-backend-version).
// The tables and the timeline show pods appearing, draining and switching version, and every
// failed request.
(function () {
  "use strict";
  var script = document.currentScript;
  var rate = Number(script.dataset.rate) || 5;
  var history = Number(script.dataset.history) || 120;
  var GONE_AFTER_MS = 5000;
  var palette = ["#0969da", "#1a7f37", "#8250df", "#bf8700", "#0a7e8c", "#d1242f", "#6e7781", "#e16f24"];
  var colours = {};
  var counts = { sent: 0, ok: 0, failed: 0 };
  var pods = { gateway: {}, backend: {} };
  var paused = false;

  function colour(pod) {
    if (!(pod in colours)) colours[pod] = palette[Object.keys(colours).length % palette.length];
    return colours[pod];
  }

  function list(value) {
    return value ? value.split(",").map(function (s) { return s.trim(); }).filter(Boolean) : [];
  }

  function seen(table, pod, version) {
    var entry = table[pod] || (table[pod] = { answers: 0 });
    entry.answers += 1;
    entry.version = version || "?";
    entry.last = Date.now();
  }

  function square(title, fill, failed) {
    var box = document.getElementById("timeline");
    var span = document.createElement("span");
    span.title = title;
    if (failed) span.className = "fail"; else span.style.background = fill;
    box.appendChild(span);
    while (box.children.length > history) box.removeChild(box.firstChild);
  }

  function render(id, table) {
    var body = document.querySelector("#" + id + " tbody");
    var now = Date.now();
    var rows = Object.keys(table).sort().map(function (pod) {
      var e = table[pod];
      var tr = document.createElement("tr");
      tr.dataset.pod = pod;
      if (now - e.last > GONE_AFTER_MS) tr.className = "gone";
      var name = document.createElement("td");
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = colour(pod);
      name.appendChild(sw);
      name.appendChild(document.createTextNode(pod));
      tr.appendChild(name);
      [e.version, String(e.answers), Math.round((now - e.last) / 1000) + " s ago"].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      return tr;
    });
    body.replaceChildren.apply(body, rows);
  }

  function update() {
    document.getElementById("sent").textContent = counts.sent;
    document.getElementById("ok").textContent = counts.ok;
    var failedCount = document.getElementById("failed");
    failedCount.textContent = counts.failed;
    failedCount.className = counts.failed ? "failed" : "";
    render("gateway-pods", pods.gateway);
    render("backend-pods", pods.backend);
  }

  function failed(why) {
    counts.failed += 1;
    document.getElementById("last-failure").textContent = "last failure: " + why + " at " + new Date().toLocaleTimeString();
    square(why, null, true);
  }

  function ask() {
    if (paused) return;
    counts.sent += 1;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 5000);
    fetch("/api/v1/products?page_size=1", { cache: "no-store", signal: controller.signal })
      .then(function (answer) {
        clearTimeout(timer);
        if (!answer.ok) { failed("HTTP " + answer.status); return; }
        counts.ok += 1;
        var gateway = answer.headers.get("x-served-by") || "?";
        seen(pods.gateway, gateway, answer.headers.get("x-shop-version"));
        var backends = list(answer.headers.get("x-backend-served-by"));
        var versions = list(answer.headers.get("x-backend-version"));
        backends.forEach(function (pod, i) { seen(pods.backend, pod, versions[i]); });
        square(gateway + " → " + backends.join(", "), colour(gateway), false);
      })
      .catch(function (error) {
        clearTimeout(timer);
        failed(error.name === "AbortError" ? "no answer in 5 s" : "network error");
      })
      .then(update);
  }

  document.getElementById("pause").addEventListener("click", function (event) {
    paused = !paused;
    event.target.textContent = paused ? "Resume" : "Pause";
  });
  setInterval(ask, 1000 / rate);
  setInterval(update, 1000);
})();
