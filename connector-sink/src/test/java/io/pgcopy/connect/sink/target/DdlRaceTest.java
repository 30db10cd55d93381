package io.pgcopy.connect.sink.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class DdlRaceTest {
  @Test
  void losingAConcurrentCreateIsRecognisedWhateverCatalogObjectClashed() {
    for (String state : new String[] {"23505", "42P07", "42P06", "42710"}) {
      assertThat(DdlRace.lostToConcurrentCreate(new SQLException("already exists", state)))
          .as(state)
          .isTrue();
    }
    assertThat(DdlRace.lostToConcurrentCreate(new SQLException("permission denied", "42501")))
        .isFalse();
  }
}
