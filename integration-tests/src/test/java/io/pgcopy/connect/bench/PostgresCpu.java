package io.pgcopy.connect.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU seconds of every PostgreSQL process on the machine, by what the process does (its title in
 * /proc/PID/cmdline: the walsender, the subscriber's apply worker, the client sessions of each
 * database, background processes), so a benchmark can say which part of PostgreSQL a pipeline keeps
 * busy. Linux only; a process that ends between two readings loses its CPU from the split.
 */
final class PostgresCpu {
  /** Per process id: CPU seconds (utime + stime) so far. */
  private final Map<Long, Double> seconds;

  /** Per process id: what it does. */
  private final Map<Long, String> kinds;

  private PostgresCpu(Map<Long, Double> seconds, Map<Long, String> kinds) {
    this.seconds = seconds;
    this.kinds = kinds;
  }

  /**
   * Reads every postgres process now; {@code labels} names some by process id (for example the
   * benchmark's own polling session), overriding their title.
   */
  static PostgresCpu read(Map<Long, String> labels) throws Exception {
    Map<Long, Double> seconds = new HashMap<>();
    Map<Long, String> kinds = new HashMap<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.matches("\\d+")) {
          continue;
        }
        String stat = ProcessCpu.readStat(p);
        if (stat == null || !stat.contains("(postgres)")) {
          continue;
        }
        long pid = Long.parseLong(name);
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        seconds.put(pid, (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0);
        kinds.put(pid, labels.getOrDefault(pid, kind(title(p))));
      }
    }
    return new PostgresCpu(seconds, kinds);
  }

  /** CPU seconds used since {@code before}, per kind of process, largest first in the text. */
  String since(PostgresCpu before) {
    Map<String, Double> byKind = new TreeMap<>();
    for (Map.Entry<Long, Double> e : seconds.entrySet()) {
      double used = e.getValue() - before.seconds.getOrDefault(e.getKey(), 0.0);
      byKind.merge(kinds.get(e.getKey()), used, Double::sum);
    }
    return ProcessCpu.largestFirst(byKind, 0.05, Integer.MAX_VALUE);
  }

  /** CPU seconds the processes of one kind used since {@code before}. */
  double seconds(PostgresCpu before, String kind) {
    double used = 0;
    for (Map.Entry<Long, Double> e : seconds.entrySet()) {
      if (kind.equals(kinds.get(e.getKey()))) {
        used += e.getValue() - before.seconds.getOrDefault(e.getKey(), 0.0);
      }
    }
    return used;
  }

  private static String title(Path proc) {
    try {
      return new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ')
          .trim();
    } catch (Exception e) {
      return "";
    }
  }

  /**
   * What a postgres process does, from its title: "postgres: walsender user host(port) ..." for a
   * replication connection, "postgres: logical replication worker for subscription N" for a
   * subscriber's apply worker, "postgres: user database host(port) activity" for a client session,
   * "postgres: checkpointer" and others for background work; the postmaster keeps its command line.
   */
  static String kind(String title) {
    if (!title.startsWith("postgres: ")) {
      return "postmaster";
    }
    String rest = title.substring("postgres: ".length());
    if (rest.startsWith("walsender ")) {
      return "walsender";
    }
    if (rest.startsWith("logical replication launcher")) {
      return "background";
    }
    if (rest.startsWith("logical replication")) {
      // "logical replication worker for subscription N" applies; "... N sync M" copies a table
      return rest.contains(" sync ") ? "table sync worker" : "apply worker";
    }
    String[] words = rest.split(" ");
    if (words.length >= 3 && (words[2].startsWith("127.0.0.1(") || words[2].equals("[local]"))) {
      return "sessions of " + words[1];
    }
    return "background";
  }
}
