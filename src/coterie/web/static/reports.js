// Report charts: Chart.js (/static/vendor/chart.umd.min.js) draws every <canvas data-chart>
// from the JSON the server put there (reports/pages.py), once on load and again after each
// htmx swap (builder preview, dashboard filter bar). "Download PNG" saves the canvas under the
// report's name. The table under each chart holds the same numbers for keyboard and
// screen-reader users, and for printing.
(function () {
  if (window.coterieReports) return;
  window.coterieReports = true;

  var PALETTE = ["#3b5bdb", "#12b886", "#f59f00", "#e64980", "#7950f2", "#15aabf", "#fa5252", "#82c91e", "#868e96", "#fd7e14"];

  function config(data) {
    var type = data.type;
    var chartType = { pie: "pie", line: "line", funnel: "bar", stacked_bar: "bar" }[type] || "bar";
    var datasets = data.datasets.map(function (set, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: chartType === "pie" ? data.labels.map(function (_, j) { return PALETTE[j % PALETTE.length]; }) : colour,
        borderColor: colour,
        fill: false,
        tension: 0.2,
      };
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: datasets.length > 1 || chartType === "pie" }, title: { display: false } },
    };
    if (chartType !== "pie") {
      options.scales = { x: { stacked: !!data.stacked }, y: { stacked: !!data.stacked, beginAtZero: true } };
      var axes = data.datasets.map(function (set) { return set.axis; });
      if (axes.indexOf("money") >= 0 && axes.indexOf("other") >= 0 && type !== "funnel") {
        // amounts and counts side by side: counts get their own scale on the right
        datasets.forEach(function (set, i) { set.yAxisID = axes[i] === "money" ? "y" : "y1"; });
        options.scales.y1 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
      }
    }
    if (type === "funnel") {
      // a funnel: horizontal bars, largest first, in the stages' order
      options.indexAxis = "y";
      options.scales = { x: { beginAtZero: true }, y: {} };
    }
    return { type: chartType, data: { labels: data.labels, datasets: datasets }, options: options };
  }

  function draw(root) {
    if (typeof window.Chart !== "function") return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.getAttribute("data-drawn")) return;
      try {
        var data = JSON.parse(canvas.getAttribute("data-chart"));
        new window.Chart(canvas, config(data));
        canvas.setAttribute("data-drawn", "1");
      } catch (e) {
        canvas.closest(".report-chart").classList.add("is-failed");
      }
    });
  }

  function filename(name) {
    return (name || "report").replace(/[\\/:*?"<>|]+/g, " ").trim() + ".png";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-download-chart]");
    if (!button) return;
    var canvas = document.getElementById(button.getAttribute("data-download-chart"));
    if (!canvas) return;
    var link = document.createElement("a");
    link.href = canvas.toDataURL("image/png");
    link.download = filename(canvas.getAttribute("data-name"));
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
