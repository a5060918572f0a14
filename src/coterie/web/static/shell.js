// The app shell: on narrow screens the sidebar folds behind a "Menu" button (Escape closes it).
// Without JavaScript the sidebar stays a plain, scrollable list of links.
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

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
