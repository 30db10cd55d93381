package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** CPU seconds per process of a benchmark, read from /proc (Linux). */
final class ProcessCpu {
  /** A thread's line in a jstack dump: its name and CPU milliseconds. */
  private static final Pattern THREAD_CPU = Pattern.compile("(?m)^\"([^\"]*)\".*? cpu=([0-9.]+)ms");

  private ProcessCpu() {}

  /** What {@link #cpu} gives now, less {@code before}. */
  static double[] since(double[] before, ConnectWorker worker, KafkaBroker broker)
      throws Exception {
    double[] now = cpu(worker.pid(), broker.pid());
    double[] used = new double[now.length];
    for (int i = 0; i < now.length; i++) {
      used[i] = now[i] - before[i];
    }
    return used;
  }

  /**
   * CPU seconds (user + system) used so far by the worker, the broker, every postgres process, and
   * the worker's and the broker's JIT compiler threads (already counted in the first two).
   */
  static double[] cpu(long workerPid, long brokerPid) throws Exception {
    double pg = 0;
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        if (p.getFileName().toString().matches("\\d+")) {
          String stat = readStat(p);
          if (stat != null && stat.contains("(postgres)")) {
            pg += ticks(stat);
          }
        }
      }
    }
    return new double[] {
      ticks(readStat(Path.of("/proc/" + workerPid))),
      ticks(readStat(Path.of("/proc/" + brokerPid))),
      pg,
      jitTicks(workerPid),
      jitTicks(brokerPid)
    };
  }

  /** CPU seconds of a JVM's JIT compiler threads (named "C1 CompilerThre..", "C2 ..."). */
  static double jitTicks(long pid) throws Exception {
    double sum = 0;
    try (var threads = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) threads::iterator) {
        String stat = readStat(t);
        if (stat != null && stat.matches("(?s)\\d+ \\(C\\d CompilerThre.*")) {
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        }
      }
    }
    return sum;
  }

  /**
   * CPU seconds so far of a JVM's threads by name, digits folded ("kafka-request-handler-3" counts
   * as "kafka-request-handler-#"), so JIT, garbage collection and each kind of thread can be told
   * apart: the {@code cpu=} of each thread in the JDK's {@code jstack} (full thread names, where
   * /proc cuts them at 15 characters). Threads that ended are not counted.
   */
  static Map<String, Double> threads(long pid) throws Exception {
    Process jstack =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jstack").toString(),
                String.valueOf(pid))
            .redirectErrorStream(true)
            .start();
    String dump = new String(jstack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    jstack.waitFor();
    Map<String, Double> byName = new HashMap<>();
    Matcher m = THREAD_CPU.matcher(dump);
    while (m.find()) {
      byName.merge(
          m.group(1).replaceAll("\\d+", "#"), Double.parseDouble(m.group(2)) / 1000, Double::sum);
    }
    return byName;
  }

  /**
   * The thread groups of {@link #threads} that used the most CPU between {@code before} and {@code
   * after}, largest first: at most {@code top}, those under 0.1 s left out.
   */
  static String topThreads(Map<String, Double> before, Map<String, Double> after, int top) {
    Map<String, Double> used = new HashMap<>();
    after.forEach((name, s) -> used.put(name, s - before.getOrDefault(name, 0.0)));
    return largestFirst(used, 0.1, top);
  }

  /**
   * "name 1.2, other 0.4": the CPU seconds of {@code used}, largest first, at most {@code top},
   * those under {@code least} left out.
   */
  static String largestFirst(Map<String, Double> used, double least, int top) {
    return used.entrySet().stream()
        .filter(e -> e.getValue() >= least)
        .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .limit(top)
        .map(e -> String.format("%s %.1f", e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
  }

  static String readStat(Path proc) {
    try {
      return Files.readString(proc.resolve("stat"));
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * utime + stime of a /proc/PID/stat line, with the waited-for children's (cutime + cstime), in
   * seconds (USER_HZ = 100): a PostgreSQL backend that ends (a table-sync worker, a walsender)
   * leaves its CPU time to the postmaster, so the sum over live processes stays whole.
   */
  static double ticks(String stat) {
    if (stat == null) {
      return 0;
    }
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11])
            + Long.parseLong(f[12])
            + Long.parseLong(f[13])
            + Long.parseLong(f[14]))
        / 100.0;
  }

  /** cutime + cstime of a /proc/PID/stat line: the CPU seconds of its waited-for children. */
  static double childTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / 100.0;
  }
}
