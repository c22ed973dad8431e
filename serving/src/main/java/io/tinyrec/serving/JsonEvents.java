package io.tinyrec.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.tinyrec.model.data.CriteoRow;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads the JSON body of {@code POST /score} into rows. A body is one event, an array of events, or
 * {@code {"events": [...]}}. An event is a ClickEvent as JSON (the form tools/decode_topic.py
 * prints): {@code dense}, 13 integers or nulls (I1..I13); {@code cats}, 26 values or nulls (C1..C26),
 * each an unsigned 32-bit integer or the 8 hex digits of the TSV file as a string; optionally
 * {@code label} (0, 1 or null, not used to score) and the ClickEvent's other fields {@code eventId},
 * {@code key}, {@code eventTime}, {@code sourceDay} and {@code sourceLine}, which are ignored. The
 * fields become a row through {@link CriteoRow#of}, the conversion the training job applies to
 * every ClickEvent.
 *
 * <p>Anything else is refused with a {@link BadRequestException} naming the event, the field and
 * the value: malformed JSON (with its line and column), an unknown field, a missing or
 * wrong-length array, a fraction, NaN or an out-of-range number. Stateless and thread-safe.
 */
public final class JsonEvents {
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).maxNumberLength(40).build())
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final Set<String> IGNORED = Set.of("eventId", "key", "eventTime", "sourceDay", "sourceLine");
  private static final String FIELDS = "dense and cats, optionally label, eventId, key, eventTime, sourceDay, sourceLine";

  private JsonEvents() {}

  /** The rows of a request body, in order. */
  public static List<CriteoRow> parse(byte[] body, int off, int len) throws BadRequestException {
    try (JsonParser p = JSON.createParser(body, off, len)) {
      JsonToken t = p.nextToken();
      List<CriteoRow> rows = new ArrayList<>();
      if (t == JsonToken.START_ARRAY) {
        readArray(p, rows);
      } else if (t == JsonToken.START_OBJECT) {
        // Either {"events": [...]} or a single event.
        String first = p.nextFieldName();
        if ("events".equals(first)) {
          if (p.nextToken() != JsonToken.START_ARRAY) {
            throw new BadRequestException("\"events\" must be an array of events, got " + describe(p));
          }
          readArray(p, rows);
          JsonToken after = p.nextToken();
          if (after != JsonToken.END_OBJECT) {
            throw new BadRequestException("a batch object has only the field \"events\", found \"" + p.currentName()
                + "\" too");
          }
        } else {
          rows.add(readEvent(p, 0, first));
        }
      } else {
        throw new BadRequestException("the body must be a JSON event, an array of events or {\"events\": [...]}, "
            + "got " + (t == null ? "nothing" : describe(p)));
      }
      if (p.nextToken() != null) {
        throw new BadRequestException("unexpected " + describe(p) + " after the end of the JSON value at "
            + where(p));
      }
      if (rows.isEmpty()) {
        throw new BadRequestException("no events to score: the batch is empty");
      }
      return rows;
    } catch (JsonParseException e) {
      throw new BadRequestException("invalid JSON at " + where(e) + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadRequestException("unreadable JSON: " + e.getMessage());
    }
  }

  private static void readArray(JsonParser p, List<CriteoRow> rows) throws IOException, BadRequestException {
    int i = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t != JsonToken.START_OBJECT) {
        throw new BadRequestException("event " + i + " must be a JSON object, got " + describe(p));
      }
      rows.add(readEvent(p, i, p.nextFieldName()));
      i++;
    }
  }

  /** Reads one event whose START_OBJECT and first field name (null if none) were consumed. */
  private static CriteoRow readEvent(JsonParser p, int index, String firstField) throws IOException,
      BadRequestException {
    String at = "event " + index;
    List<Integer> dense = null;
    List<Long> cats = null;
    Integer label = null;
    for (String name = firstField; name != null; name = p.nextFieldName()) {
      JsonToken v = p.nextToken();
      switch (name) {
        case "dense" -> dense = readDense(p, at);
        case "cats" -> cats = readCats(p, at);
        case "label" -> label = readLabel(p, at);
        default -> {
          if (!IGNORED.contains(name)) {
            throw new BadRequestException(at + ": unknown field \"" + name + "\" (an event has " + FIELDS + ")");
          }
          if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
            p.skipChildren();
          }
        }
      }
    }
    if (p.currentToken() != JsonToken.END_OBJECT) {
      throw new BadRequestException(at + ": expected a field name or the end of the event, got " + describe(p));
    }
    if (dense == null) {
      throw new BadRequestException(at + ": field \"dense\" is missing (13 integers or nulls, I1..I13)");
    }
    if (cats == null) {
      throw new BadRequestException(at + ": field \"cats\" is missing (26 values or nulls, C1..C26)");
    }
    try {
      return CriteoRow.of(label, dense, cats);
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(at + ": " + e.getMessage());
    }
  }

  private static List<Integer> readDense(JsonParser p, String at) throws IOException, BadRequestException {
    expectArray(p, at, "dense", "13 integers or nulls (I1..I13)");
    List<Integer> out = new ArrayList<>(CriteoRow.NUM_DENSE);
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      String field = at + ": dense[" + out.size() + "] (I" + (out.size() + 1) + ")";
      if (t == JsonToken.VALUE_NULL) {
        out.add(null);
      } else if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
        out.add(p.getIntValue());
      } else if (t == JsonToken.VALUE_NUMBER_INT) {
        throw new BadRequestException(field + " is " + p.getText() + ", outside the 32-bit integer range");
      } else {
        throw new BadRequestException(field + " must be an integer or null, got " + describe(p));
      }
    }
    return out;
  }

  private static List<Long> readCats(JsonParser p, String at) throws IOException, BadRequestException {
    expectArray(p, at, "cats", "26 values or nulls (C1..C26)");
    List<Long> out = new ArrayList<>(CriteoRow.NUM_CATS);
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      String field = at + ": cats[" + out.size() + "] (C" + (out.size() + 1) + ")";
      if (t == JsonToken.VALUE_NULL) {
        out.add(null);
      } else if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
        long v = p.getLongValue();
        if (v < 0 || v > 0xFFFF_FFFFL) {
          throw new BadRequestException(field + " is " + v + ", outside 0..4294967295");
        }
        out.add(v);
      } else if (t == JsonToken.VALUE_STRING) {
        out.add(hex8(p.getText(), field));
      } else {
        throw new BadRequestException(field + " must be an unsigned 32-bit integer, 8 hex digits or null, got "
            + describe(p));
      }
    }
    return out;
  }

  private static Integer readLabel(JsonParser p, String at) throws IOException, BadRequestException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
      int v = p.getIntValue();
      if (v == 0 || v == 1) {
        return v;
      }
    }
    throw new BadRequestException(at + ": label must be 0, 1 or null, got " + describe(p));
  }

  private static long hex8(String s, String field) throws BadRequestException {
    if (s.length() != 8) {
      throw new BadRequestException(field + " is \"" + clip(s) + "\": a string value must be eight hex digits");
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      int d = Character.digit(s.charAt(i), 16);
      if (d < 0) {
        throw new BadRequestException(field + " is \"" + clip(s) + "\": a string value must be eight hex digits");
      }
      v = v << 4 | d;
    }
    return v;
  }

  private static void expectArray(JsonParser p, String at, String name, String what) throws BadRequestException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new BadRequestException(at + ": \"" + name + "\" must be an array of " + what + ", got " + describe(p));
    }
  }

  /** A token as the message shows it: its text for values, its kind for structure. */
  private static String describe(JsonParser p) {
    JsonToken t = p.currentToken();
    if (t == null) {
      return "the end of the body";
    }
    try {
      return switch (t) {
        case START_OBJECT -> "an object";
        case START_ARRAY -> "an array";
        case VALUE_STRING -> "the string \"" + clip(p.getText()) + "\"";
        case VALUE_TRUE, VALUE_FALSE, VALUE_NULL, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> clip(p.getText());
        default -> t.asString() == null ? t.name() : t.asString();
      };
    } catch (IOException e) {
      return t.name();
    }
  }

  private static String where(JsonParser p) {
    return "line " + p.currentLocation().getLineNr() + ", column " + p.currentLocation().getColumnNr();
  }

  private static String where(JsonParseException e) {
    return e.getLocation() == null ? "an unknown place"
        : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  private static String clip(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
