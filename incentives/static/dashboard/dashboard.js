/* City dashboard: draws the figures embedded in the page with the vendored ECharts, and
 * refreshes them by itself at the roll-up's pace (data-refresh-seconds on #as-of): it
 * fetches the page's own URL, parses it (DOMParser), swaps the summary cards' contents and
 * the 数据截至 line, and redraws each chart in place (setOption) from the new embedded
 * data: no reload, no scroll jump, no inline script (the CSP forbids it). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var t = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var charts = [];
  var byId = {};
  var COLORS = ["#c0392b", "#2e86c1", "#27ae60", "#f39c12", "#8e44ad", "#16a085", "#7f8c8d"];

  function empty(rows) {
    return !rows.length ? { title: { text: t.empty, left: "center", top: "middle",
      textStyle: { color: "#999", fontSize: 14, fontWeight: "normal" } } } : {};
  }

  function draw(id, option) {
    var el = document.getElementById(id);
    var chart = byId[id];
    if (!chart) {
      chart = echarts.init(el, null, { renderer: "canvas" });
      chart.on("finished", function () { el.setAttribute("data-rendered", "1"); });
      charts.push(chart);
      byId[id] = chart;
    }
    // notMerge: the new figures replace the old ones (an empty chart's title goes away)
    chart.setOption(Object.assign({ color: COLORS, animation: false }, option), true);
    chart.resize();
  }

  // A bar chart grows with its rows so that every name has room (ECharts would drop
  // every other label of a crowded axis).
  function fitHeight(id, rows, perRow, extra) {
    var el = document.getElementById(id);
    el.style.height = Math.max(240, rows * perRow + extra) + "px";
  }

  function bars(rows, limit) {
    var top = rows.slice(0, limit).reverse();
    return Object.assign({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [t.claims, t.redemptions], top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: top.map(function (r) { return r.label; }),
               axisLabel: { width: 140, overflow: "truncate", interval: 0 } },
      series: [
        { name: t.claims, type: "bar", data: top.map(function (r) { return r.claims; }) },
        { name: t.redemptions, type: "bar", data: top.map(function (r) { return r.redemptions; }) }
      ]
    }, empty(rows));
  }

  function drawAll(data) {
    var s = data.series;
    draw("chart-series", {
      tooltip: { trigger: "axis" },
      legend: { data: [t.claims, t.redemptions, t.cancelled], top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: s.map(function (r) { return r.period; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: t.claims, type: "line", data: s.map(function (r) { return r.claims; }) },
        { name: t.redemptions, type: "line", data: s.map(function (r) { return r.redemptions; }) },
        { name: t.cancelled, type: "bar", data: s.map(function (r) { return r.cancelled; }) }
      ]
    });

    var cat = data.breakdowns.category;
    draw("chart-category", Object.assign({
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ name: t.claims, type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
                 data: cat.map(function (r) { return { name: r.label, value: r.claims }; }) }]
    }, empty(cat)));

    var homeCities = data.breakdowns.home_city;
    fitHeight("chart-home-city", Math.min(homeCities.length, 40), 30, 70);
    fitHeight("chart-merchant", Math.min(data.breakdowns.merchant.length, 10), 30, 70);
    draw("chart-merchant", bars(data.breakdowns.merchant, 10));

    var sc = data.breakdowns.scenario.slice().reverse();
    draw("chart-scenario", Object.assign({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [t.claims, t.redemptions, t.uses], top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: sc.map(function (r) { return r.label; }) },
      series: [
        { name: t.claims, type: "bar", data: sc.map(function (r) { return r.claims; }) },
        { name: t.redemptions, type: "bar", data: sc.map(function (r) { return r.redemptions; }) },
        { name: t.uses, type: "bar", data: sc.map(function (r) { return r.uses; }) }
      ]
    }, empty(sc)));

    var rf = data.breakdowns.refusal_reason.slice().reverse();
    draw("chart-refusals", Object.assign({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rf.map(function (r) { return r.label; }),
               axisLabel: { width: 220, overflow: "break" } },
      series: [{ name: t.refusals, type: "bar", itemStyle: { color: "#7f8c8d" },
                 data: rf.map(function (r) { return r.refusals; }) }]
    }, empty(rf)));
    draw("chart-home-city", bars(homeCities, 40));

    // Cross-city flows: tall enough for one label line per city on the busier side, small
    // flows' labels kept apart (nodeGap) and never drawn over each other (hideOverlap).
    var links = data.flows.filter(function (r) { return r.claims > 0; });
    var nodes = {};
    var from = {}, to = {};
    links.forEach(function (r) {
      nodes[r.home_city_name + t.from_suffix] = true;
      nodes[r.dest_city_name + t.to_suffix] = true;
      from[r.home_city_name] = true;
      to[r.dest_city_name] = true;
    });
    var busier = Math.max(Object.keys(from).length, Object.keys(to).length);
    fitHeight("chart-flows", busier, 30, 40);
    var narrow = document.getElementById("chart-flows").clientWidth < 520;
    draw("chart-flows", Object.assign({
      tooltip: { trigger: "item" },
      series: [{
        type: "sankey", labelLayout: { hideOverlap: true }, left: 8, right: narrow ? 118 : 140, top: 8, bottom: 8, nodeGap: 14,
        nodeWidth: 14, layoutIterations: 64,
        label: { fontSize: narrow ? 11 : 12, overflow: "truncate", width: narrow ? 114 : 134 },
        emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", opacity: 0.4 },
        data: Object.keys(nodes).map(function (name) { return { name: name }; }),
        links: links.map(function (r) {
          return { source: r.home_city_name + t.from_suffix, target: r.dest_city_name + t.to_suffix,
                   value: r.claims };
        })
      }]
    }, empty(links)));
  }

  drawAll(data);

  // ------------------------------------------------------------------ refresh by itself
  var asOf = document.getElementById("as-of");
  var seconds = Number(asOf && asOf.getAttribute("data-refresh-seconds")) || 0;
  var refreshes = 0;

  function swap(fresh, id) {
    var now = document.getElementById(id);
    var next = fresh.getElementById(id);
    if (now && next && now.innerHTML !== next.innerHTML) now.innerHTML = next.innerHTML;
  }

  function refresh() {
    if (document.hidden) return schedule(); // again when it is looked at
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (res) {
        // signed out meanwhile (a redirect to the login page) or a failure: keep the figures
        if (!res.ok || res.redirected) throw new Error("no page");
        return res.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var json = fresh.getElementById("dashboard-data");
        if (!json) throw new Error("no data");
        var next = JSON.parse(json.textContent);
        var y = window.scrollY;
        swap(fresh, "summary");
        swap(fresh, "as-of");
        drawAll(next);
        if (window.scrollY !== y) window.scrollTo(0, y); // a chart's height changed above
        refreshes += 1;
        document.documentElement.setAttribute("data-refreshes", String(refreshes));
      })
      .catch(function () { /* offline or signed out: try again next time */ })
      .then(schedule);
  }

  function schedule() {
    if (seconds > 0) window.setTimeout(refresh, seconds * 1000);
  }

  schedule();

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
  document.documentElement.setAttribute("data-charts", String(charts.length));
})();
