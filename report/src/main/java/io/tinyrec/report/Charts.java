package io.tinyrec.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's plots, drawn with JFreeChart and written as PNG files. Each method builds one chart
 * from {@link ReportData}; {@link #save} renders it. Rendering needs no display (the report sets
 * {@code java.awt.headless=true}) but does need a font the JDK can find (fontconfig and e.g. DejaVu
 * on Linux). Stateless.
 */
final class Charts {
  /** Line colours, one per run (colour-blind-safe palette of Okabe and Ito). */
  private static final Color[] PALETTE = {new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73),
      new Color(0xCC79A7), new Color(0xE69F00), new Color(0x56B4E9), new Color(0x000000)};
  private static final Color DRIFT = new Color(0xC00000);
  private static final Color LABEL_BACKGROUND = new Color(255, 255, 255, 210);
  private static final Stroke SOLID = new BasicStroke(2.0f);
  private static final Stroke DASHED = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
      new float[] {6f, 4f}, 0f);
  private static final Stroke MARKER = new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
      new float[] {4f, 4f}, 0f);

  private Charts() {}

  static Color color(int run) {
    return PALETTE[run % PALETTE.length];
  }

  /**
   * A metric over events: the whole run dashed, the window solid; drift and recovery marked.
   * {@code drifts[i]} is run i's analysis, or null.
   */
  static JFreeChart metricOverEvents(String title, String yLabel, ReportData data, DriftAnalysis[] drifts,
      ToDoubleFunction<CurvePoint> overall, ToDoubleFunction<CurvePoint> window, boolean withSnapshots,
      boolean markThreshold, boolean clipStart) {
    XYSeriesCollection lines = new XYSeriesCollection();
    XYLineAndShapeRenderer lineRenderer = new XYLineAndShapeRenderer(true, false);
    lineRenderer.setDrawSeriesLineAsPath(true); // one path per series, so the dashes run on across points
    int s = 0;
    for (int i = 0; i < data.runs().size(); i++) {
      RunCurve run = data.runs().get(i);
      String w = run.metricsWindow() > 0 ? String.format(Locale.ROOT, "window of %,d", run.metricsWindow()) : "window";
      lines.addSeries(series(run.label() + ", " + w, run.points(), p -> p.events(), window));
      lineRenderer.setSeriesPaint(s, color(i));
      lineRenderer.setSeriesStroke(s++, SOLID);
      lines.addSeries(series(run.label() + ", whole run", run.points(), p -> p.events(), overall));
      lineRenderer.setSeriesPaint(s, color(i));
      lineRenderer.setSeriesStroke(s++, DASHED);
    }
    JFreeChart chart = lineChart(title, "events scored", yLabel, lines, lineRenderer);
    XYPlot plot = chart.getXYPlot();
    if (clipStart) {
      clipToSettled(plot, data, overall, window);
    }
    if (withSnapshots && !data.snapshots().isEmpty()) {
      XYSeriesCollection snaps = new XYSeriesCollection();
      long mw = data.snapshots().get(data.snapshots().size() - 1).metricsWindow();
      XYSeries ser = new XYSeries(String.format(Locale.ROOT, "snapshots: the job's merger's window AUC (window of %,d)",
          mw), false, true);
      for (SnapshotPoint p : data.snapshots()) {
        if (Double.isFinite(p.windowAuc())) {
          ser.add(p.eventsTrained(), p.windowAuc());
        }
      }
      snaps.addSeries(ser);
      XYLineAndShapeRenderer dots = new XYLineAndShapeRenderer(false, true);
      dots.setSeriesPaint(0, Color.DARK_GRAY);
      dots.setSeriesShape(0, new Ellipse2D.Double(-3, -3, 6, 6));
      plot.setDataset(1, snaps);
      plot.setRenderer(1, dots);
    }
    java.util.Set<Long> marked = new java.util.HashSet<>();
    for (int run = 0; run < drifts.length; run++) {
      DriftAnalysis d = drifts[run];
      if (d == null) {
        continue;
      }
      if (marked.add(d.driftAt())) {
        addDomainMarker(plot, d.driftAt(), String.format(Locale.ROOT, "%s %,d", d.detected() ? "drift found near"
            : "drift at", d.driftAt()), DRIFT);
      }
      if (markThreshold) {
        ValueMarker t = new ValueMarker(d.threshold(), color(run), MARKER);
        t.setLabel(String.format(Locale.ROOT, "%s: window AUC before drift %.4f - %.2f", data.runs().get(run).label(),
            d.beforeAuc(), d.tolerance()));
        t.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        t.setLabelPaint(color(run));
        t.setLabelBackgroundColor(LABEL_BACKGROUND);
        t.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
        t.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        t.setLabelOffset(new RectangleInsets(2, 4, 2, 2));
        plot.addRangeMarker(t, Layer.FOREGROUND);
        if (d.recovered() && !d.heldUp()) {
          ValueMarker m = addDomainMarker(plot, d.recoveredAt(), String.format(Locale.ROOT, "back within %.2f at %,d",
              d.tolerance(), d.recoveredAt()), color(run));
          // Bottom left of its line: clear of the drift label, and inside the plot near its right edge.
          m.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
          m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
          m.setLabelOffset(new RectangleInsets(2, 2, 2 + 16 * run, 2)); // one row per run

        }
      }
    }
    return chart;
  }

  /**
   * Fits the value axis to the points after the first 5% of each run's events: a fresh model's NE
   * starts far above 1 and would flatten everything after it. The early values run off the top.
   */
  private static void clipToSettled(XYPlot plot, ReportData data, ToDoubleFunction<CurvePoint> overall,
      ToDoubleFunction<CurvePoint> window) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (RunCurve run : data.runs()) {
      long from = run.events() / 20;
      for (CurvePoint p : run.points()) {
        if (p.events() < from) {
          continue;
        }
        for (double v : new double[] {overall.applyAsDouble(p), window.applyAsDouble(p)}) {
          if (Double.isFinite(v)) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
      }
    }
    if (lo < hi) {
      double pad = 0.08 * (hi - lo);
      plot.getRangeAxis().setRange(lo - pad, hi + pad);
    }
  }

  /** Model version over time, one step line per model name. */
  static JFreeChart versions(ReportData data) {
    XYSeriesCollection ds = new XYSeriesCollection();
    for (Map.Entry<String, List<SnapshotPoint>> e : byModel(data.snapshots()).entrySet()) {
      XYSeries s = new XYSeries("model " + e.getKey(), false, true);
      e.getValue().forEach(p -> s.add(p.seconds(), p.version()));
      ds.addSeries(s);
    }
    XYStepRenderer r = new XYStepRenderer();
    r.setDefaultShapesVisible(true);
    styleSeries(r, ds.getSeriesCount());
    JFreeChart chart = lineChart("Model versions published", "seconds since the first event", "model version", ds, r);
    ((NumberAxis) chart.getXYPlot().getRangeAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    return chart;
  }

  /** Snapshot codec size over time, one line per model name. */
  static JFreeChart snapshotSizes(ReportData data) {
    XYSeriesCollection ds = new XYSeriesCollection();
    for (Map.Entry<String, List<SnapshotPoint>> e : byModel(data.snapshots()).entrySet()) {
      XYSeries s = new XYSeries("model " + e.getKey(), false, true);
      e.getValue().forEach(p -> s.add(p.seconds(), p.codecBytes() / (1024.0 * 1024.0)));
      ds.addSeries(s);
    }
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    styleSeries(r, ds.getSeriesCount());
    JFreeChart chart = lineChart("Snapshot size", "seconds since the first event", "snapshot codec size (MiB)", ds, r);
    ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(true);
    return chart;
  }

  /** Events (or rows) per second over wall-clock time, one line per run. */
  static JFreeChart throughput(ReportData data) {
    XYSeriesCollection ds = new XYSeriesCollection();
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    int s = 0;
    for (int i = 0; i < data.runs().size(); i++) {
      RunCurve run = data.runs().get(i);
      if (run.throughput().isEmpty()) {
        continue;
      }
      XYSeries ser = new XYSeries(run.label(), false, true);
      run.throughput().forEach(p -> ser.add(p.seconds(), p.eventsPerSecond()));
      ds.addSeries(ser);
      r.setSeriesPaint(s, color(i));
      r.setSeriesStroke(s++, SOLID);
    }
    JFreeChart chart = lineChart("Throughput", "seconds since the first event", "events scored per second", ds, r);
    ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(true);
    return chart;
  }

  static void save(JFreeChart chart, Path file, int width, int height) throws IOException {
    ChartUtils.saveChartAsPNG(file.toFile(), chart, width, height);
  }

  private static Map<String, List<SnapshotPoint>> byModel(List<SnapshotPoint> snaps) {
    Map<String, List<SnapshotPoint>> m = new LinkedHashMap<>();
    for (SnapshotPoint p : snaps) {
      m.computeIfAbsent(p.model(), k -> new ArrayList<>()).add(p);
    }
    return m;
  }

  private static void styleSeries(XYLineAndShapeRenderer r, int n) {
    for (int i = 0; i < n; i++) {
      r.setSeriesPaint(i, color(i));
      r.setSeriesStroke(i, SOLID);
      r.setSeriesShape(i, new Ellipse2D.Double(-3, -3, 6, 6));
    }
  }

  private static XYSeries series(String name, List<CurvePoint> pts, ToDoubleFunction<CurvePoint> x,
      ToDoubleFunction<CurvePoint> y) {
    XYSeries s = new XYSeries(name, false, true);
    for (CurvePoint p : pts) {
      double yv = y.applyAsDouble(p);
      if (Double.isFinite(yv)) {
        s.add(x.applyAsDouble(p), yv);
      }
    }
    return s;
  }

  private static JFreeChart lineChart(String title, String xLabel, String yLabel, XYSeriesCollection ds,
      XYLineAndShapeRenderer renderer) {
    NumberAxis x = new NumberAxis(xLabel);
    x.setAutoRangeIncludesZero(false);
    NumberAxis y = new NumberAxis(yLabel);
    y.setAutoRangeIncludesZero(false);
    XYPlot plot = new XYPlot(ds, x, y, renderer);
    plot.setOrientation(PlotOrientation.VERTICAL);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xDDDDDD));
    plot.setRangeGridlinePaint(new Color(0xDDDDDD));
    plot.setOutlineVisible(false);
    JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    chart.setAntiAlias(true);
    return chart;
  }

  private static ValueMarker addDomainMarker(XYPlot plot, double x, String label, Color color) {
    ValueMarker m = new ValueMarker(x, color, MARKER);
    m.setLabelBackgroundColor(LABEL_BACKGROUND);
    m.setLabel(label);
    m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    m.setLabelPaint(color);
    m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
    m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
    plot.addDomainMarker(m, Layer.FOREGROUND);
    return m;
  }
}
