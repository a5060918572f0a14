// The app shell: on narrow screens the sidebar folds behind a "Menu" button (Escape closes it).
// Without JavaScript the sidebar stays a plain, scrollable list of links.
// Dialogs: a button `data-dialog-open="<id>"` opens `<dialog id="<id>">` as a modal (its first
// field focused); `data-dialog-close` inside a dialog closes it; Escape closes it too (native).
// A dialog whose id is the page's #hash opens on load, so "New program" links can point at it.
(function () {
  if (window.coterieShell) return;
  window.coterieShell = true;

  function setUp() {
    var button = document.getElementById("menu-button");
    var sidebar = document.getElementById("sidebar");
    if (!button || !sidebar) return;
    document.body.classList.add("has-menu-button");
    button.hidden = false;

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      document.body.classList.toggle("is-menu-open", open);
    }

    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      setOpen(open);
      if (open) {
        var current = sidebar.querySelector("[aria-current=page]") || sidebar.querySelector("a");
        if (current) current.focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (button.getAttribute("aria-expanded") !== "true") return;
      if (sidebar.contains(event.target) || button.contains(event.target)) return;
      setOpen(false);
    });
  }

  function openDialog(dialog) {
    if (!dialog || typeof dialog.showModal !== "function" || dialog.open) return;
    dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function setUpDialogs() {
    document.addEventListener("click", function (event) {
      var opener = event.target.closest("[data-dialog-open]");
      if (opener) {
        event.preventDefault();
        openDialog(document.getElementById(opener.getAttribute("data-dialog-open")));
        return;
      }
      var closer = event.target.closest("[data-dialog-close]");
      if (closer) {
        var dialog = closer.closest("dialog");
        if (dialog) {
          event.preventDefault();
          dialog.close();
        }
      }
    });
    if (window.location.hash.length > 1) {
      var target = document.getElementById(window.location.hash.slice(1));
      if (target && target.tagName === "DIALOG") openDialog(target);
    }
  }

  function start() {
    setUp();
    setUpDialogs();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
