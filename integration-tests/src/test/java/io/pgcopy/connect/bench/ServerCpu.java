package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU seconds of one PostgreSQL server, whole: its postmaster, every live child (sessions,
 * background processes) and the children that ended (accounted to the postmaster when it reaped
 * them), so a session that ends within a measurement, like a COPY pipe's, still counts. Linux only.
 */
final class ServerCpu {
  private ServerCpu() {}

  /** CPU seconds so far. */
  static double seconds(PostgresServer server) throws Exception {
    Path pidFile = server.serverLog().getParent().resolve("postmaster.pid");
    long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    double ticks = 0;
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.matches("\\d+")) {
          continue;
        }
        String stat = ProcessCpu.readStat(p);
        if (stat == null) {
          continue;
        }
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long pid = Long.parseLong(name);
        long parent = Long.parseLong(f[1]);
        if (pid == postmaster) {
          // utime, stime, cutime, cstime
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
          ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } else if (parent == postmaster) {
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
      }
    }
    return ticks / 100.0;
  }
}
