package io.pgcopy.connect.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RetriesTest {
  private final AtomicLong now = new AtomicLong(1_000_000);

  @Test
  void backoffGrowsWithJitterUpToItsCapAndStartsOverAfterASuccess() {
    Retries retries = new Retries(100, 1000, -1, now::get);
    assertThat(retries.nextDelayMs()).isBetween(50L, 100L);
    assertThat(retries.nextDelayMs()).isBetween(100L, 200L);
    assertThat(retries.nextDelayMs()).isBetween(200L, 400L);
    assertThat(retries.nextDelayMs()).isBetween(400L, 800L);
    for (int i = 0; i < 39; i++) {
      now.addAndGet(3_600_000); // retry.timeout.ms=-1: for ever
      assertThat(retries.nextDelayMs()).isBetween(500L, 1000L);
    }
    assertThat(retries.failures()).isEqualTo(43);
    retries.succeeded();
    assertThat(retries.nextDelayMs()).isBetween(50L, 100L);
  }

  @Test
  void givesUpOnceFailuresInARowHaveLastedTheTimeoutAndNotBefore() {
    Retries retries = new Retries(100, 1000, 10_000, now::get);
    assertThat(retries.nextDelayMs()).isPositive();
    now.addAndGet(9_999);
    assertThat(retries.nextDelayMs()).isPositive();
    now.addAndGet(1);
    assertThat(retries.nextDelayMs()).isEqualTo(-1);
    assertThat(retries.givingUp())
        .isEqualTo("gave up after 3 attempts over 10 s (retry.timeout.ms=10000)");
    // a success starts a new run with a new budget
    retries.succeeded();
    now.addAndGet(60_000);
    assertThat(retries.nextDelayMs()).isPositive();
  }

  @Test
  void aZeroTimeoutRetriesOnceThenGivesUp() {
    Retries retries = new Retries(100, 1000, 0, now::get);
    assertThat(retries.nextDelayMs()).isPositive();
    assertThat(retries.nextDelayMs()).isEqualTo(-1);
  }
}
