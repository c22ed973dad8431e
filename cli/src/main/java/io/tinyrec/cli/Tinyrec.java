package io.tinyrec.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tinyrec} command. Each subcommand is its own class; this one only wires them and maps
 * errors to exit codes: 0 success, 1 a failure while running, 2 a bad flag or value.
 */
@Command(name = "tinyrec", mixinStandardHelpOptions = true, versionProvider = Tinyrec.Version.class,
    description = "Streaming online learner for a compressed DLRM click model.",
    subcommands = {
        DemoCommand.class,
        GenerateCommand.class,
        LearnCommand.class,
        KafkaCommand.class,
        TopicsCommand.class,
        ReplayCommand.class,
        TrainCommand.class,
        ScoreCommand.class,
        ServeCommand.class,
        SnapshotCommand.class,
        BenchTrainCommand.class,
        BenchSyncCommand.class,
        ReportCommand.class,
        CommandLine.HelpCommand.class
    })
public final class Tinyrec implements Runnable {
  public static final int EXIT_USAGE = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, shared by main and tests. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Tinyrec());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setUnmatchedOptionsAllowedAsOptionParameters(false);
    cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
      if (ex instanceof IllegalArgumentException) {
        line.getErr().println(line.getCommandSpec().qualifiedName() + ": " + ConfigFlags.message(ex));
        line.getErr().println("Try '" + line.getCommandSpec().qualifiedName() + " --help'.");
        return EXIT_USAGE;
      }
      if (ex instanceof IllegalStateException && ex.getMessage() != null) {
        // A condition the command explains (Kafka unreachable, a topic too small): the message says
        // what happened and what to do; the stack of causes would bury it.
        line.getErr().println(line.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
        return 1;
      }
      line.getErr().println(line.getCommandSpec().qualifiedName() + ": failed: " + ex);
      Throwable c = ex.getCause();
      while (c != null) {
        line.getErr().println("  caused by: " + c);
        c = c.getCause();
      }
      return 1;
    });
    return cl;
  }

  /** Reports the build's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Tinyrec.class.getPackage().getImplementationVersion();
      return new String[] {"tinyrec " + (v == null ? "0.1.0-SNAPSHOT" : v) + ", Java " + Runtime.version()};
    }
  }
}
