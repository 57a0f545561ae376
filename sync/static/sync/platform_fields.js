// The store form: only the credentials of the chosen platform are shown (the others
// would not be saved). Without this script every platform's fieldset stays visible.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("id_platform_type");
  const fieldsets = document.querySelectorAll("fieldset.platform-credentials");
  if (!select || select.tagName !== "SELECT" || fieldsets.length < 2) {
    return;
  }
  const show = () => {
    fieldsets.forEach((fieldset) => {
      const chosen = fieldset.classList.contains(`platform-${select.value}`);
      fieldset.hidden = !chosen;
      fieldset.querySelectorAll("input").forEach((input) => {
        input.disabled = !chosen;
      });
    });
  };
  select.addEventListener("change", show);
  show();
});
