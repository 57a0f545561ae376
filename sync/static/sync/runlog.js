// The live log of a run page: Server-Sent Events when the server streams them (ASGI),
// else a JSON read of the lines after the last one every 2 s. Text only (textContent):
// a log line never becomes markup. The run's state (status, progress bar, counts in words,
// the error read for a merchant) follows too: the stream's "state" events, or each JSON read.
(function () {
  "use strict";
  var box = document.getElementById("run-log");
  if (!box) { return; }
  var last = parseInt(box.dataset.last || "0", 10);
  var state = document.getElementById("run-state");
  var status = state.querySelector(".run-status");
  var bar = document.querySelector("#run-progress progress");
  var counts = document.querySelector("#run-progress .run-counts");
  var errorBox = document.getElementById("run-error");
  var live = document.getElementById("run-live");
  var stop = document.getElementById("run-stop");

  function add(event) {
    if (event.seq <= last) { return; }
    last = event.seq;
    var empty = box.querySelector(".empty");
    if (empty) { empty.remove(); }
    var line = document.createElement("span");
    line.className = "line " + event.level;
    line.dataset.seq = event.seq;
    line.textContent = event.at.substring(11, 19) + " " + event.message;
    var atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    box.appendChild(line);
    box.appendChild(document.createTextNode("\n"));
    if (atBottom) { box.scrollTop = box.scrollHeight; }
  }
  function show(data) {
    status.textContent = data.status_text;
    status.className = "run-status status-" + data.status;
    state.dataset.status = data.status;
    if (bar) {
      if (data.percent === null || data.percent === undefined) {
        bar.removeAttribute("value");
      } else {
        bar.value = data.percent;
      }
    }
    counts.textContent = data.counts_text || counts.dataset.empty;
    if (data.error_text && errorBox.hidden) {
      // An error that came up while the page was open: its reading; reload for the link.
      errorBox.querySelector(".error-message").textContent = data.error_text;
      errorBox.hidden = false;
    }
    if (data.finished) {
      live.textContent = live.dataset.ended;
      if (stop) { stop.remove(); }
    }
  }
  function poll() {
    fetch(box.dataset.json + "?after=" + last, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        data.events.forEach(add);
        show(data);
        if (!data.finished || data.events.length) { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  if (box.dataset.finished) { return; }
  if (!window.EventSource) { poll(); return; }
  var source = new EventSource(box.dataset.stream + "?after=" + last);
  var opened = false;
  source.addEventListener("open", function () { opened = true; });
  source.addEventListener("line", function (e) { add(JSON.parse(e.data)); });
  source.addEventListener("state", function (e) { show(JSON.parse(e.data)); });
  source.addEventListener("end", function (e) {
    source.close();
    show(JSON.parse(e.data));
  });
  source.addEventListener("error", function () {
    // Under WSGI the stream never opens: read the JSON instead.
    if (!opened) { source.close(); poll(); }
  });
})();
