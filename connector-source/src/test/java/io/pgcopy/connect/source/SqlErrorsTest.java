package io.pgcopy.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {
  /** Typed as Object: a ConnectException is also an Iterable of its causes to AssertJ's overloads. */
  private static Object classify(Exception e) {
    return SqlErrors.translate(SqlErrors.sqlCause(e), "reading t");
  }

  @Test
  void aServerErrorInsideTheCopyStreamsIoExceptionIsFoundAndClassified() {
    // PGCopyInputStream reports the server's error as an IOException caused by it
    IOException io = new IOException("Database connection failed when reading from copy",
        new SQLException("ERROR: no binary output function available for type seg", "42883"));
    ConnectException failure = (ConnectException) classify(io);
    assertThat((Object) failure).isNotInstanceOf(RetriableException.class);
    assertThat(failure.getMessage()).contains("reading t", "no binary output function", "42883",
        "table.include.list");
  }

  @Test
  void connectionTroubleAndABusySlotAreRetriedPrivilegeAndSyntaxAreNot() {
    assertThat(classify(new SQLException("terminating connection", "57P01"))).isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("connection reset", "08006"))).isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("replication slot is active", "55006"))).isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("invalid snapshot identifier", "22023")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("permission denied for table t", "42501")))
        .isNotInstanceOf(RetriableException.class);
    assertThat((Object) SqlErrors.sqlCause(new IOException("disk full"))).isNull();
  }

  @Test
  void backoffGrowsWithJitterUpToItsCapAndStartsOverAfterASuccess() {
    Backoff backoff = new Backoff(100, 1000);
    long first = backoff.nextDelayMs();
    assertThat(first).isBetween(50L, 100L);
    assertThat(backoff.nextDelayMs()).isBetween(100L, 200L);
    assertThat(backoff.nextDelayMs()).isBetween(200L, 400L);
    for (int i = 0; i < 40; i++) {
      assertThat(backoff.nextDelayMs()).isBetween(0L, 1000L);
    }
    assertThat(backoff.nextDelayMs()).isBetween(500L, 1000L);
    backoff.succeeded();
    assertThat(backoff.nextDelayMs()).isBetween(50L, 100L);
  }
}
