// The collaboration graph on /network, drawn with Cytoscape.js from /network/graph.json (the
// same data as GET /api/v1/network/graph). Selecting a company opens its page; the table under
// the graph holds the same connections for keyboard and screen-reader users.
(function () {
  if (window.coterieNetwork) return;
  window.coterieNetwork = true;

  function start() {
    var box = document.getElementById("network-graph");
    if (!box || typeof window.cytoscape !== "function" || !window.fetch) return;
    window
      .fetch(box.getAttribute("data-graph-url"), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        if (!response.ok) throw new Error("graph: HTTP " + response.status);
        return response.json();
      })
      .then(function (graph) {
        draw(box, graph);
      })
      .catch(function () {
        box.classList.add("is-failed");
      });
  }

  function draw(box, graph) {
    var heaviest = 1;
    graph.edges.forEach(function (edge) {
      if (edge.weight > heaviest) heaviest = edge.weight;
    });
    var elements = graph.nodes.map(function (node) {
      return {
        group: "nodes",
        data: { id: node.id, label: node.name, role: node.role, shared: node.shared_with_me },
        classes: node.role,
      };
    });
    graph.edges.forEach(function (edge) {
      elements.push({
        group: "edges",
        data: {
          id: edge.source + "-" + edge.target,
          source: edge.source,
          target: edge.target,
          weight: edge.weight,
          label: String(edge.weight),
        },
        classes: edge.source === graph.me || edge.target === graph.me ? "mine" : "between",
      });
    });
    box.classList.add("is-drawn");
    var cy = window.cytoscape({
      container: box,
      elements: elements,
      userZoomingEnabled: false,
      boxSelectionEnabled: false,
      autoungrabify: false,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "background-color": "#ffffff",
            "border-width": 2,
            "border-color": "#4338ca",
            width: 34,
            height: 34,
            color: "#1b2130",
            "font-size": 12,
            "font-family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
            "text-valign": "bottom",
            "text-margin-y": 6,
            "text-wrap": "ellipsis",
            "text-max-width": 140,
            "text-background-color": "#ffffff",
            "text-background-opacity": 0.85,
            "text-background-padding": 2,
            "z-index": 10, // names above the lines that cross them
          },
        },
        {
          selector: "node.me",
          style: {
            "background-color": "#4338ca",
            "border-color": "#312e81",
            width: 46,
            height: 46,
            "font-weight": 700,
          },
        },
        {
          selector: "node.pending",
          style: { "border-style": "dashed", "border-color": "#8a5300", color: "#4a5468" },
        },
        {
          selector: "edge",
          style: {
            "z-index": 1,
            width: "mapData(weight, 1, " + Math.max(heaviest, 2) + ", 2, 10)",
            "line-color": "#a5b4fc",
            "curve-style": "bezier",
            label: "data(label)",
            "font-size": 11,
            color: "#3730a3",
            "text-background-color": "#ffffff",
            "text-background-opacity": 1,
            "text-background-padding": 2,
          },
        },
        { selector: "edge.between", style: { "line-color": "#c9ced8", color: "#4a5468" } },
        {
          selector: "node:active, node:selected",
          style: { "overlay-opacity": 0.12, "overlay-color": "#2563eb" },
        },
      ],
      layout: {
        name: "concentric",
        // my company in the middle, partners I share records with around it, the rest outside
        concentric: function (node) {
          if (node.data("role") === "me") return 3;
          return node.data("shared") > 0 ? 2 : 1;
        },
        levelWidth: function () {
          return 1;
        },
        minNodeSpacing: 70,
        avoidOverlap: true,
        padding: 30,
        animate: false,
      },
    });
    cy.on("tap", "node", function (event) {
      window.location.assign("/companies/" + encodeURIComponent(event.target.id()));
    });
    cy.on("mouseover", "node", function () {
      box.classList.add("is-pointing");
    });
    cy.on("mouseout", "node", function () {
      box.classList.remove("is-pointing");
    });
    window.addEventListener("resize", function () {
      cy.resize();
      cy.fit(undefined, 30);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// "More" menus (`<details class="menu">`) on the home and network pages: choosing an item that
// opens a confirmation dialog folds the menu; a click elsewhere or Escape folds an open menu.
(function () {
  if (window.coterieMenus) return;
  window.coterieMenus = true;

  function fold(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    var menu = event.target.closest ? event.target.closest("details.menu") : null;
    if (menu && event.target.closest("[data-dialog-open]")) {
      menu.removeAttribute("open");
      return;
    }
    fold(menu);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (!open) return;
    open.removeAttribute("open");
    var summary = open.querySelector("summary");
    if (summary) summary.focus();
  });
})();

// Partnership counters: an answer (accept, decline, withdraw, end) comes back with an
// `HX-Trigger: {"partnership-counts": {"partners-count": 2, ...}}` header; each counter the page
// shows (`<span class="count" id="partners-count">`) takes its fresh value, without a reload.
(function () {
  if (window.coterieCounts) return;
  window.coterieCounts = true;
  document.addEventListener("partnership-counts", function (event) {
    var counts = event.detail || {};
    Object.keys(counts).forEach(function (id) {
      if (!/-count$/.test(id)) return;
      var counter = document.getElementById(id);
      if (counter) counter.textContent = String(counts[id]);
    });
  });
})();
