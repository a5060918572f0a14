// Report charts and the builder's filter rows.
//
// Charts: Chart.js (/static/vendor/chart.umd.min.js) draws every <canvas data-chart> from the
// JSON the server put there (reports/presenting.py), once on load and again after each htmx swap
// (builder preview, dashboard filter bar). Every measure is a dataset with a unit (count, money,
// percent, days); each unit gets its own axis (the first on the left, the others on the right),
// counts tick in whole numbers, money reads in the report's currency. "Download PNG" saves the
// canvas under the report's name. The table under each chart holds the same numbers.
//
// Filter rows: "Add filter" asks the server for a new row (GET /reports/filter-row), and a row
// whose field or condition changes is fetched again with the value input that fits; "Remove"
// takes the row out. Changing the records kind fetches every row again for that kind.
(function () {
  if (window.coterieReports) return;
  window.coterieReports = true;

  var PALETTE = ["#3b5bdb", "#12b886", "#f59f00", "#e64980", "#7950f2", "#15aabf", "#fa5252", "#82c91e", "#868e96", "#fd7e14"];
  var UNIT_TITLES = { count: "Count", percent: "Rate", days: "Days" };

  function formatter(unit, currency) {
    if (unit === "money") {
      var money;
      try {
        money = new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD", minimumFractionDigits: 0, maximumFractionDigits: 0 });
      } catch (e) {
        money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
      }
      return function (v) { return money.format(v); };
    }
    if (unit === "percent") return function (v) { return (Math.round(v * 1000) / 10) + "%"; };
    if (unit === "days") return function (v) { return v.toLocaleString() + " d"; };
    return function (v) { return Number.isInteger(v) ? v.toLocaleString() : ""; };
  }

  function axisTitle(unit, currency, labels) {
    if (labels.length === 1) return labels[0];
    if (unit === "money") return "Amount (" + currency + ")";
    return UNIT_TITLES[unit] || "";
  }

  function valueScale(unit, currency, labels, extra) {
    var scale = {
      beginAtZero: true,
      ticks: { callback: formatter(unit, currency), maxTicksLimit: 6 },
      title: { display: true, text: axisTitle(unit, currency, labels) },
    };
    if (unit === "count") scale.ticks.precision = 0; // whole numbers: no 0.2, 0.4
    Object.keys(extra || {}).forEach(function (key) { scale[key] = extra[key]; });
    return scale;
  }

  function config(data) {
    var type = data.type;
    var chartType = { pie: "pie", line: "line", funnel: "bar", stacked_bar: "bar" }[type] || "bar";
    var currency = data.currency;
    var units = [];
    data.datasets.forEach(function (set) { if (units.indexOf(set.unit) < 0) units.push(set.unit); });
    var axisOf = function (unit) { return units.indexOf(unit) <= 0 ? "y" : "y1"; };
    var stacks = [];
    var datasets = data.datasets.map(function (set, i) {
      var colour = PALETTE[i % PALETTE.length];
      var out = {
        label: set.label,
        data: set.data,
        unit: set.unit,
        backgroundColor: chartType === "pie" ? data.labels.map(function (_, j) { return PALETTE[j % PALETTE.length]; }) : colour,
        borderColor: colour,
        fill: false,
        tension: 0.2,
      };
      if (set.stack) {
        out.stack = set.stack;
        if (stacks.indexOf(set.stack) < 0) stacks.push(set.stack);
      }
      return out;
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: datasets.length > 1 || chartType === "pie", position: "bottom" },
        title: { display: false },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var value = typeof ctx.raw === "number" ? formatter(ctx.dataset.unit, currency)(ctx.raw) : "n/a";
              if (ctx.dataset.unit === "count" && typeof ctx.raw === "number") value = ctx.raw.toLocaleString();
              return (chartType === "pie" ? ctx.label : ctx.dataset.label) + ": " + value;
            },
          },
        },
      },
    };
    if (chartType === "pie") {
      return { type: chartType, data: { labels: data.labels, datasets: datasets }, options: options };
    }
    var stacked = !!data.stacked;
    var labelsOn = function (axis) {
      return datasets.filter(function (set) { return axisOf(set.unit) === axis; }).map(function (set) { return stacks.length ? set.stack : set.label; })
        .filter(function (label, i, all) { return all.indexOf(label) === i; });
    };
    if (type === "funnel") {
      // a funnel: horizontal bars in the stages' order, the first unit's scale along them
      options.indexAxis = "y";
      options.scales = { x: valueScale(units[0], currency, labelsOn("y")), y: {} };
      datasets.forEach(function (set) { set.xAxisID = "x"; });
      return { type: chartType, data: { labels: data.labels, datasets: datasets }, options: options };
    }
    datasets.forEach(function (set) { set.yAxisID = axisOf(set.unit); });
    options.scales = {
      x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 45 } },
      y: valueScale(units[0], currency, labelsOn("y"), { stacked: stacked }),
    };
    if (units.length > 1) {
      options.scales.y1 = valueScale(units[1], currency, labelsOn("y1"), {
        stacked: stacked, position: "right", grid: { drawOnChartArea: false },
      });
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

  // --- filter rows ------------------------------------------------------------------------------

  function rowList(el) { return el.closest("form").querySelector("#report-filter-rows"); }

  function fetchRow(list, index, params, target, swap, focusId) {
    if (!window.htmx) return;
    var form = list.closest("form");
    var kind = form.querySelector("[name='kind']");
    var query = new URLSearchParams();
    query.set("kind", kind ? kind.value : "");
    query.set("index", String(index));
    Object.keys(params).forEach(function (key) {
      [].concat(params[key]).forEach(function (value) { query.append(key, value); });
    });
    window.htmx.ajax("GET", list.getAttribute("data-filter-url") + "?" + query.toString(), { target: target, swap: swap })
      .then(function () {
        var focus = focusId && document.getElementById(focusId);
        if (focus) focus.focus();
      });
  }

  function rowParams(row, withOp) {
    var index = row.getAttribute("data-filter-row");
    var field = row.querySelector("[data-filter-field]");
    var params = { field: field ? field.value : "" };
    if (withOp) {
      var op = row.querySelector("[data-filter-op]");
      if (op) params.op = op.value;
      var values = [];
      row.querySelectorAll("[name='filter." + index + ".value']").forEach(function (input) {
        if (input.multiple) {
          [].forEach.call(input.selectedOptions, function (o) { values.push(o.value); });
        } else if (input.value) {
          values.push(input.value);
        }
      });
      params.value = values;
    }
    return params;
  }

  function nextIndex(list) {
    var top = -1;
    list.querySelectorAll("[data-filter-row]").forEach(function (row) {
      top = Math.max(top, parseInt(row.getAttribute("data-filter-row"), 10));
    });
    return top + 1;
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-filter-add]");
    if (add) {
      var list = rowList(add);
      var index = nextIndex(list);
      fetchRow(list, index, {}, list, "beforeend", "rf-" + index + "-field");
      return;
    }
    var remove = event.target.closest("[data-filter-remove]");
    if (remove) {
      var row = remove.closest("[data-filter-row]");
      var form = row.closest("form");
      row.remove();
      var again = form.querySelector("[data-filter-add]");
      if (again) again.focus();
      return;
    }
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

  document.addEventListener("change", function (event) {
    var target = event.target;
    var row = target.closest && target.closest("[data-filter-row]");
    if (row && (target.matches("[data-filter-field]") || target.matches("[data-filter-op]"))) {
      var withOp = target.matches("[data-filter-op]");
      fetchRow(rowList(row), row.getAttribute("data-filter-row"), rowParams(row, withOp), row, "outerHTML", target.id);
      return;
    }
    if (target.name === "kind" && target.closest("form.report-builder")) {
      var list = target.closest("form").querySelector("#report-filter-rows");
      if (!list) return;
      list.querySelectorAll("[data-filter-row]").forEach(function (each) {
        fetchRow(list, each.getAttribute("data-filter-row"), rowParams(each, true), each, "outerHTML", null);
      });
    }
  });

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
