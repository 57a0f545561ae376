// The header's language switch submits itself when a language is picked (an external
// script: the Content-Security-Policy allows no inline handlers).
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("language-select");
  if (select) {
    select.addEventListener("change", () => select.form.submit());
  }
});
