package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU seconds per process of a benchmark, read from /proc (Linux). */
final class ProcessCpu {
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
