// The live log of a run page: Server-Sent Events when the server streams them (ASGI),
// else a JSON read of the lines after the last one every 2 s. Text only (textContent):
// a log line never becomes markup.
(function () {
  "use strict";
  var box = document.getElementById("run-log");
  if (!box) { return; }
  var last = parseInt(box.dataset.last || "0", 10);
  var status = document.querySelector("#run-state .run-status");
  var counts = document.querySelector("#run-state .run-counts");
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
  function ended(state) {
    status.textContent = state.status_text;
    counts.textContent = Object.keys(state.counts).map(function (k) {
      return k + " " + state.counts[k];
    }).join(", ");
    document.getElementById("run-state").dataset.status = state.status;
    if (state.finished) {
      live.textContent = live.dataset.ended;
      if (stop) { stop.remove(); }
    }
  }
  function poll() {
    fetch(box.dataset.json + "?after=" + last, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        data.events.forEach(add);
        ended(data);
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
  source.addEventListener("end", function (e) {
    source.close();
    var state = JSON.parse(e.data);
    ended(state);
  });
  source.addEventListener("error", function () {
    // Under WSGI the stream never opens: read the JSON instead.
    if (!opened) { source.close(); poll(); }
  });
})();
