// Follows running jobs on the page without reloading it: every element with the
// class "job-progress" polls its run's JSON (data-url) every 2 s until the run ends.
(function () {
  "use strict";
  function follow(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    function show(data) {
      if (data.percent === null) {
        bar.removeAttribute("value");  // indeterminate: the total is not known yet
      } else {
        bar.value = data.percent;
      }
      var counts = Object.keys(data.counts).map(function (k) { return k + " " + data.counts[k]; });
      var words = [data.status_text];
      if (data.phase) { words.push(data.phase); }
      if (counts.length) { words.push(counts.join(", ")); }
      if (data.error) { words.push(data.error); }
      text.textContent = words.join(" · ");
      box.dataset.status = data.status;
      if (data.finished) {
        box.classList.add("finished");
        var cancel = box.querySelector("form.cancel");
        if (cancel) { cancel.remove(); }
      }
    }
    function tick() {
      fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          show(data);
          if (!data.finished) { setTimeout(tick, 2000); }
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    tick();
  }
  document.querySelectorAll(".job-progress").forEach(follow);
})();
