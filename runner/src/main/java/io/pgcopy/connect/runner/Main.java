package io.pgcopy.connect.runner;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar pgcopy-runner.jar <command>}: see {@link Demo}. */
@Command(
    name = "pgcopy",
    mixinStandardHelpOptions = true,
    version = "pgcopy-connect runner 0.1.0",
    description =
        "Runs pgcopy-connect on this machine, on an embedded Kafka broker and Connect worker.",
    subcommands = {Demo.class, Migrate.class})
public final class Main {
  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          if (e instanceof TaskFailed || e instanceof BadInput) {
            // one line, what failed and why; the worker's log in the state directory has the rest
            command.getErr().println("pgcopy: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    System.exit(cli.execute(args));
  }
}
