/* City dashboard: draws the figures embedded in the page with the vendored ECharts. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var t = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var charts = [];
  var COLORS = ["#c0392b", "#2e86c1", "#27ae60", "#f39c12", "#8e44ad", "#16a085", "#7f8c8d"];

  function empty(rows) {
    return !rows.length ? { title: { text: t.empty, left: "center", top: "middle",
      textStyle: { color: "#999", fontSize: 14, fontWeight: "normal" } } } : {};
  }

  function draw(id, option) {
    var el = document.getElementById(id);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.on("finished", function () { el.setAttribute("data-rendered", "1"); });
    chart.setOption(Object.assign({ color: COLORS, animation: false }, option));
    charts.push(chart);
  }

  function bars(rows, limit) {
    var top = rows.slice(0, limit).reverse();
    return Object.assign({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: [t.claims, t.redemptions], top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: top.map(function (r) { return r.label; }),
               axisLabel: { width: 140, overflow: "truncate" } },
      series: [
        { name: t.claims, type: "bar", data: top.map(function (r) { return r.claims; }) },
        { name: t.redemptions, type: "bar", data: top.map(function (r) { return r.redemptions; }) }
      ]
    }, empty(rows));
  }

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
             axisLabel: { width: 160, overflow: "truncate" } },
    series: [{ name: t.refusals, type: "bar", itemStyle: { color: "#7f8c8d" },
               data: rf.map(function (r) { return r.refusals; }) }]
  }, empty(rf)));
  draw("chart-home-city", bars(data.breakdowns.home_city, 17));

  var links = data.flows.filter(function (r) { return r.claims > 0; });
  var nodes = {};
  links.forEach(function (r) {
    nodes[r.home_city_name + t.from_suffix] = true;
    nodes[r.dest_city_name + t.to_suffix] = true;
  });
  draw("chart-flows", Object.assign({
    tooltip: { trigger: "item" },
    series: [{
      type: "sankey", left: 8, right: 120, top: 8, bottom: 8, nodeGap: 6,
      emphasis: { focus: "adjacency" }, lineStyle: { color: "gradient", opacity: 0.4 },
      data: Object.keys(nodes).map(function (name) { return { name: name }; }),
      links: links.map(function (r) {
        return { source: r.home_city_name + t.from_suffix, target: r.dest_city_name + t.to_suffix,
                 value: r.claims };
      })
    }]
  }, empty(links)));

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
  document.documentElement.setAttribute("data-charts", String(charts.length));
})();
