// The app shell: on narrow screens the sidebar folds behind a "Menu" button (Escape closes it).
// Without JavaScript the sidebar stays a plain, scrollable list of links.
// Dialogs: a button `data-dialog-open="<id>"` opens `<dialog id="<id>">` as a modal (its first
// field focused); `data-dialog-close` inside a dialog closes it; Escape closes it too (native).
// A dialog whose id is the page's #hash opens on load, so "New program" links can point at it,
// and a link to "#<dialog id>" on the same page opens it.
//
// Toasts: the messages in `#flashes` (the flashes a redirect carries, rendered by _flashes.html
// with the `toast` macro of macros/components.html) show in the top right corner, are announced
// (role=status in an aria-live region; errors role=alert), and get a "Dismiss" button.
// Success and info toasts hide themselves after a few seconds (longer for longer text, paused
// while the pointer or the keyboard focus is on them); error toasts stay until dismissed.
// Any alert swapped into `#flashes` later (the problem alert of a refused htmx request) becomes
// a toast too. A server response to an htmx request shows one with a header:
//   HX-Trigger: {"toast": {"message": "Saved.", "level": "success"}}
// (level: success, info or error; default success).
//
// Tabs (`.tabs`, the `tabs` macro) never wrap: when they do not fit they scroll sideways, the
// current tab scrolled into view and the hidden end faded out.
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
      // a plain link to "#<dialog id>" on this page (an empty state's "New …") opens it too
      var link = event.target.closest('a[href^="#"]');
      if (link && link.getAttribute("href").length > 1) {
        var named = document.getElementById(link.getAttribute("href").slice(1));
        if (named && named.tagName === "DIALOG") {
          event.preventDefault();
          openDialog(named);
          return;
        }
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

  var TOAST_MS = 6000;
  var TOAST_MS_PER_CHAR = 40;

  function hideToast(toast) {
    if (toast.hidden) return;
    toast.hidden = true;
    toast.classList.remove("is-visible");
  }

  function upgradeToast(toast) {
    if (toast.getAttribute("data-toast-ready")) return;
    toast.setAttribute("data-toast-ready", "1");
    toast.classList.add("toast");
    var close = toast.querySelector("[data-toast-close]");
    if (!close) {
      close = document.createElement("button");
      close.type = "button";
      close.className = "toast-close";
      close.setAttribute("data-toast-close", "");
      close.setAttribute("aria-label", "Dismiss");
      close.textContent = "\u00d7";
      toast.appendChild(close);
    }
    close.hidden = false;
    toast.classList.add("is-visible");
    var error = toast.classList.contains("alert-error") || toast.getAttribute("role") === "alert";
    if (error) return;
    var wait = TOAST_MS + TOAST_MS_PER_CHAR * (toast.textContent || "").length;
    var timer = null;
    var held = false;
    function arm() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () {
        if (!held) hideToast(toast);
      }, wait);
    }
    function hold() { held = true; }
    function release() { held = false; arm(); }
    toast.addEventListener("mouseenter", hold);
    toast.addEventListener("mouseleave", release);
    toast.addEventListener("focusin", hold);
    toast.addEventListener("focusout", release);
    arm();
  }

  function upgradeToasts(region) {
    Array.prototype.forEach.call(region.querySelectorAll(".alert"), upgradeToast);
  }

  function showToast(message, level) {
    var region = document.getElementById("flashes");
    if (!region || !message) return;
    var kind = level === "error" || level === "info" ? level : "success";
    var toast = document.createElement("div");
    toast.className = "alert alert-" + kind;
    toast.setAttribute("role", kind === "error" ? "alert" : "status");
    var text = document.createElement("div");
    text.className = "toast-message";
    text.textContent = String(message);
    toast.appendChild(text);
    region.appendChild(toast);
    upgradeToast(toast);
  }

  function setUpToasts() {
    var region = document.getElementById("flashes");
    if (!region) return;
    document.documentElement.classList.add("has-toasts");
    upgradeToasts(region);
    if (window.MutationObserver) {
      new MutationObserver(function () { upgradeToasts(region); }).observe(region, { childList: true, subtree: true });
    }
    region.addEventListener("click", function (event) {
      var close = event.target.closest("[data-toast-close]");
      if (!close) return;
      var toast = close.closest(".alert");
      if (toast) hideToast(toast);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !region.contains(document.activeElement)) return;
      var toast = document.activeElement.closest(".alert");
      if (toast) hideToast(toast);
    });
    // HX-Trigger: {"toast": {...}} fires a "toast" event on the requesting element; it bubbles here
    document.addEventListener("toast", function (event) {
      var detail = event.detail || {};
      showToast(detail.message || detail.value, detail.level);
    });
  }

  window.coterieToast = showToast;

  // Tabs that do not fit scroll sideways: the current tab is scrolled into view, and while more
  // tabs hide past the right edge the row fades out there (class has-more), so none looks cut.
  function setUpTabs() {
    var rows = document.querySelectorAll(".tabs");
    if (!rows.length) return;
    function mark(row) {
      var more = row.scrollLeft + row.clientWidth < row.scrollWidth - 1;
      row.classList.toggle("has-more", more);
    }
    Array.prototype.forEach.call(rows, function (row) {
      var current = row.querySelector("[aria-current=page]");
      if (current && row.scrollWidth > row.clientWidth) {
        var right = current.offsetLeft + current.offsetWidth;
        if (right > row.clientWidth) row.scrollLeft = right - row.clientWidth + 48;
      }
      mark(row);
      row.addEventListener("scroll", function () { mark(row); }, { passive: true });
    });
    window.addEventListener("resize", function () {
      Array.prototype.forEach.call(rows, mark);
    });
  }

  function start() {
    setUp();
    setUpDialogs();
    setUpToasts();
    setUpTabs();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
