package io.pgcopy.connect.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgcopy.connect.servers.ConnectWorker;
import io.pgcopy.connect.servers.ServerPaths;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two Connect workers in one group, the distributed engine users scale on: the tasks spread over
 * both; the worker running snapshot tasks is killed (SIGKILL) mid-snapshot, and later the one
 * running the stream task mid-stream; each time the survivor takes the tasks over (after {@code
 * scheduled.rebalance.max.delay.ms}, 5 s here) and, under pgbench writes, every table (keyless ones
 * included) ends equal to its source row by row.
 */
class WorkerGroupIT {
  private static final List<String> TABLES =
      List.of(
          "public.pgbench_accounts",
          "public.pgbench_branches",
          "public.pgbench_tellers",
          "public.pgbench_history");

  @RegisterExtension
  static final PipelineExtension servers =
      PipelineExtension.own("replica", Map.of("scheduled.rebalance.max.delay.ms", "5000"));

  private static Pipeline pipeline;
  private static ConnectWorker second;

  @BeforeAll
  static void startServers() {
    // production default: 5 minutes, during which a dead worker's tasks do not run anywhere
    pipeline = servers.pipeline();
    second = ConnectWorker.joining(pipeline.worker, ServerPaths.workDir()).start();
  }

  @AfterAll
  static void stopServers() {
    if (second != null) {
      second.close();
    }
  }

  @Test
  void tasksMoveToTheSurvivorWhenAWorkerDiesMidSnapshotAndMidStream() throws Exception {
    pipeline.source.runTool("pgbench", List.of("-i", "-s", "4", "-q", pipeline.sourceDb));
    pipeline.source.execute(
        pipeline.sourceDb, "ALTER TABLE public.pgbench_history REPLICA IDENTITY FULL");
    Process pgbench =
        pipeline.source.startTool(
            "pgbench",
            List.of("-n", "-c", "2", "-j", "2", "-T", "3600", "-R", "100", pipeline.sourceDb));
    try {
      Map<String, String> source = pipeline.sourceConfig("wg", String.join(",", TABLES));
      source.put("snapshot.mode", "initial");
      source.put("slot.name", "wg");
      source.put("publication.name", "wg");
      source.put("tasks.max", "4");
      source.put("snapshot.range.pages", "200");
      // many small batches: a snapshot long enough to kill a worker in the middle of it
      source.put("batch.max.rows", "200");
      source.put("batch.bytes", "4096");
      pipeline.rest().putConnector("wg-sink", pipeline.sinkConfig("wg"));
      pipeline.rest().putConnector("wg-source", source);

      // the snapshot's tasks spread over both workers; kill the joined one in the middle of it
      Awaitility.await("snapshot tasks on both workers")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> workersOf("wg-source").size() == 2 && tasks("wg-source").size() > 1);
      second.kill();
      String survivor = workerId(pipeline.worker);
      Awaitility.await("the dead worker's tasks running on the survivor")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(
              () ->
                  workersOf("wg-source").equals(Set.of(survivor))
                      && workersOf("wg-sink").equals(Set.of(survivor)));
      second.start();

      // the stream: one task; kill whichever worker runs it
      Awaitility.await("the stream task")
          .atMost(Duration.ofMinutes(4))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> tasks("wg-source").size() == 1);
      String streaming = workersOf("wg-source").iterator().next();
      ConnectWorker victim = workerId(second).equals(streaming) ? second : pipeline.worker;
      ConnectWorker other = victim == second ? pipeline.worker : second;
      victim.kill();
      Awaitility.await("the stream task on the survivor")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(
              () ->
                  statesOn(other, "wg-source").equals(Set.of("RUNNING"))
                      && workersOf(other, "wg-source").equals(Set.of(workerId(other))));
      Thread.sleep(5000); // changes through the moved stream
    } finally {
      pgbench.destroy();
      pgbench.waitFor();
    }
    for (String table : TABLES) {
      pipeline.awaitSame(table, Duration.ofMinutes(4));
    }
  }

  private static String workerId(ConnectWorker w) {
    return w.properties().getProperty("listeners").replace("http://", "");
  }

  private static JsonNode tasks(String connector) {
    return live().rest().status(connector).path("tasks");
  }

  /** A worker that answers: the first, unless it was the one killed. */
  private static ConnectWorker live() {
    try {
      pipeline.worker.rest().get("/");
      return pipeline.worker;
    } catch (RuntimeException e) {
      return second;
    }
  }

  private static Set<String> workersOf(String connector) {
    return workersOf(live(), connector);
  }

  private static Set<String> workersOf(ConnectWorker via, String connector) {
    Set<String> ids = new HashSet<>();
    for (JsonNode t : via.rest().status(connector).path("tasks")) {
      ids.add(t.path("worker_id").asText());
    }
    return ids;
  }

  private static Set<String> statesOn(ConnectWorker via, String connector) {
    Set<String> states = new HashSet<>();
    for (JsonNode t : via.rest().status(connector).path("tasks")) {
      states.add(t.path("state").asText());
    }
    return states;
  }
}
