package io.tinyrec.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Every schema as released is kept under src/test/resources/released/vN/. The current schema of the
 * same name must be able to read data written with each of them (Avro schema resolution), so topics
 * written by older builds stay readable. A released file is never edited: a new release adds vN+1.
 */
class SchemaEvolutionTest {

  static Stream<Path> releasedSchemas() throws IOException, URISyntaxException {
    Path root = Path.of(SchemaEvolutionTest.class.getResource("/released").toURI());
    List<Path> all = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> p.toString().endsWith(".avsc")).sorted().forEach(all::add);
    }
    return all.stream();
  }

  private static Schema parse(Path p, Schema metrics) {
    try {
      Schema.Parser parser = new Schema.Parser();
      if (metrics != null && !p.getFileName().toString().equals("ModelMetrics.avsc")) {
        parser.addTypes(List.of(metrics));
      }
      return parser.parse(p.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("releasedSchemas")
  void shouldReadEveryReleasedSchemaWithTheCurrentOne(Path released) {
    Schema metrics = parse(released.resolveSibling("ModelMetrics.avsc"), null);
    Schema writer = parse(released, metrics);
    Schema reader = current(writer.getFullName());
    SchemaCompatibility.SchemaPairCompatibility c =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    assertEquals(SchemaCompatibilityType.COMPATIBLE, c.getType(),
        released + " can no longer be read by the current schema: " + c.getResult().getIncompatibilities());
  }

  @Test
  void shouldKeepAReleasedCopyOfEveryCurrentSchema() throws Exception {
    List<String> names = releasedSchemas().map(p -> p.getFileName().toString()).distinct().toList();
    for (Schema s : WireSchemas.ALL) {
      assertTrue(names.contains(s.getName() + ".avsc"), "no released copy of " + s.getName()
          + ": copy it to schemas/src/test/resources/released/vN/ when it ships");
    }
  }

  @Test
  void shouldShipTheAvscFilesInTheJarForOtherTools() throws IOException {
    for (Schema s : WireSchemas.ALL) {
      try (InputStream in = WireSchemas.class.getResourceAsStream("/avro/" + s.getName() + ".avsc")) {
        assertFalse(in == null, s.getName() + ".avsc is missing from the jar");
      }
    }
  }

  @Test
  void shouldFlagAnIncompatibleChangeSuchAsANewFieldWithoutDefault() {
    Schema old = ScoredEvent.getClassSchema();
    Schema bad = new Schema.Parser().parse(old.toString().replace(
        "{\"name\":\"processingTime\"", "{\"name\":\"newField\",\"type\":\"int\"},{\"name\":\"processingTime\""));
    assertEquals(SchemaCompatibilityType.INCOMPATIBLE,
        SchemaCompatibility.checkReaderWriterCompatibility(bad, old).getType());
  }

  private static Schema current(String fullName) {
    if (fullName.equals(ModelMetrics.getClassSchema().getFullName())) {
      return ModelMetrics.getClassSchema();
    }
    return WireSchemas.ALL.stream().filter(s -> s.getFullName().equals(fullName)).findFirst()
        .orElseThrow(() -> new AssertionError("released schema " + fullName + " has no current schema"));
  }
}
