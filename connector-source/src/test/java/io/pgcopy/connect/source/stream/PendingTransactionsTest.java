package io.pgcopy.connect.source.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.source.stream.PendingTransactions.Tx;
import org.junit.jupiter.api.Test;

class PendingTransactionsTest {
  private final PendingTransactions pending = new PendingTransactions();

  private Tx transaction(long commitLsn, int records, long endLsn) {
    Tx tx = pending.begin(commitLsn);
    for (int i = 0; i < records; i++) {
      tx.sent();
    }
    tx.committed(endLsn);
    return tx;
  }

  @Test
  void aTransactionIsConfirmableOnlyOnceEveryRecordIsAcknowledged() {
    transaction(100, 2, 110);
    assertThat(pending.confirmable(50)).isEqualTo(50);
    pending.acknowledged(100);
    assertThat(pending.confirmable(50)).isEqualTo(50);
    pending.acknowledged(100);
    assertThat(pending.confirmable(50)).isEqualTo(110);
    assertThat(pending.isEmpty()).isTrue();
  }

  @Test
  void confirmationFollowsCommitOrderWhateverTheOrderOfAcknowledgements() {
    transaction(100, 1, 110);
    transaction(200, 1, 210);
    pending.acknowledged(200);
    assertThat(pending.confirmable(0)).as("the older transaction still waits").isZero();
    pending.acknowledged(100);
    assertThat(pending.confirmable(0)).isEqualTo(210);
  }

  @Test
  void aTransactionWhoseCommitWasNotSeenIsNotConfirmable() {
    Tx tx = pending.begin(100);
    tx.sent();
    pending.acknowledged(100);
    assertThat(pending.confirmable(0)).isZero();
    tx.committed(110);
    assertThat(pending.confirmable(0)).isEqualTo(110);
  }

  @Test
  void afterAReconnectACommitCountsOnlyWhenSeenAgain() {
    Tx tx = transaction(100, 1, 110);
    // the poll that built the record failed: the record never reached Connect
    pending.acknowledged(100);
    pending.reconnected();
    assertThat(pending.confirmable(0)).as("dropped with the failed poll, not sent yet").isZero();
    Tx again = pending.begin(100);
    assertThat(again).isSameAs(tx);
    again.sent();
    again.committed(110);
    assertThat(pending.confirmable(0)).isZero();
    pending.acknowledged(100);
    assertThat(pending.confirmable(0)).isEqualTo(110);
  }

  @Test
  void aTransactionSentAgainRestartsItsNumberingAndKeepsItsRecordsInFlight() {
    Tx tx = pending.begin(100);
    tx.seq = 5;
    tx.sent();
    pending.reconnected();
    Tx again = pending.begin(100);
    assertThat(again.seq).isZero();
    assertThat(again.outstanding())
        .as("a record handed to Connect before the reconnect is still awaited")
        .isOne();
  }

  @Test
  void anAcknowledgementOfAConfirmedTransactionIsIgnored() {
    transaction(100, 0, 110);
    assertThat(pending.confirmable(0)).isEqualTo(110);
    pending.acknowledged(100);
    assertThat(pending.confirmable(110)).isEqualTo(110);
    assertThat(pending.oldest()).isNull();
  }
}
