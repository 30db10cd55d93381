package io.pgcopy.connect.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Java Flight Recorder profile of another JVM (the worker, the broker) over one phase of a
 * benchmark, taken with the JDK's {@code jcmd} as an operator would: {@code settings=profile}
 * (method samples every 10-20 ms, allocations, locks). Read it with {@code jfr print --events
 * jdk.ExecutionSample} or JDK Mission Control.
 */
final class JvmProfile implements AutoCloseable {
  private static final String NAME = "pgcopy-bench";

  private final long pid;

  private JvmProfile(long pid) {
    this.pid = pid;
  }

  /** Starts recording JVM {@code pid} into {@code file} (written when closed). */
  static JvmProfile start(long pid, Path file) throws Exception {
    jcmd(pid, "JFR.start", "name=" + NAME, "settings=profile", "filename=" + file);
    return new JvmProfile(pid);
  }

  /** Stops the recording and writes its file. */
  @Override
  public void close() throws Exception {
    jcmd(pid, "JFR.stop", "name=" + NAME);
  }

  private static void jcmd(long pid, String... command) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    List<String> args = new ArrayList<>(List.of(jcmd, String.valueOf(pid)));
    args.addAll(List.of(command));
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("jcmd " + String.join(" ", command) + " failed: " + out);
    }
  }
}
