package io.pgcopy.connect.runner;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TaskFailedTest {
  @Test
  void theMessageIsThePgcopyCauseNotConnectsWrapper() {
    String trace =
        "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to"
            + " unrecoverable exception.\n"
            + "\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(X.java:1)\n"
            + "Caused by: org.apache.kafka.connect.errors.ConnectException: \"public\".\"orders\":"
            + " the target lacks the type order_status: create it first\n"
            + "\tat io.pgcopy.connect.sink.PgCopySinkTask.put(PgCopySinkTask.java:1)\n"
            + "Caused by: org.postgresql.util.PSQLException: ERROR: type does not exist\n";
    assertThat(TaskFailed.message(trace))
        .isEqualTo(
            "\"public\".\"orders\": the target lacks the type order_status: create it first");
  }

  @Test
  void aTraceWithoutCausesGivesItsFirstLine() {
    assertThat(
            TaskFailed.message(
                "org.apache.kafka.connect.errors.ConnectException: range 3 of t: denied\n\tat x"))
        .isEqualTo("range 3 of t: denied");
    assertThat(TaskFailed.message("plain words: no class\n")).isEqualTo("plain words: no class");
  }
}
