// "New …" dialogs (records/_new_dialog.html). shell.js opens a dialog named by the URL's #hash
// and focuses its first field, but Chromium then scrolls to the #fragment once the page has
// loaded and, the <dialog> not being focusable, clears the focus: put it back on the first
// field. After the server sent the form back with errors, focus the first field in error.
(function () {
  if (window.coterieNewRecordForms) return;
  window.coterieNewRecordForms = true;

  function firstField(root, selector) {
    return root.querySelector(selector || "input:not([type=hidden]), select, textarea");
  }

  function refocus() {
    var dialog = document.querySelector("dialog.new-record-dialog[open]");
    if (!dialog) return;
    var active = document.activeElement;
    if (active && active !== dialog && dialog.contains(active) && active.tagName !== "BUTTON") return;
    var field = firstField(dialog, "[aria-invalid=true]") || firstField(dialog);
    if (field) field.focus();
  }

  window.addEventListener("load", function () {
    setTimeout(refocus, 0);
    setTimeout(refocus, 150);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog.new-record-dialog");
    if (!dialog) return;
    var field = firstField(dialog, "[aria-invalid=true]");
    if (field) field.focus();
  });
})();
