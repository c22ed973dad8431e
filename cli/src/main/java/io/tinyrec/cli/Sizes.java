package io.tinyrec.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;

/** Flag converters for sizes such as 64MiB and durations such as 90m. */
final class Sizes {
  private Sizes() {}

  /** Bytes: a number with an optional B, KiB, MiB or GiB (KB/MB/GB mean the same binary units). */
  static final class ByteSize implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      String v = value.trim().toUpperCase(Locale.ROOT);
      long mult = 1;
      for (String[] u : new String[][] {{"GIB", "1073741824"}, {"GB", "1073741824"}, {"MIB", "1048576"},
          {"MB", "1048576"}, {"KIB", "1024"}, {"KB", "1024"}, {"B", "1"}}) {
        if (v.endsWith(u[0])) {
          mult = Long.parseLong(u[1]);
          v = v.substring(0, v.length() - u[0].length()).trim();
          break;
        }
      }
      try {
        long bytes = Math.multiplyExact(Long.parseLong(v), mult);
        if (bytes > Integer.MAX_VALUE || bytes < 0) {
          throw new CommandLine.TypeConversionException("size " + value + " is out of range");
        }
        return (int) bytes;
      } catch (NumberFormatException | ArithmeticException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a size such as 1048576, 512KiB or 64MiB");
      }
    }
  }

  /** A duration: a number with ms, s, m, h or d. */
  static final class Span implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        return switch (v.charAt(v.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          case 'd' -> Duration.ofDays(n);
          default -> throw new NumberFormatException();
        };
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 90s, 30m, 1h or 7d");
      }
    }
  }
}
