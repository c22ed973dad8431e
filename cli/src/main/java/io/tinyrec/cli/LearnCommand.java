package io.tinyrec.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder wiring; the real learn command is written next. */
@Command(name = "learn", mixinStandardHelpOptions = true)
public final class LearnCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    return 0;
  }
}
