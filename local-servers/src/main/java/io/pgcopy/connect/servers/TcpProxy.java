package io.pgcopy.connect.servers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on a loopback port in front of a server, for network faults in tests: {@link #cut()}
 * resets every connection it carries (as a failed link or a firewall does), {@link #stall} holds
 * every byte in both directions for a while (as a congested or partitioned link does: nothing is
 * lost, the peers just hear nothing), {@link #silence} holds them for good. New connections are
 * accepted throughout.
 */
public final class TcpProxy implements AutoCloseable {
  private static final int BUFFER = 64 * 1024;

  private final ServerSocket listener;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicLong stalledUntilNanos = new AtomicLong(System.nanoTime());
  private final Set<Socket> silenced = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A proxy on a free loopback port relaying to {@code 127.0.0.1:targetPort}. */
  public static TcpProxy to(int targetPort) {
    try {
      return new TcpProxy(targetPort);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The loopback port clients connect to. */
  public int port() {
    return listener.getLocalPort();
  }

  /**
   * Resets every connection now open through the proxy (both sides see a connection reset); later
   * connections go through as before. Returns how many connections were cut.
   */
  public int cut() {
    int n = 0;
    for (Socket s : Set.copyOf(sockets)) {
      abort(s);
      n++;
    }
    return n / 2;
  }

  /**
   * Holds every byte in flight, both ways and on every connection (new ones included), for {@code
   * duration}; then relays them all, in order, as if the link had been slow.
   */
  public void stall(Duration duration) {
    stalledUntilNanos.set(System.nanoTime() + duration.toNanos());
  }

  /**
   * Silences every connection now open, for good: nothing more is relayed on them either way, not
   * even their end (as a network partition that drops packets: no reset ever arrives). Later
   * connections go through. Returns how many connections were silenced.
   */
  public int silence() {
    Set<Socket> now = Set.copyOf(sockets);
    silenced.addAll(now);
    return now.size() / 2;
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    cut();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket();
        try {
          server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
        } catch (IOException refused) {
          abort(client);
          continue;
        }
        for (Socket s : new Socket[] {client, server}) {
          s.setTcpNoDelay(true);
          sockets.add(s);
        }
        pump(client, server, "up");
        pump(server, client, "down");
      } catch (IOException e) {
        if (!closed) {
          sleep(100);
        }
      }
    }
  }

  /** Copies {@code from} to {@code to} on its own thread until either side ends. */
  private void pump(Socket from, Socket to, String direction) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[BUFFER];
              try (from;
                  to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                  awaitFlowing(from, to);
                  out.write(buffer, 0, n);
                }
                awaitFlowing(from, to); // the end of a connection is held too
              } catch (IOException e) {
                // the connection ended (or was cut): the finally of try closes both sides
              } finally {
                sockets.remove(from);
                sockets.remove(to);
                silenced.remove(from);
                silenced.remove(to);
              }
            },
            "tcp-proxy-" + port() + "-" + direction);
    t.setDaemon(true);
    t.start();
  }

  private void awaitFlowing(Socket from, Socket to) {
    long wait;
    while ((wait = stalledUntilNanos.get() - System.nanoTime()) > 0) {
      sleep(Math.max(1, Math.min(200, wait / 1_000_000)));
    }
    while (!closed && (silenced.contains(from) || silenced.contains(to))) {
      sleep(200);
    }
  }

  /** Closes with a reset (SO_LINGER 0), not an orderly FIN: the peer sees the link fail. */
  private static void abort(Socket s) {
    try {
      s.setSoLinger(true, 0);
      s.close();
    } catch (IOException e) {
      // already gone
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
