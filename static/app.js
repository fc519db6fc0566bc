// kycdesk progressive enhancement: everything works without this file.
// Copy buttons (data-copy) do nothing without it, so app.css shows them only under html.js.
document.documentElement.classList.add("js");
// Forms and buttons with data-confirm ask before they submit (destructive actions).
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var msg = form.getAttribute("data-confirm") || (ev.submitter && ev.submitter.getAttribute("data-confirm"));
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
// Buttons with data-copy copy the text of the element they name.
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  var el = document.getElementById(btn.getAttribute("data-copy"));
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      btn.textContent = "Copied";
    });
  }
});
