// Follows running jobs on the page without reloading it: every element with the class
// "job-progress" (a progress box) or "live-run" (a row of a runs table) reads its run's
// JSON (data-url) every 2 s until the run ends. Counts and errors come in words, in the
// page's language, from the server (counts_text, error_text). Text only (textContent).
(function () {
  "use strict";
  // One read per run, however many elements show it (a box and a table row).
  var followers = {};
  function follow(element, show) {
    var url = element.dataset.url;
    if (followers[url]) {
      followers[url].push([element, show]);
      return;
    }
    followers[url] = [[element, show]];
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          followers[url].forEach(function (pair) {
            pair[1](data);
            pair[0].dataset.status = data.status;
            if (data.finished) { pair[0].classList.add("finished"); }
          });
          if (!data.finished) { setTimeout(tick, 2000); }
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    tick();
  }
  function setBar(bar, data) {
    if (!bar) { return; }
    if (data.finished) {
      bar.remove();
    } else if (data.percent === null) {
      bar.removeAttribute("value");  // indeterminate: the total is not known yet
    } else {
      bar.value = data.percent;
    }
  }
  function showBox(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    return function (data) {
      if (data.finished) {
        bar.value = 100;
      } else if (data.percent === null) {
        bar.removeAttribute("value");
      } else {
        bar.value = data.percent;
      }
      var words = [data.status_text];
      if (data.phase) { words.push(data.phase); }
      if (data.counts_text) { words.push(data.counts_text); }
      if (data.error) { words.push(data.error_text || data.error); }
      text.textContent = words.join(" · ");
      if (data.finished) {
        var cancel = box.querySelector("form.cancel");
        if (cancel) { cancel.remove(); }
      }
    };
  }
  function showRow(row) {
    var status = row.querySelector(".run-status");
    var counts = row.querySelector(".run-counts");
    var error = row.querySelector(".run-error");
    return function (data) {
      status.textContent = data.status_text;
      status.className = "run-status status-" + data.status;
      setBar(row.querySelector("progress"), data);
      counts.textContent = data.counts_text;
      if (data.error_text) {
        error.textContent = data.error_text;
        error.title = data.error;
      }
      if (data.finished) { row.classList.remove("live-run"); }
    };
  }
  document.querySelectorAll(".job-progress").forEach(function (box) {
    follow(box, showBox(box));
  });
  document.querySelectorAll("tr.live-run").forEach(function (row) {
    follow(row, showRow(row));
  });
})();
