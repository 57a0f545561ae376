// Follows a running job on the page: polls its JSON every 2 s, no reload.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");
  function tick() {
    fetch(box.dataset.url, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.percent !== null) { bar.value = data.percent; }
        var counts = Object.keys(data.counts).map(function (k) { return k + " " + data.counts[k]; });
        text.textContent = data.status + (counts.length ? ": " + counts.join(", ") : "");
        if (!data.finished) { setTimeout(tick, 2000); } else { bar.value = 100; }
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  tick();
})();
