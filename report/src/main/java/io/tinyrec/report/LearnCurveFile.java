package io.tinyrec.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a learn run for the report: the JSON lines of {@code learn --curve FILE} (see
 * {@link LearnCurveWriter} for the fields), or the single line of {@code learn --json}, which gives
 * one point (the end of the run). The run is labelled by the file's name without its extension.
 * Stateless.
 */
public final class LearnCurveFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private LearnCurveFile() {}

  /**
   * Reads one file.
   *
   * @throws IllegalArgumentException naming the file and line, for a missing file, a line that is
   *     not a JSON object, a line without {@code rows}, or rows that go backwards
   * @throws IOException on a read error
   */
  public static RunCurve read(Path file) throws IOException {
    List<CurvePoint> points = new ArrayList<>();
    int window = 0;
    double wall = Double.NaN;
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int no = 0;
      while ((line = in.readLine()) != null) {
        no++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException(file + " line " + no + ": not JSON (" + e.getOriginalMessage()
              + "): " + abbreviate(line));
        }
        if (n == null || !n.isObject()) {
          throw new IllegalArgumentException(file + " line " + no + ": expected a JSON object, got " + abbreviate(line));
        }
        JsonNode rows = n.get("rows");
        if (rows == null || !rows.canConvertToLong() || rows.asLong() < 0) {
          throw new IllegalArgumentException(file + " line " + no + ": no \"rows\" count (a non-negative integer); "
              + "is this the output of `tinyrec learn --curve FILE` or `learn --json`?");
        }
        long r = rows.asLong();
        CurvePoint prev = points.isEmpty() ? null : points.get(points.size() - 1);
        if (prev != null && r < prev.events()) {
          throw new IllegalArgumentException(file + " line " + no + ": rows " + r + " after " + prev.events()
              + ": rows must not go back (are two runs in one file?)");
        }
        double seconds = num(n, "wall_seconds", file, no);
        double rate = num(n, "rows_per_s", file, no);
        CurvePoint p = new CurvePoint(r, seconds, num(n, "auc", file, no), num(n, "ne", file, no),
            num(n, "logloss", file, no), num(n, "window_auc", file, no), num(n, "window_ne", file, no),
            num(n, "window_logloss", file, no), rate);
        if (prev != null && r == prev.events()) {
          points.set(points.size() - 1, p); // a learn --json line after the curve's last line: the same moment
        } else {
          points.add(p);
        }
        if (n.hasNonNull("metrics_window")) {
          window = (int) num(n, "metrics_window", file, no);
        }
        if (Double.isFinite(seconds)) {
          wall = seconds;
        }
      }
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    }
    if (points.isEmpty()) {
      throw new IllegalArgumentException(file + ": no curve lines (the file is empty)");
    }
    return new RunCurve(label(file), file.toString(), window, points, throughput(points, wall), wall);
  }

  /**
   * Rows per second in about 100 spans of wall-clock time (at least 0.5 s each, or a quarter of a
   * shorter run), from the points'
   * rows and seconds: a line every 1,000 rows is a few tens of milliseconds apart, too short a span
   * for a readable rate.
   */
  static List<RatePoint> throughput(List<CurvePoint> points, double wall) {
    List<RatePoint> out = new ArrayList<>();
    if (!(wall > 0)) {
      return out;
    }
    double span = Math.min(Math.max(0.5, wall / 100), wall / 4); // a short run still gets a few spans
    long rows0 = 0;
    double t0 = 0;
    for (CurvePoint p : points) {
      if (Double.isFinite(p.seconds()) && p.seconds() - t0 >= span) {
        out.add(new RatePoint(p.seconds(), (p.events() - rows0) / (p.seconds() - t0)));
        rows0 = p.events();
        t0 = p.seconds();
      }
    }
    return out;
  }

  /** The file name without .jsonl, .json or .txt. */
  static String label(Path file) {
    String name = file.getFileName().toString();
    for (String ext : new String[] {".jsonl", ".json", ".txt"}) {
      if (name.endsWith(ext) && name.length() > ext.length()) {
        return name.substring(0, name.length() - ext.length());
      }
    }
    return name;
  }

  private static double num(JsonNode n, String field, Path file, int line) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return Double.NaN;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException(file + " line " + line + ": field \"" + field + "\" is " + v
          + ", expected a number or null");
    }
    return v.asDouble();
  }

  private static String abbreviate(String line) {
    return line.length() <= 120 ? line : line.substring(0, 117) + "...";
  }
}
