// The pipeline: drag-and-drop on the board (SortableJS), chevrons that scroll to their column,
// and the record table's open panels.
// Dropping a card on another column posts the same move as its "Move to…" form, with the state
// version as If-Match; the server answers the re-rendered board (counts and totals included)
// and a message for the live region. A refused move re-renders the card where it was.
(function () {
  if (window.coteriePipeline) return;
  window.coteriePipeline = true;

  function announce(text, isError) {
    var status = document.getElementById("board-status");
    if (!status) return;
    var box = document.createElement("div");
    box.className = "alert " + (isError ? "alert-error" : "alert-info");
    if (isError) box.setAttribute("role", "alert");
    box.textContent = text;
    status.replaceChildren(box);
  }

  function putBack(card, from, index) {
    if (card.parentNode) card.parentNode.removeChild(card);
    from.insertBefore(card, from.children[index] || null);
  }

  function onDrop(event) {
    var card = event.item;
    var from = event.from;
    var to = event.to;
    if (from === to) {  // the order inside a column is the board's (by close date)
      putBack(card, from, event.oldIndex);
      return;
    }
    var column = to.closest("[data-stage]");
    var form = card.querySelector("form.move-form");
    var title = (card.querySelector(".deal-title") || card).textContent.trim();
    if (!column || !form || to.getAttribute("data-dnd") !== "column") {
      putBack(card, from, event.oldIndex);
      announce("“" + title + "” cannot be moved there.", true);
      return;
    }
    var board = document.getElementById("board");
    if (board) board.setAttribute("aria-busy", "true");
    card.classList.add("is-moving");
    window.htmx.ajax("POST", "/board/move", {
      source: form,
      target: "#board",
      swap: "outerHTML",
      values: { to: column.getAttribute("data-stage") },
      headers: { "If-Match": '"' + (card.getAttribute("data-version") || "0") + '"' },
    }).then(settled, settled);

    function settled() {
      window.setTimeout(function () {
        if (!document.body.contains(card)) return;  // the answer replaced the board
        card.classList.remove("is-moving");
        putBack(card, from, event.oldIndex);
        if (board) board.removeAttribute("aria-busy");
        announce("Coterie could not be reached, so “" + title + "” stays where it was.", true);
      }, 150);
    }
  }

  function initBoard(root) {
    if (typeof window.Sortable === "undefined" || !window.htmx) return;
    var lists = root.querySelectorAll ? root.querySelectorAll(".kanban-cards[data-dnd]") : [];
    if (root.matches && root.matches(".kanban-cards[data-dnd]")) lists = [root];
    Array.prototype.forEach.call(lists, function (list) {
      if (list.getAttribute("data-dnd-ready")) return;
      list.setAttribute("data-dnd-ready", "1");
      window.Sortable.create(list, {
        group: { name: "board", pull: true, put: list.getAttribute("data-dnd") === "column" },
        draggable: ".deal-card",
        ghostClass: "deal-card-ghost",
        chosenClass: "deal-card-chosen",
        animation: 120,
        onEnd: onDrop,
      });
    });
  }

  // A chevron scrolls the board to its column (inside the board's own scrolling box) when every
  // column is shown; its link (filter the board to that stage) still works without script, and
  // when the board shows one stage.
  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var link = event.target.closest && event.target.closest(".chevrons a[data-column]");
    if (!link) return;
    var column = document.getElementById(link.getAttribute("data-column"));
    var box = document.getElementById("kanban-scroll");
    if (!column || !box || box.querySelectorAll(".kanban-column").length < 2) return;
    event.preventDefault();
    event.stopPropagation();  // in the capture phase: htmx's own click handler never runs
    var delta = column.getBoundingClientRect().left - box.getBoundingClientRect().left;
    box.scrollLeft += delta - 4;
    box.scrollTop = 0;
    if (box.getBoundingClientRect().top < 0) box.scrollIntoView({ block: "start" });
    Array.prototype.forEach.call(box.querySelectorAll(".kanban-column.is-target"), function (c) {
      c.classList.remove("is-target");
    });
    column.classList.add("is-target");
    var title = column.querySelector(".kanban-title");
    if (title) title.focus({ preventScroll: true });
  }, true);

  // The board keeps its scroll position when a move re-renders it.
  var boardScroll = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = document.getElementById("kanban-scroll");
    var target = event.detail && event.detail.target;
    if (!box || !target || target.id !== "board") return;
    boardScroll = { left: box.scrollLeft, top: box.scrollTop };
  });
  document.addEventListener("htmx:afterSwap", function () {
    var box = document.getElementById("kanban-scroll");
    if (!box || !boardScroll) return;
    box.scrollLeft = boardScroll.left;
    box.scrollTop = boardScroll.top;
    boardScroll = null;
  });

  // The table's column chooser stays open across htmx swaps of the table.
  var openPanels = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "record-table") return;
    openPanels = Array.prototype.map.call(target.querySelectorAll("details[open][data-keep-open]"), function (d) {
      return d.id;
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "record-table") return;
    openPanels.forEach(function (id) {
      var panel = document.getElementById(id);
      if (panel) panel.open = true;
    });
  });

  function start() {
    document.documentElement.classList.add("js");
    if (window.htmx) {
      window.htmx.onLoad(initBoard);
    }
    initBoard(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
