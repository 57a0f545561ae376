// The import page was drawn while its confirm was still running: once sync/progress.js
// marks the run finished, draw the page again, so that its header (the upload's status)
// and its rows (what was applied, or the form back after a refusal) are those of now.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  function finished() { return box.classList.contains("finished"); }
  if (finished()) { window.location.reload(); return; }
  new MutationObserver(function () {
    if (finished()) { window.location.reload(); }
  }).observe(box, {attributes: true, attributeFilter: ["class"]});
})();
