// Owns the few lines of JavaScript the report page runs: draw each chart spec with the inlined
// ECharts (`window.echarts`), with the one tooltip formatter the specs name (`'tip'`: the data item's
// prepared HTML), and resize the charts with the window. Kept as text: it runs in the browser, not here.
export const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-charts').textContent);
  function tip(params) {
    var item = params.data || {};
    if (item.tip) return item.tip;
    return params.seriesName + ': ' + (Array.isArray(params.value) ? params.value.join(', ') : params.value);
  }
  var charts = [];
  data.forEach(function (spec) {
    var el = document.getElementById('chart-' + spec.id);
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    if (spec.option.tooltip && spec.option.tooltip.formatter === 'tip') spec.option.tooltip.formatter = tip;
    chart.setOption(spec.option);
    charts.push(chart);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute('data-charts-ready', String(charts.length));
})();
`;
